"""Celery tasks of the usage app. Thin: JSON arguments (ids), a service call.

Delivery is at least once (``acks_late``, reject on worker loss, prefetch 1: see the
Celery section of settings). That is safe because every task is idempotent: a second
delivery of `collect_org` finds the org's lease taken (and leaves) or its runs done; a
second beat queues nothing twice (one active run per org and month).
"""

from __future__ import annotations

import logging
import random

from celery import shared_task

from usage import services
from usage.collect import max_countdown, org_collect_due
from usage.locks import lease_seconds, new_holder

log = logging.getLogger(__name__)


def _countdown(seconds: float) -> float:
    # Never past the broker's visibility timeout (settings.CELERY_MAX_COUNTDOWN_SECONDS).
    return max(0.0, min(float(seconds), float(max_countdown())))


@shared_task(name="usage.tasks.collect_org", bind=True)
def collect_org(self, organization_id: int, recheck: bool = False) -> dict:
    """Collect the org's due months under its lease; re-send itself after a rate limit
    or backoff (with a countdown: the worker never sleeps), or when its time budget
    ran out with months left."""
    holder = new_holder(self.request.id or "")
    result = org_collect_due(organization_id=organization_id, holder=holder)
    if result.busy and not recheck:
        # Another worker holds the lease. Alive, it collects what we were sent for;
        # dead, its lease expires: look once more then (the sweeper would too).
        collect_org.apply_async_on_commit(
            (organization_id, True), countdown=_countdown(lease_seconds() + random.uniform(1, 5))
        )
    elif result.retry_in is not None:
        collect_org.apply_async_on_commit((organization_id,), countdown=_countdown(result.retry_in))
    return {"runs": result.runs, "busy": result.busy, "retry_in": result.retry_in}


@shared_task(name="usage.tasks.schedule_current_month")
def schedule_current_month() -> int:
    """Beat, hourly: the current month of every collectable org."""
    return services.schedule_current_month()


@shared_task(name="usage.tasks.schedule_previous_month")
def schedule_previous_month() -> int:
    """Beat, daily: the previous month until the 10th (late adjustments)."""
    return services.schedule_previous_month()


@shared_task(name="usage.tasks.sweep_stale_runs")
def sweep_stale_runs() -> int:
    """Beat, every minute: re-send orgs whose run lost its worker or its message."""
    return services.runs_sweep_stale()
