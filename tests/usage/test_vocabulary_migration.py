"""The data migration ``usage.0006_vocabulary``: rows stored with GitHub's other spellings
get its identifiers; where two spellings become one key the month's rollups are rebuilt
from the items (no unique constraint broken); other months are renamed in place; months
already normalised are not touched; running it twice changes nothing."""

from __future__ import annotations

import importlib
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from tests.factories import OrganizationFactory
from usage.models import Budget, DailyUsage, MonthlyRepositoryUsage, UsageItem, UsageSummary

pytestmark = pytest.mark.django_db
migration = importlib.import_module("usage.migrations.0006_vocabulary")

OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)
SUMS = {
    "quantity": Sum("quantity"),
    "gross_amount": Sum("gross_amount"),
    "discount_amount": Sum("discount_amount"),
    "net_amount": Sum("net_amount"),
    "items": Count("id"),
}


def stored(org, day, product, sku, unit, net, repository="acme-corp/api"):
    return UsageItem(
        organization=org,
        date=day,
        product=product,
        sku=sku,
        unit_type=unit,
        quantity=Decimal(1),
        price_per_unit=Decimal("0.006"),
        gross_amount=net,
        discount_amount=Decimal(0),
        net_amount=net,
        repository=repository,
    )


def build_rollups(org):
    """The rollups as the ingest of the time built them: from the items as stored."""
    for row in (
        UsageItem.objects.filter(organization=org)
        .values("date", "product", "sku", "unit_type")
        .annotate(**SUMS)
    ):
        DailyUsage.objects.create(organization=org, **row)
    for row in (
        UsageItem.objects.filter(organization=org)
        .values("repository", "product", "sku", "date__year", "date__month")
        .annotate(**SUMS)
    ):
        month = date(row.pop("date__year"), row.pop("date__month"), 1)
        MonthlyRepositoryUsage.objects.create(organization=org, month=month, **row)


def rollups_match_items(org) -> None:
    items = UsageItem.objects.filter(organization=org)
    daily = sorted(
        items.values_list("date", "product", "sku", "unit_type").annotate(*SUMS.values())
    )
    fields = ("date", "product", "sku", "unit_type", *SUMS)
    assert sorted(DailyUsage.objects.filter(organization=org).values_list(*fields)) == daily
    for month in {d.replace(day=1) for d in items.values_list("date", flat=True)}:
        in_month = items.filter(date__year=month.year, date__month=month.month)
        keys = in_month.values_list("repository", "product", "sku")
        repos = sorted(keys.annotate(*SUMS.values()))
        rows = MonthlyRepositoryUsage.objects.filter(organization=org, month=month)
        assert sorted(rows.values_list("repository", "product", "sku", *SUMS)) == repos


def test_stored_spellings_become_identifiers_and_rollups_stay_exact():
    org = OrganizationFactory()
    other = OrganizationFactory()
    cent = Decimal("0.0100000000")
    UsageItem.objects.bulk_create(
        [
            # September: two spellings of one key on one day -> rebuilt from the items.
            stored(org, date(2026, 9, 3), "Actions", "Actions Linux", "Minutes", cent),
            stored(org, date(2026, 9, 3), "actions", "actions_linux", "minutes", cent * 2),
            stored(org, date(2026, 9, 3), "copilot", "Copilot Business", "UserMonths", cent, ""),
            # October: old spellings, no two of them meet -> renamed in place.
            stored(org, date(2026, 10, 5), "actions", "Actions storage", "GigabyteHours", cent),
            stored(org, date(2026, 10, 6), "Git LFS", "Git LFS storage", "GigabyteHours", cent),
            # November: already GitHub's identifiers -> not touched.
            stored(org, date(2026, 11, 2), "actions", "actions_linux", "minutes", cent),
            # Another org with the same old spelling.
            stored(other, date(2026, 10, 5), "Actions", "Actions Linux", "Minutes", cent),
        ]
    )
    for o in (org, other):
        build_rollups(o)
    november = list(DailyUsage.objects.filter(organization=org, date__gte=NOV).values())
    UsageSummary.objects.create(
        organization=org,
        month=OCT,
        gross_amount=cent,
        discount_amount=0,
        net_amount=cent,
        fetched_at=timezone.now(),
        items=[{"product": "Actions", "sku": "Actions Linux", "unitType": "Minutes", "n": "1"}],
    )
    sku_budget = Budget.objects.create(
        organization=org,
        github_id="b1",
        budget_type="SkuPricing",
        budget_amount=10,
        product_skus=["Actions Linux", "copilot_ai_credits"],
        fetched_at=timezone.now(),
    )
    product_budget = Budget.objects.create(
        organization=org,
        github_id="b2",
        budget_type="ProductPricing",
        budget_amount=10,
        product_skus=["Git LFS"],
        fetched_at=timezone.now(),
    )

    done = migration.normalise(apps, connection)

    assert done == {"months": 3, "rebuilt": 1, "summaries": 1, "budgets": 2}
    assert sorted(set(UsageItem.objects.values_list("product", "sku", "unit_type"))) == [
        ("actions", "actions_linux", "minutes"),
        ("actions", "actions_storage", "gigabyte-hours"),
        ("copilot", "copilot_for_business", "user-months"),
        ("git_lfs", "git_lfs_storage", "gigabyte-hours"),
    ]
    merged = DailyUsage.objects.get(organization=org, date=date(2026, 9, 3), sku="actions_linux")
    assert (merged.items, merged.net_amount) == (2, cent * 3)
    for o in (org, other):
        rollups_match_items(o)
    assert list(DailyUsage.objects.filter(organization=org, date__gte=NOV).values()) == november
    summary = UsageSummary.objects.get(organization=org)
    assert summary.items == [
        {"product": "actions", "sku": "actions_linux", "unitType": "minutes", "n": "1"}
    ]
    sku_budget.refresh_from_db()
    product_budget.refresh_from_db()
    assert sku_budget.product_skus == ["actions_linux", "copilot_ai_credit"]
    assert product_budget.product_skus == ["git_lfs"]

    # Again: nothing left to do.
    assert migration.normalise(apps, connection) == dict.fromkeys(done, 0)


def test_nothing_stored_nothing_done():
    assert migration.normalise(apps, connection) == {
        "months": 0,
        "rebuilt": 0,
        "summaries": 0,
        "budgets": 0,
    }
