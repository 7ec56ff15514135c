"""Celery tasks that beat sends: schedule the current and previous month, sweep stale runs.
Thin: a service call. The worker's own task, `collect_org`, is in `usage.collection.collect`.

Delivery is at least once (`acks_late`, reject on worker loss, prefetch 1: see the Celery
section of settings). That is safe because every task is idempotent: a second beat queues
nothing twice (one active run per org and month). Task names are kept from before the
move into packages (`usage.tasks.*`): queued messages and beat's schedule hold them."""

from __future__ import annotations

import logging

from celery import shared_task

from usage.collection import services

log = logging.getLogger(__name__)


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
