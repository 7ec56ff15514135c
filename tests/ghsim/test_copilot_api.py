"""Copilot usage endpoints (premium requests, AI credits) and Copilot seat assignments.

The endpoints' numbers equal the Copilot usage report and the usage endpoint's Copilot
lines. Dates come from the simulator's today or from the catalogue's era constants.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import requests

from ghsim import catalog
from ghsim.usage import add_months
from tests.ghsim.csvcheck import month_span, parse, total, usage_items
from tests.ghsim.helpers import make_jwt

pytestmark = pytest.mark.dates
PREMIUM = "/organizations/{org}/settings/billing/premium_request/usage"
AI_CREDIT = "/organizations/{org}/settings/billing/ai_credit/usage"
USAGE = "/organizations/{org}/settings/billing/usage"
SEATS = "/orgs/{org}/copilot/billing/seats"
SEAT_PERMISSION = "organization_copilot_seat_management"
ACME_INSTALLATION = 8880001
SUMS = ("grossQuantity", "grossAmount", "discountAmount", "netAmount")


@pytest.fixture
def eras(sim):
    """The demo world rebuilt 60 days after the 21-column format: every era is served."""
    sim.control.reset(seed=7, now=f"{catalog.TOKEN_COLUMNS_START + timedelta(days=60)}T12:00:00Z")
    sim.control.set_dialect("acme-corp", "documented")
    return sim


@pytest.fixture(autouse=True)
def exact_decimals(sim):
    """acme-corp answers in GitHub's documented dialect here: exact decimals, so the reports
    and the Copilot endpoints can be compared with the usage endpoint to the last digit (the
    observed dialect's float texts are covered, to the cent, in test_dialects.py)."""
    sim.control.set_dialect("acme-corp", "documented")


def body(resp) -> dict:
    assert resp.status_code == 200, resp.text
    return json.loads(resp.content, parse_float=Decimal)


def query(first: date, **extra: object) -> str:
    params = {"year": first.year, "month": first.month, **extra}
    return "?" + "&".join(f"{k}={v}" for k, v in params.items())


def endpoint_for(first: date) -> str:
    return AI_CREDIT if first >= catalog.AI_CREDITS_START else PREMIUM


def per_model(items: list[dict]) -> dict[str, tuple[Decimal, ...]]:
    return {i["model"]: tuple(Decimal(i[k]) for k in SUMS) for i in items}


# -- permissions ---------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [PREMIUM, AI_CREDIT])
@pytest.mark.parametrize(
    "user,client,scope,status",
    [
        ("olivia", "app", None, 200),
        ("bill", "app", None, 403),
        ("mia", "app", None, 403),
        ("nora", "app", None, 404),
        ("charlie", "app", None, 404),
        ("olivia", "oauth", "admin:org", 403),
    ],
)
def test_same_permissions_as_the_usage_report(api, token, path, user, client, scope, status):
    opts = {"scope": scope} if scope else {}
    resp = api.get(path.format(org="acme-corp"), token(user, client, **opts))
    assert resp.status_code == status
    if status == 403 and client == "app":
        assert resp.headers["x-accepted-github-permissions"] == "organization_administration=read"


def test_installation_tokens_strangers_and_bad_input(api, sim, config, private_key):
    acme = sim.control.installation_token("acme-corp")
    for path in (PREMIUM, AI_CREDIT):
        assert api.get(path.format(org="acme-corp"), acme).status_code == 200
        assert api.get(path.format(org="no-such-org"), acme).status_code == 404
        assert api.get(path.format(org="acme-corp")).status_code == 401
        jwt = make_jwt(config, private_key, now=sim.state.clock.now())
        assert api.get(path.format(org="acme-corp"), jwt).status_code == 403
        assert api.get(path.format(org="acme-corp") + "?month=13", acme).status_code == 400
        assert api.get(path.format(org="acme-corp") + "?year=x", acme).status_code == 400
    sim.control.install("globex")
    other = sim.control.installation_token("globex")
    assert api.get(PREMIUM.format(org="acme-corp"), other).status_code == 403
    sim.control.install("initech")
    initech = sim.control.installation_token("initech")
    # GitHub's description says 400 for an org without the enhanced billing platform; real
    # answers are 404 (the observed dialect, initech's default).
    assert api.get(AI_CREDIT.format(org="initech"), initech).status_code == 404
    sim.control.set_dialect("initech", "documented")
    resp = api.get(AI_CREDIT.format(org="initech"), initech)
    assert resp.status_code == 400 and "enhanced billing platform" in resp.json()["message"]


# -- numbers --------------------------------------------------------------------------------------
@pytest.mark.parametrize("months_after", [1, 7, 10])  # premium, transition, AI credits
def test_endpoint_equals_report_and_usage_lines(api, eras, token, months_after):
    olivia = token("olivia")
    first = add_months(catalog.COPILOT_REPORT_START, months_after)
    month = month_span(first)
    path = endpoint_for(first).format(org="acme-corp")
    answer = body(api.get(path + query(first), olivia))
    assert answer["timePeriod"] == {"year": first.year, "month": first.month}
    assert answer["organization"] == "acme-corp"
    items = answer["usageItems"]
    ai = first >= catalog.AI_CREDITS_START
    assert {(i["product"], i["sku"], i["unitType"]) for i in items} == {
        ("Copilot", "Copilot AI Credits", "credits")
        if ai
        else ("Copilot", "Copilot Premium Request", "requests")
    }
    for i in items:
        assert Decimal(i["discountQuantity"]) + Decimal(i["netQuantity"]) == Decimal(
            i["grossQuantity"]
        )
        assert Decimal(i["discountAmount"]) + Decimal(i["netAmount"]) == Decimal(i["grossAmount"])
    _h, rows = parse(eras.control.report("acme-corp", "copilot", *(d.isoformat() for d in month)))
    assert per_model(items) == total(rows, lambda r: r["model"])
    # ... and the usage endpoint's Copilot lines of the month.
    usage = usage_items(api.get(USAGE.format(org="acme-corp") + query(first), olivia))
    lines = [i for i in usage if i["sku"] in ("Copilot Premium Request", "Copilot AI Credits")]
    line_sum = tuple(
        sum(Decimal(i[k]) for i in lines)
        for k in ("quantity", "grossAmount", "discountAmount", "netAmount")
    )
    assert tuple(sum(v[n] for v in per_model(items).values()) for n in range(4)) == line_sum
    # Per user: one call per user (the items have no user), as GitHub's API makes you do.
    users = sorted({r["username"] for r in rows})
    assert {"olivia", "mia"} <= set(users)
    by_user: dict[str, tuple[Decimal, ...]] = {}
    for user in users:
        shown = user.upper() if user == "mia" else user  # case-insensitive
        one = body(api.get(path + query(first, user=shown), olivia))
        assert one["user"] == shown
        by_user[user] = tuple(
            sum(v[n] for v in per_model(one["usageItems"]).values()) for n in range(4)
        )
    assert by_user == total(rows, lambda r: r["username"])


def test_filters_and_days(api, eras, token):
    olivia = token("olivia")
    first = add_months(catalog.AI_CREDITS_START, 1)
    path = AI_CREDIT.format(org="acme-corp")
    everything = per_model(body(api.get(path + query(first), olivia))["usageItems"])
    model = next(iter(everything))
    one = body(api.get(path + query(first, model=model.lower().replace(" ", "%20")), olivia))
    assert one["model"] == model.lower()
    assert per_model(one["usageItems"]) == {model: everything[model]}
    same = body(api.get(path + query(first, product="COPILOT"), olivia))
    assert per_model(same["usageItems"]) == everything and same["product"] == "COPILOT"
    assert body(api.get(path + query(first, product="actions"), olivia))["usageItems"] == []
    assert body(api.get(path + query(first, user="nobody-here"), olivia))["usageItems"] == []
    day = first + timedelta(days=4)
    daily = body(api.get(path + query(first, day=day.day), olivia))
    assert daily["timePeriod"] == {"year": day.year, "month": day.month, "day": day.day}
    _h, rows = parse(eras.control.report("acme-corp", "copilot", day.isoformat(), day.isoformat()))
    assert per_model(daily["usageItems"]) == total(rows, lambda r: r["model"])


def test_each_endpoint_answers_for_its_era_only(api, eras, token):
    olivia = token("olivia")
    premium_month = add_months(catalog.COPILOT_REPORT_START, 2)
    ai_month = catalog.AI_CREDITS_START
    assert body(api.get(PREMIUM.format(org="acme-corp") + query(premium_month), olivia))[
        "usageItems"
    ]
    assert (
        body(api.get(AI_CREDIT.format(org="acme-corp") + query(premium_month), olivia))[
            "usageItems"
        ]
        == []
    )
    assert body(api.get(AI_CREDIT.format(org="acme-corp") + query(ai_month), olivia))["usageItems"]
    assert (
        body(api.get(PREMIUM.format(org="acme-corp") + query(ai_month), olivia))["usageItems"] == []
    )
    # Premium requests were billed before the premium-request report began: the usage
    # endpoint shows them, the premium_request endpoint does not (its era starts later).
    early = add_months(catalog.COPILOT_REPORT_START, -1)
    assert early >= catalog.PREMIUM_REQUESTS_START.replace(day=1)
    usage = usage_items(api.get(USAGE.format(org="acme-corp") + query(early), olivia))
    assert any(i["sku"] == "Copilot Premium Request" for i in usage)
    assert body(api.get(PREMIUM.format(org="acme-corp") + query(early), olivia))["usageItems"] == []


def test_24_months_and_the_creation_date(api, sim, token):
    # Rebuild the world so that the premium era's first month is 25 months old.
    now = add_months(catalog.COPILOT_REPORT_START, 25) + timedelta(days=3)
    sim.control.reset(seed=7, now=f"{now}T12:00:00Z")
    olivia = token("olivia")
    path = PREMIUM.format(org="acme-corp")
    too_old = catalog.COPILOT_REPORT_START
    assert body(api.get(path + query(too_old), olivia))["usageItems"] == []
    assert body(api.get(path + query(add_months(too_old, 1)), olivia))["usageItems"]
    # An org created inside the era: nothing before its creation day.
    created = add_months(catalog.COPILOT_REPORT_START, 3) + timedelta(days=9)
    sim.control.create_org(
        "newco",
        created=created.isoformat(),
        copilot_seats=4,
        members={"olivia": "admin"},
        installed=True,
    )
    ghs = sim.control.installation_token("newco")
    new = PREMIUM.format(org="newco")
    assert (
        body(api.get(new + query(add_months(created.replace(day=1), -1)), ghs))["usageItems"] == []
    )
    before = created - timedelta(days=1)
    assert body(api.get(new + query(before, day=before.day), ghs))["usageItems"] == []
    assert body(api.get(new + query(created), ghs))["usageItems"]


# -- seats -------------------------------------------------------------------------------------
def seats_call(sim, org: str, tok: str | None, **params: object) -> requests.Response:
    headers = {"Authorization": f"Bearer {tok}"} if tok else {}
    url = sim.api_url + SEATS.format(org=org)
    return requests.get(url, headers=headers, params=params, timeout=30)


def grant_seat_permission(sim) -> None:
    perms = {"organization_administration": "read", "members": "read", SEAT_PERMISSION: "read"}
    sim.control.accept_permissions(ACME_INSTALLATION, perms)


def test_seats_need_the_copilot_business_permission(sim, token, config, private_key):
    olivia = token("olivia")
    denied = seats_call(sim, "acme-corp", olivia)
    assert denied.status_code == 403
    assert denied.headers["x-accepted-github-permissions"] == f"{SEAT_PERMISSION}=read"
    assert denied.json()["message"] == "Resource not accessible by integration"
    assert (
        seats_call(sim, "acme-corp", sim.control.installation_token("acme-corp")).status_code == 403
    )
    grant_seat_permission(sim)
    assert seats_call(sim, "acme-corp", olivia).status_code == 200
    assert (
        seats_call(sim, "acme-corp", sim.control.installation_token("acme-corp")).status_code == 200
    )
    statuses = {
        "bill": seats_call(sim, "acme-corp", token("bill")).status_code,
        "mia": seats_call(sim, "acme-corp", token("mia")).status_code,
        "nora": seats_call(sim, "acme-corp", token("nora")).status_code,
        "anonymous": seats_call(sim, "acme-corp", None).status_code,
        "jwt": seats_call(
            sim, "acme-corp", make_jwt(config, private_key, now=sim.state.clock.now())
        ).status_code,
        "unknown org": seats_call(sim, "no-such-org", olivia).status_code,
    }
    assert statuses == {
        "bill": 403,
        "mia": 403,
        "nora": 404,
        "anonymous": 401,
        "jwt": 403,
        "unknown org": 404,
    }
    sim.control.install("globex")
    assert seats_call(sim, "acme-corp", sim.control.installation_token("globex")).status_code == 403


@pytest.mark.parametrize(
    "user,scope,status",
    [
        ("olivia", "read:org", 200),
        ("olivia", "manage_billing:copilot", 200),
        ("olivia", "repo", 403),
        ("bill", "read:org", 403),
        ("mia", "manage_billing:copilot", 403),
    ],
)
def test_seats_with_classic_tokens(sim, token, user, scope, status):
    resp = seats_call(sim, "acme-corp", token(user, "oauth", scope=scope))
    assert resp.status_code == status
    if status == 403:
        assert resp.headers["x-accepted-oauth-scopes"] == "manage_billing:copilot, read:org"


def test_seat_list_pagination_and_idle_seats(sim, token):
    grant_seat_permission(sim)
    olivia = token("olivia")
    first = seats_call(sim, "acme-corp", olivia, per_page=5)
    assert first.status_code == 200
    assert 'rel="next"' in first.headers["Link"] and 'rel="last"' in first.headers["Link"]
    pages = [first.json()] + [
        seats_call(sim, "acme-corp", olivia, per_page=5, page=n).json() for n in (2, 3)
    ]
    assert all(p["total_seats"] == 12 for p in pages)
    seats = [s for p in pages for s in p["seats"]]
    logins = [s["assignee"]["login"] for s in seats]
    assert len(set(logins)) == 12 and logins[:2] == ["olivia", "mia"]
    assert {s["plan_type"] for s in seats} == {"business"}
    now = sim.state.clock.now_dt()
    month_ago = now - timedelta(days=30)

    def when(text: str | None) -> datetime | None:
        return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None

    for s in seats:
        assert when(s["created_at"]) <= now
        assert s["assignee"]["type"] == "User" and s["assignee"]["id"] > 0
        if s["last_activity_at"]:
            assert when(s["last_activity_at"]) <= now and s["last_activity_editor"]
    idle = {
        s["assignee"]["login"]
        for s in seats
        if not s["last_activity_at"] or when(s["last_activity_at"]) < month_ago
    }
    assert idle, "some seats have been idle for more than 30 days"
    today = now.date()
    start = today - timedelta(days=30)
    if start >= catalog.COPILOT_REPORT_START:
        _h, rows = parse(
            sim.control.report("acme-corp", "copilot", start.isoformat(), today.isoformat())
        )
        used = {r["username"] for r in rows}
        assert used and not used & idle
        last_use: dict[str, str] = defaultdict(str)
        for r in rows:
            last_use[r["username"]] = max(last_use[r["username"]], r["date"])
        for s in seats:
            login = s["assignee"]["login"]
            if login in used:
                assert s["last_activity_at"][:10] == last_use[login]


def test_seats_of_other_orgs(sim, token):
    globex = seats_call(sim, "globex", token("olivia", "oauth", scope="read:org")).json()
    assert globex["total_seats"] == 5 and {s["plan_type"] for s in globex["seats"]} == {
        "enterprise"
    }
    initech = seats_call(sim, "initech", token("oscar", "oauth", scope="read:org")).json()
    assert initech == {"total_seats": 0, "seats": []}
