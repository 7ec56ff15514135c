"""Enhanced billing endpoints: who may read them, and what the data looks like.

Every date here is relative to the simulator's today (the run's clock, see tests/clock.py)
or to a catalogue fact (`RUNNER_PRICE_CHANGE`), never a calendar literal: the module is in
the `dates` set that tests/test_any_date.py runs at several "todays".
"""

from __future__ import annotations

import calendar
import json
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import jsonschema
import pytest

from ghsim.catalog import RUNNER_PRICE_CHANGE
from ghsim.dialects import product_name
from ghsim.usage import add_months
from ghsim.world import XSS_REPO_NAME
from tests.ghsim.helpers import make_jwt
from tests.ghsim.openapi_check import check_api_response

USAGE = "/organizations/{org}/settings/billing/usage"
SUMMARY = "/organizations/{org}/settings/billing/usage/summary"
BUDGETS = "/organizations/{org}/settings/billing/budgets"
pytestmark = pytest.mark.dates


@pytest.fixture
def today(sim) -> date:
    return sim.state.clock.today()


@pytest.fixture
def last_month(today) -> tuple[date, date]:
    """The first and last day of the month before the simulator's today (complete)."""
    first = add_months(today.replace(day=1), -1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def month_query(first: date) -> str:
    return f"?year={first.year}&month={first.month}"


def items(resp) -> list[dict]:
    assert resp.status_code == 200, resp.text
    return json.loads(resp.content, parse_float=Decimal)["usageItems"]


# -- who may read the usage report ----------------------------------------------------------
@pytest.mark.parametrize("path", [USAGE, SUMMARY])
@pytest.mark.parametrize(
    "user,client,scope,status",
    [
        ("olivia", "app", None, 200),
        ("bill", "app", None, 403),
        ("mia", "app", None, 403),
        ("nora", "app", None, 404),
        ("charlie", "app", None, 404),
        ("olivia", "oauth", "read:org", 403),
        ("olivia", "oauth", "admin:org", 403),
        ("bill", "oauth", "admin:org", 403),
    ],
)
def test_usage_permissions_for_user_tokens(api, token, path, user, client, scope, status):
    opts = {"scope": scope} if scope else {}
    resp = api.get(path.format(org="acme-corp") + "?day=1", token(user, client, **opts))
    assert resp.status_code == status
    if status == 403:
        body = resp.json()
        assert set(body) == {"message", "documentation_url", "status"}
        assert body["status"] == "403"
        if client == "app":
            assert resp.headers["x-accepted-github-permissions"] == (
                "organization_administration=read"
            )


def test_usage_needs_the_app_installed_with_administration_read(api, sim, token, today):
    olivia = token("olivia")
    path = USAGE.format(org="globex") + month_query(today)
    assert api.get(path, olivia).status_code == 403
    inst = sim.control.install("globex", permissions={"members": "read"})
    assert api.get(path, olivia).status_code == 403
    sim.control.accept_permissions(
        inst["id"], {"members": "read", "organization_administration": "read"}
    )
    assert api.get(path, olivia).status_code == 200
    sim.control.suspend(inst["id"])
    assert api.get(path, olivia).status_code == 403


def test_usage_with_installation_tokens(api, sim, config, private_key, today):
    acme = sim.control.installation_token("acme-corp")
    whole_year = items(api.get(USAGE.format(org="acme-corp"), acme))  # no params: this year
    assert {i["date"][:4] for i in whole_year} == {str(today.year)}
    assert len({i["date"][:7] for i in whole_year}) == today.month  # acme is 30 months old
    sim.control.install("globex")
    globex = sim.control.installation_token("globex")
    other = api.get(USAGE.format(org="acme-corp"), globex)
    assert other.status_code == 403
    assert other.json()["message"] == "Resource not accessible by integration"
    app_jwt = make_jwt(config, private_key, now=sim.state.clock.now())
    assert api.get(USAGE.format(org="acme-corp"), app_jwt).status_code == 403
    assert api.get(USAGE.format(org="acme-corp")).status_code == 401
    assert api.get(USAGE.format(org="no-such-org"), acme).status_code == 404


def test_org_without_enhanced_billing_gets_400(api, sim, token):
    # The documented answer; the observed one (initech's default) is a 404: test_dialects.py
    sim.control.set_dialect("initech", "documented")
    oscar = token("oscar")
    assert api.get(USAGE.format(org="initech"), oscar).status_code == 403  # App not installed
    sim.control.install("initech")
    for path in (USAGE, SUMMARY):
        resp = api.get(path.format(org="initech"), oscar)
        assert resp.status_code == 400
        assert "enhanced billing platform" in resp.json()["message"]
    assert api.get(BUDGETS.format(org="initech"), oscar).status_code == 404


@pytest.mark.parametrize(
    "query", ["month=13", "month=0", "month=11&day=31", "year=abc", "month=2&day=30", "year=20"]
)
def test_bad_parameters_get_400(api, token, query):
    resp = api.get(USAGE.format(org="acme-corp") + "?" + query, token("olivia"))
    assert resp.status_code == 400


# -- budgets --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "user,client,scope,status",
    [
        ("olivia", "app", None, 200),
        ("bill", "app", None, 200),
        ("mia", "app", None, 403),
        ("nora", "app", None, 404),
        ("olivia", "oauth", "admin:org", 200),
        ("bill", "oauth", "admin:org", 200),
        ("olivia", "oauth", "read:org", 403),
    ],
)
def test_budgets_permissions(api, token, user, client, scope, status):
    opts = {"scope": scope} if scope else {}
    resp = api.get(BUDGETS.format(org="acme-corp"), token(user, client, **opts))
    assert resp.status_code == status


def test_budgets_pagination_and_filters(api, token):
    olivia = token("olivia")
    full = api.get(BUDGETS.format(org="acme-corp"), olivia).json()
    assert full["total_count"] == 5 and not full["has_next_page"]
    assert all(isinstance(b["budget_amount"], int) for b in full["budgets"])
    for b in full["budgets"]:
        assert b["budget_product_skus"] == [b["budget_product_sku"]]
    page1 = api.get(BUDGETS.format(org="acme-corp") + "?per_page=2", olivia).json()
    page3 = api.get(BUDGETS.format(org="acme-corp") + "?per_page=2&page=3", olivia).json()
    assert page1["has_next_page"] and not page3["has_next_page"]
    assert [b["id"] for b in page1["budgets"] + page3["budgets"]] == [
        b["id"] for b in full["budgets"][:2] + full["budgets"][4:]
    ]
    scoped = api.get(BUDGETS.format(org="acme-corp") + "?scope=repository", olivia).json()
    assert {b["budget_scope"] for b in scoped["budgets"]} <= {"repository"}
    user = api.get(BUDGETS.format(org="acme-corp") + "?user=mia", olivia).json()
    assert user["user"] == "mia"


# -- the data ------------------------------------------------------------------------------------
def test_items_are_exact_and_realistic(api, sim, token, last_month):
    # Exact decimals are the "documented" dialect (the observed one: test_dialects.py).
    sim.control.set_dialect("acme-corp", "documented")
    first, last = last_month
    data = items(api.get(USAGE.format(org="acme-corp") + month_query(first), token("olivia")))
    assert data
    skus = {(i["product"], i["sku"], i["unitType"]) for i in data}
    assert ("Actions", "Actions Linux", "minutes") in skus
    assert ("Copilot", "Copilot Business", "user-months") in skus
    assert ("Actions", "Actions storage", "GigabyteHours") in skus
    for item in data:
        q, p = item["quantity"], Decimal(str(item["pricePerUnit"]))
        assert -q.as_tuple().exponent <= 4 if isinstance(q, Decimal) else True
        gross = (Decimal(q) * p).quantize(Decimal("1e-10"), rounding=ROUND_HALF_UP)
        assert Decimal(item["grossAmount"]) == gross
        assert Decimal(item["netAmount"]) == Decimal(item["grossAmount"]) - Decimal(
            item["discountAmount"]
        )
        assert item["organizationName"] == "acme-corp"
        if item["product"] == "Copilot":
            assert "repositoryName" not in item
        else:
            assert item["repositoryName"].startswith("acme-corp/")
    assert any(isinstance(i["quantity"], Decimal) for i in data), "fractional quantities"
    dates = sorted({i["date"] for i in data})
    assert dates[0] == first.isoformat() and dates[-1] == last.isoformat()


def test_the_current_month_ends_today(api, token, today):
    data = items(api.get(USAGE.format(org="acme-corp") + month_query(today), token("olivia")))
    dates = sorted({i["date"] for i in data})
    assert dates[0] == f"{today.replace(day=1)}T00:00:00Z" and dates[-1] == f"{today}T00:00:00Z"


def test_included_quota_discounts_early_month_items(api, token, last_month):
    query = month_query(last_month[0])
    data = items(api.get(USAGE.format(org="acme-corp") + query, token("olivia")))
    linux = [i for i in data if i["sku"] == "Actions Linux"]
    first, last = linux[0], linux[-1]
    assert first["date"] < last["date"]
    assert first["discountAmount"] == first["grossAmount"] and first["netAmount"] == 0
    assert last["discountAmount"] == 0 and last["netAmount"] == last["grossAmount"]


def test_runner_prices_changed_on_the_catalogue_date(api, sim, token):
    # A fact of GitHub's price list: the world is built 3 months after it, so both sides
    # of the change lie inside the 24 months GitHub serves, whatever the run's today.
    change = RUNNER_PRICE_CHANGE
    sim.control.reset(seed=7, now=f"{change + timedelta(days=90)}T12:00:00Z")
    olivia = token("olivia")
    before, after = add_months(change, -1), change
    dec = items(api.get(USAGE.format(org="acme-corp") + month_query(before) + "&day=2", olivia))
    jan = items(api.get(USAGE.format(org="acme-corp") + month_query(after) + "&day=2", olivia))
    price = {
        k: {i["pricePerUnit"] for i in d if i["sku"] == "Actions Linux"}
        for k, d in (("dec", dec), ("jan", jan))
    }
    assert price == {"dec": {Decimal("0.008")}, "jan": {Decimal("0.006")}}


def test_no_data_after_today_before_creation_or_beyond_24_months(api, sim, token, today):
    olivia = token("olivia")
    usage = USAGE.format(org="acme-corp")
    tomorrow = today + timedelta(days=1)
    later = items(api.get(usage + month_query(tomorrow) + f"&day={tomorrow.day}", olivia))
    assert later == []
    assert items(api.get(usage + month_query(add_months(today.replace(day=1), 1)), olivia)) == []
    assert items(api.get(usage + f"?year={today.year + 1}", olivia)) == []
    # acme-corp was created 30 months ago; only the last 24 months are served.
    oldest = add_months(today.replace(day=1), -24)
    assert items(api.get(usage + month_query(add_months(oldest, -1)), olivia)) == []
    assert items(api.get(usage + month_query(oldest) + "&day=1", olivia))
    sim.control.install("globex")
    # globex was created on the 15th, 18 months before the simulator's current month.
    created = add_months(today.replace(day=1), -18)
    data = items(api.get(USAGE.format(org="globex") + month_query(created), olivia))
    assert min(i["date"] for i in data) == created.replace(day=15).isoformat()  # documented


def test_globex_carries_the_xss_fixture_repository(api, sim, token, last_month):
    sim.control.install("globex")
    query = month_query(last_month[0]) + "&day=3"
    data = items(api.get(USAGE.format(org="globex") + query, token("olivia")))
    assert f"globex/{XSS_REPO_NAME}" in {i.get("repositoryName") for i in data}


def test_summary_matches_the_items_exactly(api, sim, token, today):
    sim.control.set_dialect("acme-corp", "documented")  # exact decimals (observed: to the cent)
    olivia = token("olivia")
    data = items(api.get(USAGE.format(org="acme-corp") + month_query(today), olivia))
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    for i in data:
        s = sums[i["sku"]]
        s[0] += Decimal(i["quantity"])
        s[1] += i["grossAmount"]
        s[2] += i["netAmount"]
    summary = json.loads(
        api.get(SUMMARY.format(org="acme-corp"), olivia).content, parse_float=Decimal
    )
    # The month defaults to the current one.
    assert summary["timePeriod"] == {"year": today.year, "month": today.month}
    assert summary["organization"] == "acme-corp"
    names = {i["sku"]: i["sku"] for i in data}
    by_name = {}
    for row in summary["usageItems"]:
        assert row["netAmount"] == row["grossAmount"] - row["discountAmount"]
        assert row["netQuantity"] == row["grossQuantity"] - row["discountQuantity"]
        by_name[row["sku"]] = (row["grossQuantity"], row["grossAmount"], row["netAmount"])
    catalog = {c["name"]: c["sku"] for c in api_catalog(api)}
    assert {catalog[n] for n in names} == set(by_name)
    for name, (q, gross, net) in sums.items():
        assert by_name[catalog[name]] == (q, gross, net)


def api_catalog(api):
    import requests

    return requests.get(api.api_url.replace("/api/v3", "/_sim/catalog"), timeout=10).json()


def test_summary_filters(api, token, today):
    olivia = token("olivia")
    base = SUMMARY.format(org="acme-corp")
    repo = json.loads(api.get(base + "?repository=acme-corp/api", olivia).content)
    assert repo["repository"] == "acme-corp/api"
    assert repo["usageItems"] and all(r["product"] != "copilot" for r in repo["usageItems"])
    product = json.loads(api.get(base + "?product=Actions", olivia).content)["usageItems"]
    assert {r["product"] for r in product} == {"actions"}
    sku = json.loads(api.get(base + "?sku=actions_linux", olivia).content)["usageItems"]
    assert [r["sku"] for r in sku] == ["actions_linux"]
    day = json.loads(api.get(base + "?day=1", olivia).content)
    assert day["timePeriod"] == {"year": today.year, "month": today.month, "day": 1}


def test_totals_endpoint_reproduces_the_items(api, sim, token, last_month):
    sim.control.set_dialect("acme-corp", "documented")  # exact decimals (observed: to the cent)
    first, last = (d.isoformat() for d in last_month)
    query = month_query(last_month[0])
    data = items(api.get(USAGE.format(org="acme-corp") + query, token("olivia")))
    totals = sim.control.totals("acme-corp", first, last, "product")
    assert totals["total"]["items"] == len(data)
    assert Decimal(totals["total"]["gross"]) == sum(i["grossAmount"] for i in data)
    assert Decimal(totals["total"]["discount"]) == sum(i["discountAmount"] for i in data)
    assert Decimal(totals["total"]["net"]) == sum(i["netAmount"] for i in data)
    per_product = {g["key"]: Decimal(g["net"]) for g in totals["groups"]}
    for product, net in per_product.items():  # totals are keyed by product id
        name = product_name(product, "documented")
        assert net == sum(i["netAmount"] for i in data if i["product"] == name)
    by_day = sim.control.totals("acme-corp", first, last, "day")
    assert len(by_day["groups"]) == last_month[1].day


def test_schema_deviations_are_real(api, token, last_month):
    """The listed deviation (fractional quantity) is really needed: strict validation fails."""
    query = month_query(last_month[0]) + "&day=2"
    resp = api.get(USAGE.format(org="acme-corp") + query, token("olivia"))
    check_api_response("GET", resp.url, 200, resp.content, "2022-11-28")
    with pytest.raises(jsonschema.ValidationError, match="is not of type 'integer'"):
        check_api_response("GET", resp.url, 200, resp.content, "2022-11-28", strict=True)
