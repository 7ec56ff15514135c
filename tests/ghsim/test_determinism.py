"""Same seed -> same bytes; properties of the usage generator."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ghsim.config import SimConfig
from ghsim.dialects import DOCUMENTED, usage_report_chunks
from ghsim.models import Org, Repo
from ghsim.testing import SimulatorServer
from ghsim.usage import OrgPlan, add_months
from ghsim.usage_output import totals

# The run's today at noon (tests/clock.py moves it with TEST_TODAY): both simulators are
# built around the same moment, and the months asked for are complete ones before it.
TODAY = date.today()
NOW = f"{TODAY}T12:00:00Z"
LAST = add_months(TODAY.replace(day=1), -1)
BEFORE = add_months(TODAY.replace(day=1), -2)
PATHS = (
    f"/organizations/acme-corp/settings/billing/usage?year={LAST.year}&month={LAST.month}",
    f"/organizations/acme-corp/settings/billing/usage/summary?year={BEFORE.year}"
    f"&month={BEFORE.month}",
    "/organizations/acme-corp/settings/billing/budgets",
)

pytestmark = pytest.mark.dates


def fetch_all(seed: int) -> list[bytes]:
    config, _ = SimConfig.generate(seed=seed)
    with SimulatorServer(config) as sim:
        sim.control.reset(seed=seed, now=NOW)
        token = sim.control.issue_token("olivia")["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        return [requests.get(sim.api_url + p, headers=headers, timeout=60).content for p in PATHS]


def test_same_seed_same_bytes_other_seed_other_bytes():
    first, second, other = fetch_all(11), fetch_all(11), fetch_all(12)
    assert first == second
    assert all(a != b for a, b in zip(first, other, strict=True))
    assert len(json.loads(first[0])["usageItems"]) > 1000


def test_reset_restores_the_same_world(sim):
    sim.control.reset(seed=7, now=NOW)
    start = str(add_months(TODAY.replace(day=1), -11))
    before = sim.control.totals("acme-corp", start, str(TODAY), "sku")
    assert before["total"]["items"] > 0
    sim.control.create_org("extra", repos=3)
    sim.control.reset(seed=7, now=NOW)
    assert sim.control.totals("acme-corp", start, str(TODAY), "sku") == before
    assert "extra" not in {o["login"] for o in sim.control.state()["orgs"]}


def make_org(repos: int, skus: int, density: float, plan: str, seats: int) -> Org:
    return Org(
        id=4242,
        login="prop-org",
        name="Prop",
        description=None,
        created_at=datetime(2025, 2, 10, tzinfo=UTC),
        repos=[Repo(id=i + 1, name=f"r{i}") for i in range(repos)],
        enhanced_billing=True,
        plan=plan,
        skus_per_repo=skus,
        density=density,
        budgets=0,
        copilot_seats=seats,
        copilot_plan="business",
    )


@settings(
    max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    repos=st.integers(1, 12),
    skus=st.integers(1, 18),
    density=st.floats(0.2, 1.0),
    plan=st.sampled_from(["free", "team", "enterprise"]),
    seats=st.integers(0, 15),
    start=st.dates(date(2025, 1, 1), date(2026, 6, 30)),
    days=st.integers(0, 70),
    seed=st.integers(0, 2**32),
)
def test_generator_properties(repos, skus, density, plan, seats, start, days, seed):
    plan_ = OrgPlan(make_org(repos, skus, density, plan, seats), seed)
    end = date.fromordinal(start.toordinal() + days)
    span = (max(start, date(2025, 2, 10)), end)
    if span[0] > span[1]:
        return
    text = "".join(usage_report_chunks(plan_, span, DOCUMENTED, chunk_items=7))
    data = json.loads(text, parse_float=Decimal)["usageItems"]
    gross = disc = net = Decimal(0)
    for item in data:
        assert span[0].isoformat() <= item["date"][:10] <= span[1].isoformat()
        assert Decimal(item["quantity"]) > 0
        assert 0 <= item["discountAmount"] <= item["grossAmount"]
        assert item["netAmount"] == item["grossAmount"] - item["discountAmount"]
        gross += item["grossAmount"]
        disc += item["discountAmount"]
        net += item["netAmount"]
    expected = totals(plan_, span, "sku")["total"]
    assert expected["items"] == len(data)
    assert (
        Decimal(expected["gross"]),
        Decimal(expected["discount"]),
        Decimal(expected["net"]),
    ) == (
        gross,
        disc,
        net,
    )
    # Asking for a sub-range yields exactly the same items for those days.
    mid = date.fromordinal((span[0].toordinal() + span[1].toordinal()) // 2)
    part = json.loads("".join(usage_report_chunks(plan_, (mid, span[1]), DOCUMENTED)))["usageItems"]
    whole = json.loads(text)["usageItems"]
    assert part == [i for i in whole if i["date"][:10] >= mid.isoformat()]
