"""Reports downloaded from the simulator (its real formats), imported, against the
simulator's own sums (``/_sim/orgs/<login>/totals``) and against the same month
collected from the REST API: equal to the cent (and, as it happens, to the last of the
10 decimals) on every dimension both have; users and workflows as the simulator made
them."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum

from tests.dashboard.conftest import collect, mirror
from tests.factories import UserFactory
from tests.imports.conftest import run_import
from usage import periods
from usage.models import DailyUsage, ReportImport, ReportItem, UsageItem
from usage.vocabulary import sku_id

pytestmark = [pytest.mark.django_db, pytest.mark.dates]
CENT = Decimal("0.01")


def _sums(queryset, *keys):
    out: dict = defaultdict(lambda: [Decimal(0)] * 3)
    for row in queryset.values(*keys).annotate(
        g=Sum("gross_amount"), d=Sum("discount_amount"), n=Sum("net_amount")
    ):
        out[tuple(row[k] for k in keys)] = [row["g"], row["d"], row["n"]]
    return dict(out)


def _sim_groups(sim, login, start, end, group_by):
    totals = sim.control.totals(login, start.isoformat(), end.isoformat(), group_by)
    return {
        g["key"]: [Decimal(str(g["gross"])), Decimal(str(g["discount"])), Decimal(str(g["net"]))]
        for g in totals["groups"]
    }


@pytest.fixture
def owner(db):
    return UserFactory(github_login="olivia", username="github-olivia")


def test_detailed_report_agrees_with_the_simulator_and_the_api(github_settings, owner):
    sim = github_settings
    month = periods.previous_month()
    end = periods.add_months(month, 1) - timedelta(days=1)
    org = mirror(sim, "acme-corp")
    content = sim.control.report("acme-corp", "detailed", month.isoformat(), end.isoformat())
    assert content.startswith(b"\xef\xbb\xbf") and b"\r\n" in content
    imp = run_import(org, owner, content, "acme-detailed.csv")
    assert (imp.status, imp.kind, imp.months, imp.errors) == (
        "done",
        "detailed",
        [f"{month:%Y-%m}"],
        [],
    )
    items = ReportItem.objects.filter(organization=org)

    # Users and workflows: the simulator's own sums, to the last decimal.
    for group_by, field in (("user", "user_login"), ("workflow", "workflow")):
        assert {k[0]: v for k, v in _sums(items, field).items()} == _sim_groups(
            sim, "acme-corp", month, end, group_by
        ), group_by
    # SKUs and days, from the report (the month's rollups were built from it).
    by_sku = {sku_id(k): v for k, v in _sim_groups(sim, "acme-corp", month, end, "sku").items()}
    assert {k[0]: v for k, v in _sums(items, "sku").items()} == by_sku
    sim_days = _sim_groups(sim, "acme-corp", month, end, "day")
    report_days = {
        k[0].isoformat(): v
        for k, v in _sums(DailyUsage.objects.filter(organization=org), "date").items()
    }
    assert report_days == sim_days

    # The same month from the REST API: the dashboard switches to it; both agree on
    # every (day, SKU, repository) to the cent.
    collect(org, [month])
    api = _sums(UsageItem.objects.filter(organization=org), "date", "sku", "repository")
    report = _sums(items, "date", "sku", "repository")
    assert api.keys() == report.keys()
    for key, values in api.items():
        assert [v.quantize(CENT) for v in values] == [v.quantize(CENT) for v in report[key]], key
    assert api == report  # in fact to the last of the 10 decimals
    assert ReportImport.objects.get().rows == items.count()


def test_summarized_report_of_two_months_agrees(github_settings, owner):
    sim = github_settings
    first = periods.add_months(periods.previous_month(), -1)
    end = periods.today() - timedelta(days=1)
    org = mirror(sim, "globex", install=False)
    content = sim.control.report("globex", "summarized", first.isoformat(), end.isoformat())
    imp = run_import(org, owner, content)
    assert imp.status == "done" and len(imp.months) >= 2
    by_sku = {sku_id(k): v for k, v in _sim_groups(sim, "globex", first, end, "sku").items()}
    assert {
        k[0]: v for k, v in _sums(ReportItem.objects.filter(organization=org), "sku").items()
    } == by_sku
    daily = _sums(DailyUsage.objects.filter(organization=org), "date")
    assert {k[0].isoformat(): v for k, v in daily.items()} == _sim_groups(
        sim, "globex", first, end, "day"
    )
    # Repositories as the API names them (owner/repo), odd names (with a slash) included.
    by_repo = _sums(ReportItem.objects.filter(organization=org), "repository")
    assert {k[0]: v for k, v in by_repo.items()} == _sim_groups(
        sim, "globex", first, end, "repository"
    )
