"""GitHub's usage report as it really comes and as it is documented, collected by a real
worker: one spelling stored for both, and the totals equal the simulator's ground truth
(``GET /_sim/orgs/<login>/totals``) to the cent (in fact to the last of the columns' ten
decimal places: the long float texts of the observed answers round back to them)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Count, Sum

from billingdash import github
from usage import periods
from usage.collection.services import run_enqueue
from usage.models import CollectionRun, DailyUsage, UsageItem
from usage.vocabulary import product_id, sku_id, unit_id

from .conftest import DIALECTS, dec, sim_month_totals, wait_settled
from .test_collect_worker import assert_month_matches_simulator

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.dates,
]
CENT = Decimal("0.01")


def report(sim, login: str) -> list[dict]:
    """What GitHub sends for the org: last month's usage report, as the client reads it."""
    month = periods.previous_month()
    token = sim.control.installation_token(login)
    return list(github.iter_billing_usage(token, login, year=month.year, month=month.month))


def finer_than_the_columns(items: list[dict]) -> int:
    """Numbers given with more than the columns' 10 decimal places (float texts such
    as 0.28800000000000003)."""
    return sum(
        1
        for item in items
        for key in ("quantity", "grossAmount", "discountAmount", "netAmount")
        if isinstance(item[key], Decimal) and item[key].as_tuple().exponent < -10
    )


@pytest.mark.parametrize("dialect", DIALECTS)
def test_both_dialects_store_one_spelling_and_the_simulators_totals(
    gh, installed_org, celery_worker, dialect
):
    login = f"{dialect}-co"
    org = installed_org(login, repos=4, skus_per_repo=6, copilot_seats=3, dialect=dialect)
    sent = report(gh, login)
    units = {i["unitType"] for i in sent}
    if dialect == "observed":  # what published real answers show
        assert {i["date"][10:] for i in sent} == {"T00:00:00Z"}
        assert {i["product"] for i in sent} >= {"actions"} and "GigabyteHours" in units
        assert finer_than_the_columns(sent) > 0
    else:  # GitHub's REST description and its example
        assert {len(i["date"]) for i in sent} == {10}
        assert {i["product"] for i in sent} >= {"Actions"} and "minutes" in units
        assert finer_than_the_columns(sent) == 0

    months = [periods.previous_month(), periods.current_month()]
    for month in months:
        run_enqueue(organization=org, period=month, trigger="backfill")
    wait_settled(org, len(months))
    runs = CollectionRun.objects.filter(organization=org)
    assert [r.error for r in runs if r.state != CollectionRun.State.SUCCEEDED] == []

    stored = set(
        UsageItem.objects.filter(organization=org).values_list("product", "sku", "unit_type")
    )
    assert stored and all(
        (product_id(p), sku_id(s), unit_id(u)) == (p, s, u) for p, s, u in stored
    ), stored
    assert ("actions", "actions_linux", "minutes") in stored

    for month in months:
        assert_month_matches_simulator(gh, org, month)  # items, quantity and amounts exact
        truth = sim_month_totals(gh, org.login, month, "sku")
        theirs = {sku_id(g["key"]): (g["items"], dec(g["net"])) for g in truth["groups"]}
        end = periods.add_months(month, 1)
        ours = {
            row["sku"]: (row["items"], row["net"])
            for row in DailyUsage.objects.filter(organization=org, date__gte=month, date__lt=end)
            .values("sku")
            .annotate(items=Sum("items"), net=Sum("net_amount"))
        }
        assert ours.keys() == theirs.keys()
        for sku, (items, net) in theirs.items():
            assert ours[sku][0] == items, sku
            assert abs(ours[sku][1] - net) < CENT / 2, sku  # to the cent...
            assert ours[sku][1] == net, sku  # ...and exactly
        total = dec(truth["total"]["net"])
        count = UsageItem.objects.filter(organization=org, date__gte=month, date__lt=end)
        print(
            f"\n{dialect}: {month:%Y-%m} {count.aggregate(n=Count('pk'))['n']} items, "
            f"net ${total} (simulator) = ${ours and sum(v[1] for v in ours.values())} (stored)"
        )
