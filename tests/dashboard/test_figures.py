"""The dashboard's figures against the simulator's own, independent sums
(``GET /_sim/orgs/<login>/totals``), to the cent and beyond: the headline, the range
totals, the chart tables, the JSON API and the overview agree with GitHub's line items."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from ghsim.catalog import AI_CREDITS_START
from usage import periods, vocabulary
from usage.periods import month_end
from usage.reporting.formatting import money
from usage.reporting.ranked_charts import TOP_REPOSITORIES, TOP_SKUS
from usage.vocabulary import product_id, sku_id

from .conftest import collect, dec, join, mirror, sim_totals, this_and_last_month

pytestmark = [pytest.mark.django_db, pytest.mark.dates]

FIELDS = {"gross": "gross_amount", "discount": "discount_amount", "net": "net_amount"}


def cents(value) -> str:
    return money(dec(value))


def identifier(group_by: str, key: str) -> str:
    """The simulator's group key as we store it (GitHub's identifiers)."""
    return {"product": product_id, "sku": sku_id}.get(group_by, str)(key)


def page(client, user, query="", login="acme-corp"):
    client.force_login(user)
    response = client.get(f"/orgs/{login}/{query}")
    assert response.status_code == 200
    return response


@pytest.fixture(params=["acme-corp", "globex"])
def billed(request, dash, people):
    """Each of the simulator's dialects: acme-corp answers as the real API does
    (timestamps, "actions", "Actions storage", "GigabyteHours", long float texts),
    globex as GitHub's REST description documents ("2023-08-01", "Actions", "minutes")."""
    if request.param == "acme-corp":
        return request.getfixturevalue("acme")
    org = mirror(dash, "globex")
    join(org, people)
    collect(org, this_and_last_month())
    return org


def test_headline_matches_the_simulator(client, acme, people, dash):
    today = periods.today()
    month, previous = periods.current_month(), periods.previous_month()
    mtd = sim_totals(dash, acme, month, today, "day")
    last = sim_totals(dash, acme, previous, month - timedelta(days=1), "day")
    response = page(client, people["olivia"])
    head = response.context["headline"]
    assert head.mtd.net_amount == dec(mtd["total"]["net"])
    assert head.mtd.gross_amount == dec(mtd["total"]["gross"])
    assert head.mtd.discount_amount == dec(mtd["total"]["discount"])
    assert head.last_month_net == dec(last["total"]["net"])

    # The projection: month to date at the run rate of the days with usage.
    days = [g["key"] for g in mtd["groups"]]
    elapsed = int(max(days)[-2:])
    in_month = calendar.monthrange(month.year, month.month)[1]
    assert head.days_elapsed == elapsed
    assert head.projection == dec(mtd["total"]["net"]) / elapsed * in_month
    # Against last month by the same day of the month.
    same_point = previous + timedelta(days=elapsed - 1)
    last_same = sim_totals(dash, acme, previous, min(same_point, month - timedelta(1)), "day")
    assert head.last_month_same_point == dec(last_same["total"]["net"])
    assert head.change == head.mtd.net_amount - dec(last_same["total"]["net"])

    html = response.content.decode()
    for text in (cents(mtd["total"]["net"]), cents(last["total"]["net"])):
        assert text in html
    assert money(head.projection) in html
    assert "projection" in html.lower()


@pytest.mark.parametrize("preset", ["this_month", "last_month"])
def test_range_totals_match_the_simulator(client, billed, people, dash, preset):
    response = page(client, people["bill"], f"?range={preset}", login=billed.login)
    filters, totals = response.context["filters"], response.context["totals"]
    expected = sim_totals(dash, billed, filters.start, filters.end, "day")["total"]
    assert totals.items == expected["items"]
    for sim_key, ours in FIELDS.items():
        assert getattr(totals, ours) == dec(expected[sim_key]), ours
    assert cents(expected["net"]) in response.content.decode()


def test_a_custom_range_across_months_matches_per_repository(client, acme, people, dash):
    """A range that cuts both months reads the edges from the line items and agrees with
    the simulator per repository, to the last decimal."""
    month = periods.current_month()
    start, end = periods.previous_month() + timedelta(days=9), month + timedelta(days=6)
    client.force_login(people["olivia"])
    answer = client.get(
        "/api/orgs/acme-corp/usage",
        {"start": start.isoformat(), "end": end.isoformat(), "group_by": "repository"},
    ).json()
    expected = sim_totals(dash, acme, start, end, "repository")
    assert [g["key"] for g in answer["groups"]] == [g["key"] for g in expected["groups"]]
    for ours, theirs in zip(answer["groups"], expected["groups"], strict=True):
        assert ours["items"] == theirs["items"]
        for sim_key, field in FIELDS.items():
            assert dec(ours[field]) == dec(theirs[sim_key]), (ours["key"], field)
        assert dec(ours["quantity"]) == dec(theirs["quantity"])
    assert "" in [g["key"] for g in answer["groups"]]  # Copilot seats: no repository


@pytest.mark.parametrize("group_by", ["day", "product", "sku", "repository"])
def test_api_groups_match_the_simulator(client, billed, people, dash, group_by):
    month = periods.current_month()
    start, end = periods.previous_month(), month_end(month)
    client.force_login(people["bill"])
    answer = client.get(
        f"/api/orgs/{billed.login}/usage",
        {"start": start.isoformat(), "end": end.isoformat(), "group_by": group_by},
    ).json()
    expected = sim_totals(dash, billed, start, end, group_by)
    ours = {g["key"]: g for g in answer["groups"]}
    # The simulator groups by the names its usage report prints ("Actions Linux"); we
    # store and serve GitHub's identifiers (actions_linux).
    theirs = {identifier(group_by, g["key"]): g for g in expected["groups"]}
    assert len(theirs) == len(expected["groups"])
    assert ours.keys() == theirs.keys()
    for key, group in theirs.items():
        assert ours[key]["items"] == group["items"]
        assert dec(ours[key]["quantity"]) == dec(group["quantity"])
        for sim_key, field in FIELDS.items():
            assert dec(ours[key][field]) == dec(group[sim_key]), (key, field)
    for sim_key, field in FIELDS.items():
        assert dec(answer["total"][field]) == dec(expected["total"][sim_key])
    assert answer["total"]["items"] == expected["total"]["items"]


def test_chart_tables_and_figures_match_the_simulator(client, acme, people, dash):
    response = page(client, people["olivia"], "?range=last_month")
    filters = response.context["filters"]
    by_chart = {c.key: c for c in response.context["charts"]}
    assert set(by_chart) == {"daily", "skus", "repositories", "quantity", "budgets"}

    days = sim_totals(dash, acme, filters.start, filters.end, "day")
    daily = by_chart["daily"]
    assert [row[0] for row in daily.rows] == [g["key"][:10] for g in days["groups"]]
    assert [row[-1] for row in daily.rows] == [cents(g["net"]) for g in days["groups"]]
    # The figure's bars (floats for drawing) add up to each day's net, to the cent.
    per_day: dict[str, float] = {}
    for trace in daily.figure["data"]:  # one value a day from x0 (None: no usage)
        first = date.fromisoformat(trace["x0"])
        assert trace["dx"] == 86_400_000
        for i, y in enumerate(trace["y"]):
            day = (first + timedelta(days=i)).isoformat()
            per_day[day] = per_day.get(day, 0) + (y or 0)
    for group in days["groups"]:
        want = float(dec(group["net"]).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
        assert per_day[group["key"][:10]] == pytest.approx(want, abs=0.011 * 6)

    skus = sim_totals(dash, acme, filters.start, filters.end, "sku")
    groups = [{**g, "key": sku_id(g["key"])} for g in skus["groups"]]
    top = sorted(groups, key=lambda g: (-dec(g["net"]), g["key"]))[:TOP_SKUS]
    assert by_chart["skus"].rows[: len(top)] == [[g["key"], cents(g["net"])] for g in top]

    repos = sim_totals(dash, acme, filters.start, filters.end, "repository")
    top = sorted(repos["groups"], key=lambda g: (-dec(g["net"]), g["key"]))
    rows = by_chart["repositories"].rows
    expected = [[g["key"] or "(no repository)", cents(g["net"])] for g in top]
    assert rows[:TOP_REPOSITORIES] == expected[:TOP_REPOSITORIES]
    rest = sum((dec(g["net"]) for g in top[TOP_REPOSITORIES:]), Decimal(0))
    assert rows[-1] == [f"Other ({len(top) - TOP_REPOSITORIES})", money(rest)]
    assert "(no repository)" in by_chart["repositories"].note


def test_product_filter_narrows_every_figure(client, acme, people, dash):
    response = page(client, people["olivia"], "?range=last_month&product=copilot")
    filters, totals = response.context["filters"], response.context["totals"]
    products = sim_totals(dash, acme, filters.start, filters.end, "product")
    copilot = next(g for g in products["groups"] if g["key"] == "copilot")
    assert totals.net_amount == dec(copilot["net"])
    assert totals.items == copilot["items"]
    daily = next(c for c in response.context["charts"] if c.key == "daily")
    assert [t["name"] for t in daily.figure["data"]] == ["copilot"]
    quantity = next(c for c in response.context["charts"] if c.key == "quantity")
    # Copilot bills seats in user-months, and usage in premium requests until GitHub's
    # switch to AI credits (a catalogue date, so this holds whatever last month is).
    usage_unit = "ai-credits" if filters.start >= AI_CREDITS_START else "requests"
    # Columns say the units' names ("AI credits"), in the order of their identifiers.
    units = sorted([usage_unit, "user-months"])
    assert quantity.columns == ["Date", *(vocabulary.unit_label(u) for u in units)]


def test_repository_filter_reads_that_repository_only(client, acme, people, dash):
    response = page(client, people["olivia"], "?range=last_month&repository=acme-corp/api")
    filters, totals = response.context["filters"], response.context["totals"]
    repos = sim_totals(dash, acme, filters.start, filters.end, "repository")
    api = next(g for g in repos["groups"] if g["key"] == "acme-corp/api")
    assert (totals.net_amount, totals.items) == (dec(api["net"]), api["items"])
    # "(no repository)" selects the usage GitHub reports without one.
    response = page(client, people["olivia"], "?range=last_month&repository=(no+repository)")
    none = next(g for g in repos["groups"] if g["key"] == "")
    assert response.context["totals"].net_amount == dec(none["net"])


def test_budgets_are_drawn_against_this_months_spend(client, acme, people, dash):
    response = page(client, people["olivia"])
    budgets = next(c for c in response.context["charts"] if c.key == "budgets")
    assert len(budgets.rows) == 5  # acme-corp has five budgets in the simulator's world
    month = periods.current_month()
    products = sim_totals(dash, acme, month, periods.today(), "product")
    actions = next(g for g in products["groups"] if g["key"] == "actions")
    row = next(r for r in budgets.rows if r[:2] == ["Product: Actions", "Whole organization"])
    assert row[3] == cents(actions["net"])  # spent
    assert row[2] == "$500.00"  # the amount, as money
    assert row[6] == "yes"  # GitHub stops Actions at this budget (prevent_further_usage)
    names = [t["name"] for t in budgets.figure["data"]]
    assert names == ["Spent this month", "Budget", "Projected at month end"]


def test_the_overview_sums_the_orgs_the_user_may_see(client, acme, make_org, people, dash):
    small = make_org("small-co", months=[periods.current_month()], repos=3, skus_per_repo=2)
    client.force_login(people["bill"])
    response = client.get("/orgs/")
    assert response.status_code == 200
    today, month = periods.today(), periods.current_month()
    expected = {
        org.login: dec(sim_totals(dash, org, month, today, "day")["total"]["net"])
        for org in (acme, small)
    }
    assert response.context["total_mtd"] == sum(expected.values(), Decimal(0))
    html = response.content.decode()
    for login, net in expected.items():
        assert f'data-mtd="{login}">{money(net)}<' in html
    assert money(sum(expected.values(), Decimal(0))) in html
    assert html.count('class="spark"') == 2
