"""Spend spikes (ghsim/spikes.py): a day's quantity of a SKU multiplied, shown exactly and
consistently by the usage report, the summary and the simulator's totals.

Dates derive from the simulator's today (the module is in the `dates` set)."""

from __future__ import annotations

import calendar
import json
from datetime import date
from decimal import Decimal

import pytest
import requests

from ghsim.usage import add_months

pytestmark = pytest.mark.dates
USAGE = "/organizations/acme-corp/settings/billing/usage"
SUMMARY = "/organizations/acme-corp/settings/billing/usage/summary"


@pytest.fixture
def month(sim) -> tuple[date, date]:
    first = add_months(sim.state.clock.today().replace(day=1), -1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


@pytest.fixture
def documented(sim):
    """Exact decimals make "exactly" literal (the observed dialect: test_dialects.py)."""
    sim.control.set_dialect("acme-corp", "documented")


def day_items(api, token, day: date) -> list[dict]:
    query = f"?year={day.year}&month={day.month}&day={day.day}"
    resp = api.get(USAGE + query, token)
    assert resp.status_code == 200
    return json.loads(resp.content, parse_float=Decimal)["usageItems"]


def month_items(api, token, first: date) -> list[dict]:
    resp = api.get(USAGE + f"?year={first.year}&month={first.month}", token)
    return json.loads(resp.content, parse_float=Decimal)["usageItems"]


def assert_consistent(api, sim, token, month) -> dict:
    """Usage items, summary and totals agree exactly for the month; returns the totals."""
    first, last = month
    items = month_items(api, token, first)
    totals = sim.control.totals("acme-corp", first.isoformat(), last.isoformat(), "sku")
    assert len(items) == totals["total"]["items"]
    for key, total in (("grossAmount", "gross"), ("netAmount", "net")):
        assert sum(Decimal(i[key]) for i in items) == Decimal(totals["total"][total])
    summary = json.loads(
        api.get(SUMMARY + f"?year={first.year}&month={first.month}", token).content,
        parse_float=Decimal,
    )["usageItems"]
    assert sum(Decimal(r["netAmount"]) for r in summary) == Decimal(totals["total"]["net"])
    assert sum(Decimal(r["grossQuantity"]) for r in summary) == Decimal(totals["total"]["quantity"])
    return totals


def test_a_spike_multiplies_one_repository_exactly(api, sim, token, month, documented):
    olivia = token("olivia")
    day = month[0].replace(day=10)
    before = day_items(api, olivia, day)
    target = next(i for i in before if i["sku"] == "Actions Linux")
    repo = target["repositoryName"]
    totals_before = assert_consistent(api, sim, olivia, month)
    spike = sim.control.add_spike(
        "acme-corp", day.isoformat(), "actions_linux", 20, repository=repo
    )
    assert spike == {
        "day": day.isoformat(),
        "sku": "actions_linux",
        "repository": repo,
        "factor": "20",
        "items": 1,
    }
    after = day_items(api, olivia, day)
    changed = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
    spiked = next(a for a in after if a["sku"] == "Actions Linux" and a["repositoryName"] == repo)
    assert spiked["quantity"] == target["quantity"] * 20
    assert spiked["grossAmount"] == target["grossAmount"] * 20
    # The same items in the same order (the spike changes numbers, never which items exist).
    assert all(
        b["sku"] == a["sku"] and b.get("repositoryName") == a.get("repositoryName")
        for b, a in changed
    )
    totals_after = assert_consistent(api, sim, olivia, month)
    linux = {g["key"]: g for g in totals_after["groups"]}["Actions Linux"]
    linux_before = {g["key"]: g for g in totals_before["groups"]}["Actions Linux"]
    added = Decimal(target["quantity"]) * 19
    assert Decimal(linux["quantity"]) == Decimal(linux_before["quantity"]) + added
    assert (
        Decimal(totals_after["total"]["gross"])
        == Decimal(totals_before["total"]["gross"]) + target["grossAmount"] * 19
    )
    assert sim.control.spikes("acme-corp") == [spike]


def test_a_spike_without_repository_hits_every_repository(api, sim, token, month, documented):
    olivia = token("olivia")
    day = month[0].replace(day=12)
    before = [i for i in day_items(api, olivia, day) if i["sku"] == "Actions storage"]
    spike = sim.control.add_spike("acme-corp", day.isoformat(), "Actions storage", 3)
    assert spike["sku"] == "actions_storage" and spike["items"] == len(before) > 1
    after = [i for i in day_items(api, olivia, day) if i["sku"] == "Actions storage"]
    assert [a["quantity"] for a in after] == [b["quantity"] * 3 for b in before]
    assert_consistent(api, sim, olivia, month)
    # Spiking the same (day, sku, repository) again replaces the factor.
    sim.control.add_spike("acme-corp", day.isoformat(), "actions_storage", 2)
    assert [s["factor"] for s in sim.control.spikes("acme-corp")] == ["2"]
    again = [i for i in day_items(api, olivia, day) if i["sku"] == "Actions storage"]
    assert [a["quantity"] for a in again] == [b["quantity"] * 2 for b in before]


def test_clearing_spikes_restores_the_numbers(sim, month):
    first, last = (d.isoformat() for d in month)
    original = sim.control.totals("acme-corp", first, last, "day")
    day = month[0].replace(day=5).isoformat()
    sim.control.add_spike("acme-corp", day, "actions_linux", 50)
    sim.control.add_spike("acme-corp", day, "copilot_for_business", 4)
    spiked = sim.control.totals("acme-corp", first, last, "day")
    by_day = {g["key"]: g for g in spiked["groups"]}
    assert Decimal(by_day[day]["gross"]) > Decimal(
        {g["key"]: g for g in original["groups"]}[day]["gross"]
    )
    sim.control.clear_spikes("acme-corp", sku="copilot_for_business")
    assert [s["sku"] for s in sim.control.spikes("acme-corp")] == ["actions_linux"]
    sim.control.clear_spikes("acme-corp")
    assert sim.control.spikes("acme-corp") == []
    assert sim.control.totals("acme-corp", first, last, "day") == original
    sim.control.add_spike("acme-corp", day, "actions_linux", 50)
    sim.control.reset(seed=7)  # spikes go with the world
    assert sim.control.spikes("acme-corp") == []
    assert sim.control.totals("acme-corp", first, last, "day") == original


def test_a_spike_shows_in_the_observed_dialect_too(api, sim, token, month):
    olivia = token("olivia")
    day = month[0].replace(day=8)
    sim.control.add_spike("acme-corp", day.isoformat(), "actions_linux", 20)
    first, last = (d.isoformat() for d in month)
    truth = sim.control.totals("acme-corp", first, last)["total"]
    items = month_items(api, olivia, month[0])  # acme-corp answers "observed"
    net = sum(Decimal(i["netAmount"]) for i in items)
    assert net.quantize(Decimal("1e-10")) == Decimal(truth["net"])


@pytest.mark.parametrize(
    "body,message",
    [
        ({"day": "2026-13-01", "sku": "actions_linux"}, "day"),
        ({"day": "2026-01-01", "sku": "nope"}, "unknown sku"),
        ({"day": "2026-01-01", "sku": "actions_linux", "factor": 0}, "factor"),
        ({"day": "2026-01-01", "sku": "actions_linux", "factor": "x"}, "factor"),
        ({"day": "2026-01-01", "sku": "actions_linux", "repository": "acme-corp/nope"}, "no rep"),
        (
            {"day": "2026-01-01", "sku": "copilot_for_business", "repository": "acme-corp/api"},
            "org",
        ),
    ],
)
def test_bad_spikes_are_refused(sim, body, message):
    resp = requests.post(sim.web_url + "/_sim/orgs/acme-corp/spikes", json=body)
    assert resp.status_code == 400 and message in resp.json()["error"]
    assert sim.control.spikes("acme-corp") == []
    missing = requests.post(sim.web_url + "/_sim/orgs/no-such-org/spikes", json=body)
    assert missing.status_code == 404


def test_control_page_adds_and_clears_spikes(sim, month):
    web = requests.Session()
    page = web.get(sim.web_url + "/_sim/").text
    assert "Add spike" in page and "world default" in page
    day = month[0].replace(day=3).isoformat()
    form = {"op": "spike", "org": "acme-corp", "day": day, "sku": "actions_linux", "factor": "9"}
    assert web.post(sim.web_url + "/_sim/ui", data=form, allow_redirects=False).status_code == 302
    [spike] = sim.control.spikes("acme-corp")
    assert (spike["day"], spike["factor"], spike["repository"]) == (day, "9", None)
    assert f"{day} <code>actions_linux</code> x9" in web.get(sim.web_url + "/_sim/").text
    web.post(sim.web_url + "/_sim/ui", data={"op": "clear_spikes", "org": "acme-corp"})
    assert sim.control.spikes("acme-corp") == []
    bad = web.post(sim.web_url + "/_sim/ui", data={**form, "sku": "nope"})
    assert bad.status_code == 400 and "unknown sku" in bad.text
    web.post(
        sim.web_url + "/_sim/ui", data={"op": "dialect", "org": "globex", "dialect": "observed"}
    )
    web.post(
        sim.web_url + "/_sim/ui", data={"op": "refuse_ghs", "org": "globex", "refused": "true"}
    )
    globex = {o["login"]: o for o in sim.control.state()["orgs"]}["globex"]
    assert (globex["dialect"], globex["refuses_installation_tokens"]) == ("observed", True)
