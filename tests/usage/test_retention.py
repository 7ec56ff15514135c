"""Usage older than USAGE_RETENTION_MONTHS is purged, each org's purge audited, nothing
newer and nothing else touched (issue 14, missing piece 8)."""

from __future__ import annotations

from datetime import date

import pytest

from accounts.models import AuditEvent
from tests.factories import CollectionRunFactory, OrganizationFactory
from usage import periods
from usage.collection.retention import usage_purge_expired
from usage.models import CollectionRun, DailyUsage, MonthlyRepositoryUsage, UsageItem

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


def months_ago(n: int) -> date:
    return periods.add_months(periods.current_month(), -n)


def rows(org, month: date) -> None:
    common = {"product": "actions", "sku": "Actions Linux", "quantity": 1}
    amounts = {"gross_amount": 1, "discount_amount": 0, "net_amount": 1}
    rollup = {**common, **amounts, "items": 1}
    UsageItem.objects.create(
        organization=org, date=month, unit_type="minutes", price_per_unit=1, **common, **amounts
    )
    DailyUsage.objects.create(organization=org, date=month, unit_type="minutes", **rollup)
    MonthlyRepositoryUsage.objects.create(organization=org, month=month, repository="", **rollup)
    CollectionRunFactory(organization=org, period=month)


def test_usage_older_than_the_retention_is_purged_and_audited(settings):
    settings.USAGE_RETENTION_MONTHS = 3
    acme, globex = OrganizationFactory(login="acme-corp"), OrganizationFactory(login="globex")
    for org in (acme, globex):
        for n in (0, 2, 3, 7):
            rows(org, months_ago(n))
    kept = months_ago(2)
    assert usage_purge_expired() == 2  # two organizations had old usage
    for model, field in (
        (UsageItem, "date"),
        (DailyUsage, "date"),
        (MonthlyRepositoryUsage, "month"),
        (CollectionRun, "period"),
    ):
        assert not model.objects.filter(**{f"{field}__lt": kept}).exists(), model
        assert model.objects.filter(**{f"{field}__gte": kept}).count() == 4, model
    events = AuditEvent.objects.filter(action="usage.purged").order_by("target")
    assert [e.target for e in events] == ["acme-corp", "globex"]
    assert events[0].details["before"] == kept.isoformat()
    assert events[0].details["rows"]["usage.UsageItem"] == 2
    assert usage_purge_expired() == 0  # idempotent
    assert AuditEvent.objects.filter(action="usage.purged").count() == 2


def test_the_retention_cannot_be_shorter_than_the_backfill():
    from tests.test_settings import run_manage

    result = run_manage("check", USAGE_RETENTION_MONTHS="12", BACKFILL_MONTHS="24")
    assert result.returncode != 0
    assert "USAGE_RETENTION_MONTHS" in result.stderr
