"""Enhanced billing endpoints: who may read them, and what the data looks like."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import jsonschema
import pytest

from ghsim.world import XSS_REPO_NAME
from tests.ghsim.helpers import make_jwt
from tests.ghsim.openapi_check import check_api_response

USAGE = "/organizations/{org}/settings/billing/usage"
SUMMARY = "/organizations/{org}/settings/billing/usage/summary"
BUDGETS = "/organizations/{org}/settings/billing/budgets"
TODAY = "2026-11-25T12:00:00Z"


@pytest.fixture(autouse=True)
def fixed_today(sim):
    sim.control.set_clock(TODAY)


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


def test_usage_needs_the_app_installed_with_administration_read(api, sim, token):
    olivia = token("olivia")
    path = USAGE.format(org="globex") + "?month=11"
    assert api.get(path, olivia).status_code == 403
    inst = sim.control.install("globex", permissions={"members": "read"})
    assert api.get(path, olivia).status_code == 403
    sim.control.accept_permissions(
        inst["id"], {"members": "read", "organization_administration": "read"}
    )
    assert api.get(path, olivia).status_code == 200
    sim.control.suspend(inst["id"])
    assert api.get(path, olivia).status_code == 403


def test_usage_with_installation_tokens(api, sim, config, private_key):
    acme = sim.control.installation_token("acme-corp")
    whole_year = items(api.get(USAGE.format(org="acme-corp"), acme))  # no params: this year
    assert {i["date"][:4] for i in whole_year} == {"2026"}
    assert len({i["date"][:7] for i in whole_year}) == 11
    sim.control.install("globex")
    globex = sim.control.installation_token("globex")
    other = api.get(USAGE.format(org="acme-corp"), globex)
    assert other.status_code == 403
    assert other.json()["message"] == "Resource not accessible by integration"
    app_jwt = make_jwt(config, private_key, now=datetime.fromisoformat(TODAY).timestamp())
    assert api.get(USAGE.format(org="acme-corp"), app_jwt).status_code == 403
    assert api.get(USAGE.format(org="acme-corp")).status_code == 401
    assert api.get(USAGE.format(org="no-such-org"), acme).status_code == 404


def test_org_without_enhanced_billing_gets_400(api, sim, token):
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
def test_items_are_exact_and_realistic(api, token):
    data = items(api.get(USAGE.format(org="acme-corp") + "?year=2026&month=11", token("olivia")))
    assert data
    skus = {(i["product"], i["sku"], i["unitType"]) for i in data}
    assert ("actions", "Actions Linux", "Minutes") in skus
    assert ("copilot", "Copilot Business", "UserMonths") in skus
    assert ("actions", "Actions storage", "GigabyteHours") in skus
    for item in data:
        q, p = item["quantity"], Decimal(str(item["pricePerUnit"]))
        assert -q.as_tuple().exponent <= 4 if isinstance(q, Decimal) else True
        gross = (Decimal(q) * p).quantize(Decimal("1e-10"), rounding=ROUND_HALF_UP)
        assert Decimal(item["grossAmount"]) == gross
        assert Decimal(item["netAmount"]) == Decimal(item["grossAmount"]) - Decimal(
            item["discountAmount"]
        )
        assert item["organizationName"] == "acme-corp"
        if item["product"] == "copilot":
            assert "repositoryName" not in item
        else:
            assert item["repositoryName"].startswith("acme-corp/")
    assert any(isinstance(i["quantity"], Decimal) for i in data), "fractional quantities"
    dates = sorted({i["date"] for i in data})
    assert dates[0] == "2026-11-01T00:00:00Z" and dates[-1] == "2026-11-25T00:00:00Z"


def test_included_quota_discounts_early_month_items(api, token):
    data = items(api.get(USAGE.format(org="acme-corp") + "?month=11", token("olivia")))
    linux = [i for i in data if i["sku"] == "Actions Linux"]
    first, last = linux[0], linux[-1]
    assert first["date"] < last["date"]
    assert first["discountAmount"] == first["grossAmount"] and first["netAmount"] == 0
    assert last["discountAmount"] == 0 and last["netAmount"] == last["grossAmount"]


def test_runner_prices_changed_on_2026_01_01(api, token):
    olivia = token("olivia")
    dec = items(api.get(USAGE.format(org="acme-corp") + "?year=2025&month=12&day=2", olivia))
    jan = items(api.get(USAGE.format(org="acme-corp") + "?year=2026&month=1&day=2", olivia))
    price = {
        k: {i["pricePerUnit"] for i in d if i["sku"] == "Actions Linux"}
        for k, d in (("dec", dec), ("jan", jan))
    }
    assert price == {"dec": {Decimal("0.008")}, "jan": {Decimal("0.006")}}


def test_no_data_after_today_before_creation_or_beyond_24_months(api, sim, token):
    olivia = token("olivia")
    assert items(api.get(USAGE.format(org="acme-corp") + "?month=12", olivia)) == []
    assert items(api.get(USAGE.format(org="acme-corp") + "?year=2027", olivia)) == []
    # acme-corp was created 30 months ago; only the last 24 months are served.
    assert items(api.get(USAGE.format(org="acme-corp") + "?year=2024&month=10", olivia)) == []
    assert items(api.get(USAGE.format(org="acme-corp") + "?year=2024&month=11&day=1", olivia))
    sim.control.install("globex")
    created = items(api.get(USAGE.format(org="globex") + "?year=2025&month=5", olivia))
    assert min(i["date"] for i in created) == "2025-05-15T00:00:00Z"


def test_globex_carries_the_xss_fixture_repository(api, sim, token):
    sim.control.install("globex")
    data = items(api.get(USAGE.format(org="globex") + "?day=3", token("olivia")))
    assert f"globex/{XSS_REPO_NAME}" in {i.get("repositoryName") for i in data}


def test_summary_matches_the_items_exactly(api, token):
    olivia = token("olivia")
    data = items(api.get(USAGE.format(org="acme-corp") + "?month=11", olivia))
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    for i in data:
        s = sums[i["sku"]]
        s[0] += Decimal(i["quantity"])
        s[1] += i["grossAmount"]
        s[2] += i["netAmount"]
    summary = json.loads(
        api.get(SUMMARY.format(org="acme-corp"), olivia).content, parse_float=Decimal
    )
    assert summary["timePeriod"] == {"year": 2026, "month": 11}  # month defaults to current
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


def test_summary_filters(api, token):
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
    assert day["timePeriod"] == {"year": 2026, "month": 11, "day": 1}


def test_totals_endpoint_reproduces_the_items(api, sim, token):
    data = items(api.get(USAGE.format(org="acme-corp") + "?month=10", token("olivia")))
    totals = sim.control.totals("acme-corp", "2026-10-01", "2026-10-31", "product")
    assert totals["total"]["items"] == len(data)
    assert Decimal(totals["total"]["gross"]) == sum(i["grossAmount"] for i in data)
    assert Decimal(totals["total"]["discount"]) == sum(i["discountAmount"] for i in data)
    assert Decimal(totals["total"]["net"]) == sum(i["netAmount"] for i in data)
    per_product = {g["key"]: Decimal(g["net"]) for g in totals["groups"]}
    for product, net in per_product.items():
        assert net == sum(i["netAmount"] for i in data if i["product"] == product)
    by_day = sim.control.totals("acme-corp", "2026-10-01", "2026-10-31", "day")
    assert len(by_day["groups"]) == 31


def test_schema_deviations_are_real(api, token):
    """The listed deviation (fractional quantity) is really needed: strict validation fails."""
    resp = api.get(USAGE.format(org="acme-corp") + "?month=11&day=2", token("olivia"))
    check_api_response("GET", resp.url, 200, resp.content, "2022-11-28")
    with pytest.raises(jsonschema.ValidationError, match="is not of type 'integer'"):
        check_api_response("GET", resp.url, 200, resp.content, "2022-11-28", strict=True)
