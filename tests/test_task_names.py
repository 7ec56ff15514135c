"""Task names are persisted (queued messages, beat's schedule): moving the code into
packages must not strand a message that was queued before the move."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.conf import settings

from billingdash.heartbeat import ServiceHeartbeat
from tests.helpers import wait_for

# Every task name the code had before the apps were split into packages (issue 19).
NAMES_BEFORE_THE_MOVE = {
    "accounts.staff.recheck_installation",
    "accounts.staff.resync_org_memberships",
    "accounts.staff.resync_user_memberships",
    "accounts.tasks.process_webhook_delivery",
    "accounts.tasks.reconcile_installations",
    "accounts.tasks.sweep_webhook_deliveries",
    "usage.heartbeat.beat",
    "usage.tasks.collect_org",
    "usage.tasks.schedule_current_month",
    "usage.tasks.schedule_previous_month",
    "usage.tasks.sweep_stale_runs",
}

REGISTERED = """
import django; django.setup()
from billingdash.celery import app
app.loader.import_default_modules()  # what a worker does at start
print("\\n".join(sorted(n for n in app.tasks if not n.startswith("celery."))))
"""


@pytest.fixture(scope="module")
def registered() -> set[str]:
    """The task names a freshly started worker process knows."""
    out = subprocess.run(
        [sys.executable, "-c", REGISTERED],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split()
    return set(out)


def test_a_worker_registers_every_name_it_ever_had(registered):
    assert registered >= NAMES_BEFORE_THE_MOVE


def test_beat_only_sends_names_a_worker_knows(registered):
    sent = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert sent <= registered


def test_a_message_queued_by_its_old_name_runs(celery_worker):
    """A message published by name alone, as one queued before the move sits in Redis."""
    from billingdash.celery import app

    app.send_task("usage.heartbeat.beat", kwargs={"sent_at": None}, queue=celery_worker.queue)
    row = wait_for(lambda: ServiceHeartbeat.objects.first(), what="the heartbeat task to run")
    assert row.worker_hostname.startswith(celery_worker.queue)
    app.send_task("usage.tasks.sweep_stale_runs", queue=celery_worker.queue)
    wait_for(
        lambda: (
            "usage.tasks.sweep_stale_runs" in celery_worker.log()
            and "succeeded" in celery_worker.log().split("usage.tasks.sweep_stale_runs")[-1]
        ),
        what="the sweep to run",
    )
