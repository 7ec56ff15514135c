"""The two dialects of the enhanced billing endpoints (ghsim/dialects.py): the documented
one follows GitHub's description and examples, the observed one published real answers;
both carry the same numbers as the simulator's exact totals.

Dates derive from the simulator's today (the module is in the `dates` set)."""

from __future__ import annotations

import calendar
import json
import re
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
import requests

from ghsim.config import ConfigError, SimConfig
from ghsim.dialects import NOT_ENHANCED
from ghsim.reference import example
from ghsim.usage import add_months
from tests.ghsim.openapi_check import DIALECT_DEVIATIONS, SUMMARY, USAGE, check_dialect

pytestmark = pytest.mark.dates
ORG_USAGE = "/organizations/{org}/settings/billing/usage"
ORG_SUMMARY = "/organizations/{org}/settings/billing/usage/summary"
ORG_BUDGETS = "/organizations/{org}/settings/billing/budgets"
# A number's raw JSON text inside a usage item ("key":text), floats and exponents included.
NUMBER = re.compile(r'"(quantity|pricePerUnit|grossAmount|discountAmount|netAmount)":([-0-9.eE+]+)')


@pytest.fixture
def last_month(sim) -> tuple[date, date]:
    first = add_months(sim.state.clock.today().replace(day=1), -1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def usage_text(api, token, org: str, first: date, extra: str = "") -> str:
    resp = api.get(
        ORG_USAGE.format(org=org) + f"?year={first.year}&month={first.month}{extra}", token
    )
    assert resp.status_code == 200, resp.text
    return resp.text


def raw_items(text: str) -> list[dict[str, str]]:
    """The items with every number kept as the text GitHub sent."""
    quoted = NUMBER.sub(lambda m: f'"{m.group(1)}":"{m.group(2)}"', text)
    return json.loads(quoted)["usageItems"]


def test_documented_usage_looks_like_the_example(api, sim, token, last_month):
    sim.control.set_dialect("acme-corp", "documented")
    text = usage_text(api, token("olivia"), "acme-corp", last_month[0], "&day=3")
    items = raw_items(text)
    assert items
    check_dialect(USAGE, items, "documented")
    [sample] = example("GET__organizations__org__settings__billing__usage.200.json")["usageItems"]
    linux = next(i for i in items if i["sku"] == "Actions Linux")
    assert list(linux) == list(sample)  # same keys, same order
    assert (linux["date"], linux["product"], linux["unitType"]) == (
        last_month[0].replace(day=3).isoformat(),
        sample["product"],
        sample["unitType"],
    )
    for item in items:  # plain decimals, no float noise
        for key in ("quantity", "grossAmount", "discountAmount", "netAmount"):
            assert re.fullmatch(r"\d+(\.\d{1,10})?", item[key]), item


def test_observed_usage_looks_like_real_answers(api, sim, token, last_month):
    # acme-corp follows the world's default, "observed".
    assert sim.control.state()["orgs"][0]["dialect"] == "observed"
    text = usage_text(api, token("olivia"), "acme-corp", last_month[0])
    items = raw_items(text)
    check_dialect(USAGE, items, "observed")
    units = {i["unitType"] for i in items}
    assert {"Minutes", "GigabyteHours", "UserMonths"} <= units
    assert {i["product"] for i in items} >= {"actions", "copilot"}
    assert "Actions storage" in {i["sku"] for i in items}
    assert items[0]["date"] == f"{last_month[0]}T00:00:00Z"
    # Float texts: some amounts are not the exact decimal (0.036000000000000004 style).
    long = [i["grossAmount"] for i in items if len(i["grossAmount"].split(".")[-1]) > 10]
    assert len(long) > len(items) // 50, long[:5]
    assert any(len(i["quantity"].split(".")[-1]) > 10 for i in items)


@pytest.mark.parametrize("dev", DIALECT_DEVIATIONS, ids=lambda d: f"{d.operation[-7:]}-{d.field}")
def test_listed_dialect_deviations_are_real(api, sim, token, last_month, dev):
    """Each listed deviation is needed: some observed value breaks the documented pattern."""
    path = ORG_USAGE if dev.operation == USAGE else ORG_SUMMARY
    query = f"?year={last_month[0].year}&month={last_month[0].month}"
    resp = api.get(path.format(org="acme-corp") + query, token("olivia"))
    rows = raw_items(resp.text)
    assert any(not re.match(dev.documented, str(row[dev.field])) for row in rows), dev


@pytest.mark.parametrize("dialect", ["documented", "observed"])
def test_both_dialects_carry_the_simulators_numbers(api, sim, token, last_month, dialect):
    sim.control.set_dialect("acme-corp", dialect)
    first, last = last_month
    items = json.loads(usage_text(api, token("olivia"), "acme-corp", first), parse_float=Decimal)[
        "usageItems"
    ]
    truth = sim.control.totals("acme-corp", first.isoformat(), last.isoformat(), "sku")
    assert len(items) == truth["total"]["items"]
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 4)
    for item in items:
        row = sums[item["sku"]]
        for n, key in enumerate(("quantity", "grossAmount", "discountAmount", "netAmount")):
            row[n] += Decimal(item[key])
        # Never below the exact value, and a hair above it at most.
        exact = (Decimal(item["quantity"]) * Decimal(item["pricePerUnit"])).quantize(
            Decimal("1e-10"), ROUND_HALF_UP
        )
        assert abs(Decimal(item["grossAmount"]) - exact) < Decimal("1e-9")
    cent = Decimal("0.01")
    for group in truth["groups"]:
        got = sums[group["key"]]
        exact = [Decimal(group[k]) for k in ("quantity", "gross", "discount", "net")]
        if dialect == "documented":
            assert got == exact
        else:  # floats: at or a hair above the truth; exact at the simulator's precision
            assert all(g >= e for g, e in zip(got, exact, strict=True))
            assert got[0].quantize(Decimal("1e-4")) == exact[0]
            assert [g.quantize(Decimal("1e-10")) for g in got[1:]] == exact[1:]
        net = got[3].quantize(cent, ROUND_HALF_UP)
        assert net == exact[3].quantize(cent, ROUND_HALF_UP)


def test_the_totals_are_the_same_for_both_dialects(sim, last_month):
    first, last = (d.isoformat() for d in last_month)
    observed = sim.control.totals("acme-corp", first, last, "sku")
    sim.control.set_dialect("acme-corp", "documented")
    assert sim.control.totals("acme-corp", first, last, "sku") == observed


@pytest.mark.parametrize("dialect", ["documented", "observed"])
def test_summary_is_consistent_within_the_dialect(api, sim, token, last_month, dialect):
    sim.control.set_dialect("acme-corp", dialect)
    first = last_month[0]
    olivia = token("olivia")
    query = f"?year={first.year}&month={first.month}"
    summary = api.get(ORG_SUMMARY.format(org="acme-corp") + query, olivia)
    rows = raw_items(summary.text)
    check_dialect(SUMMARY, rows, dialect)
    items = raw_items(usage_text(api, olivia, "acme-corp", first))
    assert {r["product"] for r in rows} == {i["product"] for i in items}
    assert {r["unitType"] for r in rows} == {i["unitType"] for i in items}
    # Both print SKU ids in the summary, as GitHub's summary example does.
    assert "actions_linux" in {r["sku"] for r in rows}
    parsed = json.loads(summary.content, parse_float=Decimal)["usageItems"]
    truth = sim.control.totals("acme-corp", first.isoformat(), last_month[1].isoformat())
    net = sum(Decimal(r["netAmount"]) for r in parsed)
    assert net.quantize(Decimal("1e-10")) == Decimal(truth["total"]["net"])


def test_documented_summary_matches_its_example(api, sim, token):
    sim.control.set_dialect("acme-corp", "documented")
    body = api.get(ORG_SUMMARY.format(org="acme-corp"), token("olivia")).json()
    sample = example("GET__organizations__org__settings__billing__usage__summary.200.json")
    linux = next(r for r in body["usageItems"] if r["sku"] == "actions_linux")
    want = sample["usageItems"][0]
    assert list(linux) == list(want)
    assert (linux["product"], linux["unitType"]) == (want["product"], want["unitType"])


@pytest.mark.parametrize("path", [ORG_USAGE, ORG_SUMMARY])
def test_no_enhanced_billing_400_documented_404_observed(api, sim, token, path):
    sim.control.install("initech")
    oscar = token("oscar")
    observed = api.get(path.format(org="initech"), oscar)  # initech: the world's default
    assert observed.status_code == 404
    assert observed.json()["message"] == "Not Found"
    assert set(observed.json()) == {"message", "documentation_url", "status"}
    sim.control.set_dialect("initech", "documented")
    documented = api.get(path.format(org="initech"), oscar)
    assert documented.status_code == 400
    assert documented.json()["message"] == NOT_ENHANCED
    # Budgets: 404 in both (the org has none).
    assert api.get(ORG_BUDGETS.format(org="initech"), oscar).status_code == 404


def test_documented_org_without_enhanced_billing_can_be_created(api, sim, token):
    created = sim.control.create_org(
        "umbrella",
        enhanced_billing=False,
        dialect="documented",
        members={"oscar": "admin"},
        installed=True,
    )
    assert created["dialect"] == "documented" and not created["enhanced_billing"]
    resp = api.get(ORG_USAGE.format(org="umbrella"), token("oscar"))
    assert resp.status_code == 400 and resp.json()["message"] == NOT_ENHANCED
    bad = requests.post(sim.web_url + "/_sim/orgs", json={"login": "x", "dialect": "nope"})
    assert bad.status_code == 400


def test_dialect_controls_and_reset(sim):
    state = {o["login"]: o["dialect"] for o in sim.control.state()["orgs"]}
    assert state == {"acme-corp": "observed", "globex": "documented", "initech": "observed"}
    assert sim.control.set_billing_defaults(dialect="documented")["dialect"] == "documented"
    state = {o["login"]: o["dialect"] for o in sim.control.state()["orgs"]}
    assert state == {"acme-corp": "documented", "globex": "documented", "initech": "documented"}
    sim.control.set_dialect("globex", "observed")
    assert sim.control.set_dialect("acme-corp", None)["dialect"] == "documented"  # default
    bad = requests.post(sim.web_url + "/_sim/orgs/acme-corp/dialect", json={"dialect": "x"})
    assert bad.status_code == 400 and "dialect" in bad.json()["error"]
    sim.control.reset(seed=7)
    state = {o["login"]: o["dialect"] for o in sim.control.state()["orgs"]}
    assert state == {"acme-corp": "observed", "globex": "documented", "initech": "observed"}


def test_sim_dialect_from_the_environment():
    _, private_key = SimConfig.generate()
    env = {
        "GITHUB_APP_ID": "1",
        "GITHUB_APP_CLIENT_ID": "Iv23x",
        "GITHUB_APP_CLIENT_SECRET": "s",
        "GITHUB_APP_PRIVATE_KEY": private_key,
        "GITHUB_WEBHOOK_SECRET": "w",
    }
    assert SimConfig.from_env(env).dialect == "observed"
    assert SimConfig.from_env({**env, "SIM_DIALECT": "Documented"}).dialect == "documented"
    with pytest.raises(ConfigError, match="SIM_DIALECT"):
        SimConfig.from_env({**env, "SIM_DIALECT": "yaml"})
    assert not SimConfig.from_env(env).billing_refuses_installation_tokens
    flag = {**env, "SIM_BILLING_REFUSES_INSTALLATION_TOKENS": "1"}
    assert SimConfig.from_env(flag).billing_refuses_installation_tokens


def test_report_cache_keeps_each_dialect_apart(api, sim, token, last_month, monkeypatch):
    monkeypatch.setattr(sim.state.config, "usage_cache_bytes", 64_000_000)
    olivia = token("olivia")
    observed = usage_text(api, olivia, "acme-corp", last_month[0])
    sim.control.set_dialect("acme-corp", "documented")
    documented = usage_text(api, olivia, "acme-corp", last_month[0])
    assert documented != observed
    assert usage_text(api, olivia, "acme-corp", last_month[0]) == documented
    sim.control.set_dialect("acme-corp", "observed")
    assert usage_text(api, olivia, "acme-corp", last_month[0]) == observed
