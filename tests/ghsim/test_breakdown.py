"""The per-user / per-workflow / per-model breakdown adds up exactly to the usage items.

Pure generator properties (no server): random orgs and periods around the catalogue's
Copilot eras (dates derived from catalogue constants, never literals).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ghsim import catalog
from ghsim.breakdown import WORKFLOWS, Breakdown
from ghsim.copilot import MODELS, day_totals
from ghsim.models import Org, Repo
from ghsim.people import BOTS, OUTSIDE, People
from ghsim.usage import OrgPlan

CREATED = catalog.PREMIUM_REQUESTS_START - timedelta(days=200)
FIRST = catalog.PREMIUM_REQUESTS_START - timedelta(days=60)
LAST = catalog.TOKEN_COLUMNS_START + timedelta(days=120)
NO_USER = {
    "actions_storage",
    "packages_storage",
    "packages_bandwidth",
    "git_lfs_storage",
    "git_lfs_bandwidth",
    "codespaces_prebuild_storage",
}


def make_org(repos: int, skus: int, density: float, plan: str, seats: int, cplan: str) -> Org:
    return Org(
        id=4343,
        login="split-org",
        name="Split",
        description=None,
        created_at=datetime.combine(CREATED, datetime.min.time(), UTC),
        repos=[Repo(id=i + 1, name=f"r{i}") for i in range(repos)],
        enhanced_billing=True,
        plan=plan,
        skus_per_repo=skus,
        density=density,
        budgets=0,
        copilot_seats=seats,
        copilot_plan=cplan,
    )


@settings(
    max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    repos=st.integers(1, 8),
    skus=st.integers(1, 18),
    density=st.floats(0.3, 1.0),
    plan=st.sampled_from(["free", "team", "enterprise"]),
    seats=st.integers(0, 14),
    cplan=st.sampled_from(["business", "enterprise"]),
    members=st.lists(st.sampled_from(["olivia", "mia", "Amara-Okafor", "zed"]), unique=True),
    start=st.dates(FIRST, LAST),
    days=st.integers(0, 40),
    seed=st.integers(0, 2**32),
)
def test_parts_add_up_exactly(repos, skus, density, plan, seats, cplan, members, start, days, seed):
    org = make_org(repos, skus, density, plan, seats, cplan)
    usage = OrgPlan(org, seed)
    people = People(members, seats)
    span = (start, start + timedelta(days=days))
    whole = list(Breakdown(usage, people).iter_days(span))
    assert [d for d, _ in whole] == [d for d, rows in usage.iter_rows(*span) if rows]
    for _day, rows in whole:
        for slot, q, gross, disc, parts in rows:
            sku = usage.slots[slot].sku
            assert parts
            assert sum(p[3] for p in parts) == q
            assert sum(p[4] for p in parts) == gross
            assert sum(p[5] for p in parts) == disc
            keys = [(p[0], p[1], p[2]) for p in parts]
            assert len(set(keys)) == len(keys), "one row per user, workflow and model"
            for user, workflow, model, pq, pgross, pdisc in parts:
                assert pq > 0 and 0 <= pdisc <= pgross
                if sku.key in NO_USER:
                    assert (user, workflow, model) == ("", "", "")
                elif sku.unit == "Minutes":
                    assert pq % catalog.Q_SCALE == 0, "whole minutes"
                    assert workflow in WORKFLOWS and user and not model
                    assert user in people.actors
                elif sku.product == "copilot" and sku.unit != "UserMonths":
                    assert user in people.seats[:seats] and model in {m.name for m in MODELS}
                    assert not workflow
                else:
                    assert user and not workflow and not model
                    assert user not in BOTS and user not in OUTSIDE
    # The same days asked for as part of a shorter period: identical parts.
    if whole:
        mid = whole[len(whole) // 2][0]
        again = list(Breakdown(usage, people).iter_days((mid, span[1])))
        assert again == [d for d in whole if d[0] >= mid]


@settings(max_examples=15, deadline=None, database=None)
@given(
    seats=st.integers(1, 14),
    cplan=st.sampled_from(["business", "enterprise"]),
    start=st.dates(FIRST, LAST),
    seed=st.integers(0, 2**32),
)
def test_copilot_line_is_the_sum_of_users_and_models(seats, cplan, start, seed):
    usage = OrgPlan(make_org(2, 2, 1.0, "team", seats, cplan), seed)
    assert usage.copilot is not None
    span = (start, start + timedelta(days=20))
    lines = {
        (day, usage.slots[i].sku.key): (q, gross, disc, dq)
        for day, rows in usage.iter_rows(*span)
        for i, q, gross, disc, dq in rows
        if i in (usage.premium_slot, usage.ai_slot)
    }
    billed = {
        (
            day,
            catalog.COPILOT_AI_CREDIT.key
            if day >= catalog.AI_CREDITS_START
            else "copilot_premium_request",
        ): day_totals(rows)
        for day, rows in usage.copilot.iter_billed(*span)
    }
    assert lines == billed
    assert all(day >= catalog.PREMIUM_REQUESTS_START for day, _ in lines)


def test_quotas_per_user_then_pooled():
    """Premium requests: each user's quota; AI credits: one pool for the org. Heavy users
    exceed their quota in every full month; the pool runs out before each month ends."""
    usage = OrgPlan(make_org(3, 2, 1.0, "team", 12, "business"), 7)
    assert usage.copilot is not None
    first_full = date(catalog.COPILOT_REPORT_START.year, catalog.COPILOT_REPORT_START.month, 1)
    month = first_full
    while month < LAST.replace(day=1):
        end = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        per_user: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        quota = None
        for _day, rows in usage.copilot.iter_billed(month, end):
            for r in rows:
                per_user[r.seat][0] += r.q
                per_user[r.seat][1] += r.dq
                quota = r.quota
        ai = month >= catalog.AI_CREDITS_START
        if ai:
            assert quota == catalog.AI_CREDITS_PER_SEAT["business"] * 12
            assert sum(v[1] for v in per_user.values()) == quota * catalog.Q_SCALE
        else:
            assert quota == catalog.PREMIUM_PER_SEAT["business"]
            assert all(v[1] <= quota * catalog.Q_SCALE for v in per_user.values())
            over = [s for s, (q, dq) in per_user.items() if q > dq]
            assert over and all(per_user[s][1] == quota * catalog.Q_SCALE for s in over)
        idle = [s.index for s in usage.copilot.profiles if s.idle]
        assert idle and not set(idle) & set(per_user)
        month = end + timedelta(days=1)
