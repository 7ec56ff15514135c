"""GitHub is asked at most a few times a day about an org that cannot use the usage
report, proven with the simulator's request log over two simulated days: the
simulator's clock and Django's move together through beat's schedule (the hourly
collection at :07, the daily one at 04:17, the sweep, the reconciliation of
installations every 15 minutes), and every run due is collected in this process."""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

from accounts.installations.services import installations_reconcile
from billingdash.github import clock as github_clock
from usage import periods
from usage.collection.collect import org_collect_due
from usage.collection.services import (
    org_backfill_start,
    runs_sweep_stale,
    schedule_current_month,
    schedule_previous_month,
)
from usage.models import CollectionRun

from .conftest import DIALECTS, installation_of, not_enhanced_org

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


@contextlib.contextmanager
def github_clock_forgotten():
    """GitHub's clock as the client observed it (Date headers) is left behind with the
    simulated days: later tests learn it afresh."""
    try:
        yield
    finally:
        github_clock.forget()


STEP = timedelta(minutes=5)
HOURS = 48


def about(entry: dict, login: str, installation_id: int) -> bool:
    """A request about this org: its billing endpoints, the org itself, its installation
    (GitHub's list of every installation, for the reconciliation, is not)."""
    path = entry["api_path"] or ""
    return f"/{login}" in path or path.startswith(f"/app/installations/{installation_id}")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_github_is_asked_a_few_times_a_day_about_an_org_that_cannot_use_the_report(
    gh_in_process, dialect
):
    sim = gh_in_process
    org = not_enhanced_org(sim, "legacy-org", dialect)
    installation_id = installation_of(org).installation_id
    start = datetime.combine(periods.today(), time(0, 0), tzinfo=UTC)
    seq = max((r["seq"] for r in sim.control.requests_log()), default=0)

    with time_machine.travel(start, tick=False) as traveller, github_clock_forgotten():
        sim.control.set_clock(start.isoformat())
        org_backfill_start(organization=org)  # the install
        org_collect_due(organization_id=org.pk, holder="day")
        now = start + timedelta(minutes=2)
        while now < start + timedelta(hours=HOURS):
            traveller.move_to(now)
            sim.control.set_clock(now.isoformat())
            runs_sweep_stale()
            if now.minute % 15 == 2:
                installations_reconcile()
            if now.minute == 7:
                schedule_current_month()
            if (now.hour, now.minute) == (4, 17):
                schedule_previous_month()
            org_collect_due(organization_id=org.pk, holder="day")
            now += STEP

    calls = [
        r
        for r in sim.control.requests_log(seq)
        if r["kind"] == "api" and about(r, "legacy-org", installation_id)
    ]
    per_day = Counter(r["at"][:10] for r in calls)
    usage = [r for r in calls if r["api_path"].endswith("/settings/billing/usage")]
    status = DIALECTS[dialect]
    print(
        f"\n{dialect} ({status}): GitHub calls about the org per simulated day: "
        f"{dict(sorted(per_day.items()))}; usage report asked {len(usage)} times in "
        f"{HOURS} h: " + ", ".join(f"{r['at'][:16]} -> {r['status']}" for r in usage)
    )
    assert [r["status"] for r in usage] == [status, status]  # the install, one re-check
    first, again = (datetime.fromisoformat(r["at"].replace("Z", "+00:00")) for r in usage)
    assert timedelta(hours=24) <= again - first <= timedelta(hours=25)
    assert len(per_day) == 2 and max(per_day.values()) <= 5
    # Nothing was left to retry, and nothing revived the org into the hourly schedule.
    runs = CollectionRun.objects.filter(organization=org)
    asked = runs.exclude(state=CollectionRun.State.SKIPPED)  # the backfill's other months
    assert list(asked.values_list("state", flat=True)) == [CollectionRun.State.FAILED] * 2
    assert not runs.filter(state__in=CollectionRun.ACTIVE_STATES).exists()
    assert installation_of(org).state == "active"
