"""At-least-once delivery made safe: the per-org lease with two workers, a worker killed
mid-run, a second beat, the stale-run sweeper. Real worker processes throughout."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.helpers import wait_for
from usage import periods
from usage.collection.collect import collect_org
from usage.collection.services import org_backfill_start, run_enqueue, runs_sweep_stale
from usage.collection.services import schedule_current_month as schedule
from usage.models import CollectionRun, OrgLock

from .conftest import usage_calls, wait_settled
from .test_collect_worker import assert_month_matches_simulator

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
State = CollectionRun.State
USAGE_PATH = r"/settings/billing/usage$"


def test_two_workers_never_collect_one_org_at_once(gh, installed_org, workers, settings):
    settings.BACKFILL_MONTHS = 4
    org = installed_org("busy-org", repos=3, skus_per_repo=3, created_months_ago=12)
    gh.control.fault("latency", USAGE_PATH, latency_ms=700)
    workers.start()
    workers.start()
    org_backfill_start(organization=org)
    for _ in range(4):  # duplicates, as a second beat or a redelivery would send
        collect_org.delay(org.pk)
    wait_settled(org, 4)
    runs = list(CollectionRun.objects.filter(organization=org).order_by("started_at"))
    assert [r.state for r in runs] == [State.SUCCEEDED] * 4
    for before, after in itertools.pairwise(runs):
        assert before.finished_at <= after.started_at  # one at a time
    # Each month was asked for exactly once, whatever the duplicates.
    assert sorted(c["query"]["month"] for c in usage_calls(gh, org.login)) == sorted(
        str(p.month) for p in periods.last_months(4)
    )
    for period in periods.last_months(4):
        assert_month_matches_simulator(gh, org, period)


def test_a_worker_killed_mid_run_loses_nothing_and_duplicates_nothing(gh, installed_org, workers):
    org = installed_org("crash-org", repos=4, skus_per_repo=4)
    first = workers.start()
    run, _ = run_enqueue(organization=org, period=periods.current_month(), trigger="manual")
    wait_settled(org)
    before = list(CollectionRun.objects.filter(pk=run.pk).values_list("state", flat=True))
    assert before == [State.SUCCEEDED]
    # The next collection hangs in GitHub's answer; the worker dies meanwhile.
    gh.control.fault("latency", USAGE_PATH, latency_ms=4000, count=1)
    run, _ = run_enqueue(organization=org, period=periods.current_month(), trigger="schedule")
    wait_for(lambda: CollectionRun.objects.get(pk=run.pk).state == State.RUNNING, what="start")
    time.sleep(0.5)  # well inside the request
    workers.kill(first)
    killed_at = time.monotonic()
    # Its transaction died with it: the month still holds the previous collection.
    assert_month_matches_simulator(gh, org, periods.current_month())
    assert CollectionRun.objects.get(pk=run.pk).state == State.RUNNING
    # Redis redelivers the unacknowledged message once it is older than the visibility
    # timeout; a new worker sees that at start-up (lowered here to seconds).
    time.sleep(max(0.0, 6.5 - (time.monotonic() - killed_at)))
    workers.start(CELERY_VISIBILITY_TIMEOUT="5")
    wait_settled(org, timeout=60)
    run.refresh_from_db()
    assert run.state == State.SUCCEEDED and run.attempts == 2, run.error
    assert CollectionRun.objects.filter(organization=org).count() == 2
    assert_month_matches_simulator(gh, org, periods.current_month())
    statuses = [c["status"] for c in usage_calls(gh, org.login)]
    assert len(statuses) == 3  # the first run, the killed attempt, the redelivery


def test_the_sweeper_requeues_a_run_whose_worker_died(gh, installed_org, celery_worker):
    org = installed_org("orphan-org", repos=2, skus_per_repo=2)
    # A run left running by a dead worker, its lease expired, its message gone.
    run = CollectionRun.objects.create(
        organization=org, period=periods.current_month(), trigger="schedule"
    )
    CollectionRun.objects.filter(pk=run.pk).update(state=State.RUNNING, attempts=1)
    OrgLock.objects.create(
        organization=org, holder="dead", expires_at=timezone.now() - timedelta(seconds=1)
    )
    # And one queued long ago whose message was lost (the broker was down).
    lost = CollectionRun.objects.create(
        organization=org, period=periods.previous_month(), trigger="late"
    )
    CollectionRun.objects.filter(pk=lost.pk).update(queued_at=timezone.now() - timedelta(hours=1))
    assert runs_sweep_stale() == 1  # one task per org
    wait_settled(org)
    run.refresh_from_db()
    lost.refresh_from_db()
    assert (run.state, run.attempts, lost.state) == (State.SUCCEEDED, 2, State.SUCCEEDED)
    assert runs_sweep_stale() == 0


def test_a_live_lease_is_not_swept(gh, installed_org):
    org = installed_org("alive-org", repos=2, skus_per_repo=2)
    run = CollectionRun.objects.create(
        organization=org, period=periods.current_month(), trigger="schedule"
    )
    CollectionRun.objects.filter(pk=run.pk).update(state=State.RUNNING)
    OrgLock.objects.create(
        organization=org, holder="alive", expires_at=timezone.now() + timedelta(minutes=1)
    )
    assert runs_sweep_stale() == 0


def test_a_second_beat_is_harmless(gh, installed_org, celery_worker):
    orgs = [installed_org(f"beat-org-{i}", repos=2, skus_per_repo=2) for i in range(3)]
    results: list[int] = []

    def beat() -> None:
        try:
            results.append(schedule())
        finally:
            connection.close()

    beats = [threading.Thread(target=beat) for _ in range(2)]
    for t in beats:
        t.start()
    for t in beats:
        t.join()
    assert sum(results) == 3  # each org's month queued once, whichever beat won
    for org in orgs:
        wait_settled(org, 1)
        assert CollectionRun.objects.filter(organization=org).count() == 1
        assert len(usage_calls(gh, org.login)) == 1


def _children(pid: int) -> list[int]:
    from pathlib import Path

    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def test_a_pool_process_killed_mid_run_is_redelivered_at_once(gh, installed_org, workers):
    """Prefork: the pool child dies, the worker rejects the message (reject on worker
    loss) and it comes straight back; the dead child's lease expires and the run is
    resumed, once."""
    import os
    import signal

    org = installed_org("child-crash-org", repos=3, skus_per_repo=3)
    worker = workers.start(pool="prefork", concurrency=1)
    gh.control.fault("latency", USAGE_PATH, latency_ms=4000, count=1)
    run, _ = run_enqueue(organization=org, period=periods.current_month(), trigger="manual")
    wait_for(lambda: CollectionRun.objects.get(pk=run.pk).state == State.RUNNING, what="start")
    time.sleep(0.5)
    (child,) = _children(worker.pid)
    os.kill(child, signal.SIGKILL)
    wait_settled(org, timeout=90)
    run.refresh_from_db()
    assert run.state == State.SUCCEEDED and run.attempts == 2, run.error
    assert len(usage_calls(gh, org.login)) == 2
    assert_month_matches_simulator(gh, org, periods.current_month())
    assert "WorkerLostError" in workers.logs()
