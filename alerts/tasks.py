"""Celery tasks of the alerts app. Thin: ids in, a service call.

Idempotent under at-least-once delivery: `alerts.deliver` claims its delivery with a
compare-and-swap, so a duplicate message (or the sweep's) finds nothing to do; an alert
fires once per rule, period and key, a scheduled digest once per channel, kind and
period (database constraints).
"""

from __future__ import annotations

from datetime import date, datetime

from celery import shared_task

from accounts.models import Organization

from . import delivery as work
from .digests import digests_send_due
from .firing import data_stopped_check, org_evaluate


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


@shared_task(name="alerts.evaluate_org")
def evaluate_org(organization_id: int, period: str) -> int:
    """After a month of the organization was collected: evaluate its rules for that
    month and fire what they find (once: a duplicate message fires nothing twice)."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return 0
    fired = org_evaluate(organization=organization, period=date.fromisoformat(period))
    return len(fired)


@shared_task(name="alerts.check_data_stopped")
def check_data_stopped() -> int:
    """Beat, hourly: fire the data-stopped rules of organizations not collected lately."""
    return data_stopped_check()


@shared_task(name="alerts.send_digests")
def send_digests(now: str | None = None) -> int:
    """Beat, hourly: send the weekly and monthly digests due now (`now`: an ISO time, to
    send what was due then; the default is the present)."""
    return digests_send_due(now=datetime.fromisoformat(now) if now else None)
