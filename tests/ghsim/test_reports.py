"""Usage report CSVs: GitHub's physical format per era, and sums equal to the usage endpoint.

Dates come from the simulator's today or from catalogue constants (the Copilot eras);
tests that need a given era rebuild the world around a day derived from the catalogue.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import requests

from ghsim import catalog
from ghsim.usage import add_months
from tests.ghsim.csvcheck import A, P, month_span, parse, total, usage_items, value

pytestmark = pytest.mark.dates
USAGE = "/organizations/{org}/settings/billing/usage"
NAMES = {s.name: s.key for s in catalog.ALL_SKUS}
HEADERS = {
    "summarized": '"date","product","sku","quantity","unit_type","applied_cost_per_quantity",'
    '"gross_amount","discount_amount","net_amount","organization","repository",'
    '"cost_center_name"',
    "detailed": '"date","product","sku","quantity","unit_type","applied_cost_per_quantity",'
    '"gross_amount","discount_amount","net_amount","username","organization","repository",'
    '"workflow_path","cost_center_name"',
    "premium_requests": '"date","username","product","sku","model","quantity","unit_type",'
    '"applied_cost_per_quantity","gross_amount","discount_amount","net_amount",'
    '"exceeds_quota","total_monthly_quota","organization","cost_center_name"',
    "transition": '"date","username","product","sku","model","quantity","unit_type",'
    '"applied_cost_per_quantity","gross_amount","discount_amount","net_amount",'
    '"exceeds_quota","total_monthly_quota","organization","cost_center_name","aic_quantity",'
    '"aic_gross_amount"',
    "ai_credits": '"date","username","product","sku","model","quantity","unit_type",'
    '"applied_cost_per_quantity","gross_amount","discount_amount","net_amount",'
    '"total_monthly_quota","organization","repository","cost_center_name","aic_quantity",'
    '"aic_gross_amount"',
}
HEADERS["ai_credits_tokens"] = (
    HEADERS["ai_credits"] + ',"input","output","cache_read","cache_write"'
)
UNITS = {"minutes", "gigabyte-hours", "gigabytes", "hours", "user-months", "requests", "ai-credits"}
NUMBER = re.compile(r"^-?\d+(\.\d+)?(E-\d\d)?$")
NUMERIC = {
    *("quantity", "applied_cost_per_quantity", "gross_amount", "discount_amount"),
    *("net_amount", "total_monthly_quota", "aic_quantity", "aic_gross_amount"),
    *("input", "output", "cache_read", "cache_write"),
}


def report(sim, kind: str, first: date, last: date, fmt: str | None = None, org="acme-corp"):
    return sim.control.report(org, kind, first.isoformat(), last.isoformat(), fmt)


def header_line(data: bytes) -> str:
    return data[3:].split(b"\r\n", 1)[0].decode()


@pytest.fixture
def eras(sim):
    """The demo world rebuilt 60 days after the 21-column format appeared: every Copilot
    era lies inside the 24 months GitHub serves."""
    sim.control.reset(seed=7, now=f"{catalog.TOKEN_COLUMNS_START + timedelta(days=60)}T12:00:00Z")
    sim.control.set_dialect("acme-corp", "documented")
    return sim


@pytest.fixture(autouse=True)
def exact_decimals(sim):
    """acme-corp answers in GitHub's documented dialect here: exact decimals, so the reports
    and the Copilot endpoints can be compared with the usage endpoint to the last digit (the
    observed dialect's float texts are covered, to the cent, in test_dialects.py)."""
    sim.control.set_dialect("acme-corp", "documented")


@pytest.fixture
def last_month(sim) -> tuple[date, date]:
    today = sim.state.clock.today()
    return month_span(add_months(today.replace(day=1), -1))


# -- format ----------------------------------------------------------------------------------
def test_copilot_report_format_follows_the_era(eras):
    days = timedelta(days=9)
    periods = {
        "premium_requests": catalog.AIC_COLUMNS_START - timedelta(days=12),
        "transition": catalog.AI_CREDITS_START - timedelta(days=10),
        "ai_credits": catalog.AI_CREDITS_START,
        "ai_credits_tokens": catalog.TOKEN_COLUMNS_START,
    }
    for fmt, first in periods.items():
        data = report(eras, "copilot", first, first + days)
        assert header_line(data) == HEADERS[fmt], fmt
        header, rows = parse(data)
        assert rows, fmt
        dates = [r["date"] for r in rows]
        assert dates == sorted(dates) and dates[0] >= first.isoformat()
        ai = first >= catalog.AI_CREDITS_START
        for r in rows:
            assert r["product"] == "copilot"
            assert r["sku"] == ("copilot_ai_credit" if ai else "copilot_premium_request")
            assert r["unit_type"] == ("ai-credits" if ai else "requests")
            assert Decimal(r["applied_cost_per_quantity"]) == Decimal(
                catalog.COPILOT_AI_CREDIT.prices[0][1]
                if ai
                else catalog.COPILOT_PREMIUM.prices[0][1]
            )
            assert r["username"] and r["model"] and r["organization"] == "acme-corp"
            for name in NUMERIC.intersection(header):
                assert NUMBER.match(r[name]), (name, r[name])
        if "exceeds_quota" in header:
            assert {r["exceeds_quota"] for r in rows} <= {"True", "False"}
            quota = str(catalog.PREMIUM_PER_SEAT["business"])
            assert {r["total_monthly_quota"] for r in rows} == {quota}
        if ai:
            pool = catalog.AI_CREDITS_PER_SEAT["business"] * 12
            assert {r["total_monthly_quota"] for r in rows} == {str(pool)}
            assert {(r["aic_quantity"], r["aic_gross_amount"]) for r in rows} == {("0", "0")}
        if "aic_quantity" in header and not ai:
            assert all(Decimal(r["aic_quantity"]) > 0 for r in rows)
        if "input" in header:
            assert all(int(r["input"]) > 0 and int(r["cache_read"]) > 0 for r in rows)


def test_a_period_across_the_switch_mixes_both_kinds_of_rows(eras):
    switch = catalog.AI_CREDITS_START
    data = report(eras, "copilot", switch - timedelta(days=3), switch + timedelta(days=3))
    assert header_line(data) == HEADERS["ai_credits"]
    _header, rows = parse(data)
    before = [r for r in rows if r["date"] < switch.isoformat()]
    after = [r for r in rows if r["date"] >= switch.isoformat()]
    assert before and after
    # As in GitHub's export: premium-request rows with quota 0 and AI credits in aic_*.
    assert {(r["unit_type"], r["total_monthly_quota"]) for r in before} == {("requests", "0")}
    assert all(Decimal(r["aic_gross_amount"]) > 0 for r in before)
    assert {r["unit_type"] for r in after} == {"ai-credits"}


def test_format_override_and_the_ui_layout(eras):
    first = catalog.AI_CREDITS_START
    data = report(eras, "copilot", first, first, "ai_usage_ui")
    header, rows = parse(data)
    assert "repository" not in header and len(header) == 16
    assert rows[0]["date"] == f"{first.month}/{first.day}/{first.year % 100:02d}"
    forced = report(eras, "copilot", first, first, "premium_requests")
    assert header_line(forced) == HEADERS["premium_requests"]


def test_metered_reports_are_githubs_files(sim, last_month):
    first, last = last_month
    for kind in ("summarized", "detailed"):
        data = report(sim, kind, first, last)
        assert header_line(data) == HEADERS[kind]
        _header, rows = parse(data)
        dates = [r["date"] for r in rows]
        assert dates == sorted(dates)
        assert dates[0] == first.isoformat() and dates[-1] == last.isoformat()
        for r in rows:
            assert r["product"] == r["product"].lower()
            assert re.fullmatch(r"[a-z0-9_]+", r["sku"]), r["sku"]
            assert r["unit_type"] in UNITS
            assert "/" not in r["repository"]  # bare repository names
            assert r["cost_center_name"] == ""
            for name in NUMERIC.intersection(r):
                assert NUMBER.match(r[name]), (name, r[name])
        texts = [r[n] for r in rows for n in ("gross_amount", "net_amount")]
        # GitHub's float text: some values carry binary noise beyond 10 decimals...
        assert any(len(t.split(".")[-1]) > 10 for t in texts if "." in t and "E" not in t)
        # ... and tiny prices use exponent notation, as GitHub's .NET writer does.
        prices = {r["applied_cost_per_quantity"] for r in rows}
        assert any("E-05" in p for p in prices), prices
        if kind == "detailed":
            actions = [r for r in rows if r["unit_type"] == "minutes"]
            assert all(r["username"] and r["workflow_path"] for r in actions)
            assert {r["workflow_path"] for r in actions} >= {
                ".github/workflows/ci.yml",
                "dynamic/dependabot/dependabot-updates",
            }
            assert {"dependabot[bot]", "olivia"} <= {r["username"] for r in actions}
            storage = [r for r in rows if r["sku"] in ("actions_storage", "packages_storage")]
            assert storage and all(r["username"] == r["workflow_path"] == "" for r in storage)


# -- consistency with the usage endpoint -----------------------------------------------------------
def _key(item: dict) -> tuple[str, str, str]:
    repo = item.get("repositoryName", "")
    return item["date"][:10], NAMES[item["sku"]], repo.split("/", 1)[1] if repo else ""


def test_reports_add_up_to_the_usage_endpoint(api, sim, token, last_month):
    first, last = last_month
    items = usage_items(
        api.get(
            USAGE.format(org="acme-corp") + f"?year={first.year}&month={first.month}",
            token("olivia"),
        )
    )
    per_item = {
        _key(i): tuple(
            Decimal(i[n]) for n in ("quantity", "grossAmount", "discountAmount", "netAmount")
        )
        for i in items
    }
    assert len(per_item) == len(items)
    expected_total = tuple(sum(v[n] for v in per_item.values()) for n in range(4))
    by_key = lambda r: (r["date"], r["sku"], r["repository"])  # noqa: E731
    _h, summarized = parse(report(sim, "summarized", first, last))
    assert total(summarized, by_key) == per_item  # one row per item, exactly
    assert total(summarized)[None] == expected_total
    _h, detailed = parse(report(sim, "detailed", first, last))
    assert len(detailed) > len(summarized)
    assert total(detailed, by_key) == per_item  # the parts of each item add up to it
    for r in summarized:
        price = next(i for i in items if _key(i) == by_key(r))["pricePerUnit"]
        assert value(r["applied_cost_per_quantity"], P) == Decimal(str(price))
    if first >= catalog.COPILOT_REPORT_START:
        _h, copilot = parse(report(sim, "copilot", first, last))
        lines = {
            k: v
            for k, v in per_item.items()
            if k[1] in ("copilot_premium_request", "copilot_ai_credit")
        }
        assert total(copilot, lambda r: (r["date"], r["sku"], "")) == lines


def test_copilot_report_is_the_copilot_line_in_each_era(api, eras, token):
    olivia = token("olivia")
    for first in (
        add_months(catalog.COPILOT_REPORT_START, 1),
        catalog.AIC_COLUMNS_START,
        catalog.AI_CREDITS_START,
        add_months(catalog.TOKEN_COLUMNS_START.replace(day=1), 1),
    ):
        month = month_span(first)
        items = usage_items(
            api.get(
                USAGE.format(org="acme-corp") + f"?year={first.year}&month={first.month}", olivia
            )
        )
        lines = {
            (i["date"][:10], NAMES[i["sku"]]): tuple(
                Decimal(i[n]) for n in ("quantity", "grossAmount", "discountAmount", "netAmount")
            )
            for i in items
            if NAMES[i["sku"]] in ("copilot_premium_request", "copilot_ai_credit")
        }
        assert len(lines) == (month[1] - month[0]).days + 1
        _h, rows = parse(report(eras, "copilot", *month))
        assert total(rows, lambda r: (r["date"], r["sku"])) == lines
        # Heavy users go over their quota / the pool runs out: billed usage every month.
        assert any(value(r["net_amount"], A) > 0 for r in rows)
        assert any(value(r["discount_amount"], A) > 0 for r in rows)


def test_totals_by_user_workflow_and_model(sim, last_month):
    first, last = (d.isoformat() for d in last_month)
    by_sku = sim.control.totals("acme-corp", first, last, "sku")["total"]
    _h, detailed = parse(report(sim, "detailed", *last_month))
    for group_by in ("user", "workflow", "model"):
        result = sim.control.totals("acme-corp", first, last, group_by)
        assert {k: result["total"][k] for k in ("quantity", "gross", "discount", "net")} == {
            k: by_sku[k] for k in ("quantity", "gross", "discount", "net")
        }
        if group_by == "model":
            continue
        column = "username" if group_by == "user" else "workflow_path"
        from_csv = total(detailed, lambda r, c=column: r[c])
        assert {
            g["key"]: tuple(Decimal(g[k]) for k in ("quantity", "gross", "discount", "net"))
            for g in result["groups"]
        } == from_csv
    models = sim.control.totals("acme-corp", first, last, "model")
    assert "Claude Sonnet 4.5" in {g["key"] for g in models["groups"]}


def test_reports_do_not_depend_on_the_period_asked(sim, last_month):
    first, last = last_month
    whole = parse(report(sim, "detailed", first, last))[1]
    mid = first + timedelta(days=10)
    part = parse(report(sim, "detailed", mid, last))[1]
    assert part == [r for r in whole if r["date"] >= mid.isoformat()]
    assert report(sim, "detailed", mid, last) == report(sim, "detailed", mid, last)


# -- periods and errors -------------------------------------------------------------------------
def test_periods_are_clipped_like_the_usage_endpoint(sim):
    today = sim.state.clock.today()
    oldest = add_months(today.replace(day=1), -24)
    _h, rows = parse(
        report(sim, "summarized", oldest - timedelta(days=20), oldest + timedelta(days=5))
    )
    assert rows and min(r["date"] for r in rows) == oldest.isoformat()
    later = today + timedelta(days=1)
    _h, none = parse(report(sim, "detailed", later, later + timedelta(days=3)))
    assert none == []
    _h, upto = parse(report(sim, "detailed", today - timedelta(days=2), later))
    assert max(r["date"] for r in upto) == today.isoformat()


def test_copilot_report_starts_with_the_premium_requests_report(eras):
    start = catalog.COPILOT_REPORT_START
    data = report(eras, "copilot", start - timedelta(days=10), start + timedelta(days=5))
    _h, rows = parse(data)
    assert rows and min(r["date"] for r in rows) == start.isoformat()
    _h, before = parse(
        report(eras, "copilot", start - timedelta(days=30), start - timedelta(days=1))
    )
    assert before == []


@pytest.mark.parametrize(
    "kind,days,query,status",
    [
        ("detailed", 32, "", 400),
        ("copilot", 32, "", 400),
        ("summarized", 367, "", 400),
        ("summarized", 366, "", 200),
        ("detailed", 1, "&format=summarized", 400),
        ("copilot", 1, "&format=nope", 400),
        ("weekly", 1, "", 404),
    ],
)
def test_period_limits_and_bad_requests(sim, kind, days, query, status):
    today = sim.state.clock.today()
    start = today - timedelta(days=days - 1)
    url = f"{sim.web_url}/_sim/orgs/acme-corp/reports/{kind}.csv?start={start}&end={today}{query}"
    resp = requests.get(url, timeout=120)
    assert resp.status_code == status, resp.text
    if status >= 400:
        assert resp.json()["error"]


def test_unknown_dates_orgs_and_no_enhanced_billing(sim):
    today = sim.state.clock.today()
    base = f"{sim.web_url}/_sim/orgs"
    bad = requests.get(f"{base}/acme-corp/reports/detailed.csv?start=2x&end={today}", timeout=30)
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.json()["error"]
    backwards = (
        f"{base}/acme-corp/reports/detailed.csv?start={today}&end={today - timedelta(days=1)}"
    )
    assert requests.get(backwards, timeout=30).status_code == 400
    assert (
        requests.get(
            f"{base}/nope/reports/detailed.csv?start={today}&end={today}", timeout=30
        ).status_code
        == 404
    )
    initech = requests.get(
        f"{base}/initech/reports/summarized.csv?start={today}&end={today}", timeout=30
    )
    assert initech.status_code == 400 and "enhanced billing" in initech.json()["error"]
