"""Celery tasks of the alerts app. Thin: a delivery's id in, a service call.

Idempotent under at-least-once delivery: `alerts.deliver` claims its delivery with a
compare-and-swap, so a duplicate message (or the sweep's) finds nothing to do.
"""

from __future__ import annotations

from celery import shared_task

from . import delivery as work


@shared_task(
    name="alerts.deliver",
    soft_time_limit=work.TASK_TIME_LIMIT - 30,
    time_limit=work.TASK_TIME_LIMIT,
)
def deliver(delivery_pk: int) -> str | None:
    """Send one delivery once; when it is to be retried, queue this task again with the
    backoff as countdown (the worker never sleeps)."""
    attempt = work.delivery_attempt(delivery_pk=delivery_pk)
    if attempt.retry_in is not None:
        work.enqueue(delivery_pk, countdown=attempt.retry_in)
    return attempt.status


@shared_task(name="alerts.sweep_deliveries")
def sweep_deliveries() -> int:
    """Beat, every minute: re-send deliveries whose message or worker was lost."""
    return work.deliveries_sweep()
