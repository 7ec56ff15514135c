"""Celery tasks of the webhooks: process one stored delivery, sweep the ones a broker
outage left pending, and recover the ones GitHub could not deliver (its delivery log).
Thin: load by id, call a service."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from accounts.models import WebhookDelivery
from accounts.webhooks.handlers import sweep_stale_claims, webhook_delivery_process
from accounts.webhooks.recovery import webhook_deliveries_recover
from billingdash import github

log = logging.getLogger(__name__)


# A PENDING delivery younger than this is probably still on its way through the broker.
SWEEP_AFTER = timedelta(minutes=1)


SWEEP_BATCH = 500


# Publishing to a broker that is down must not hold GitHub's request for long: one
# reconnect attempt (a stale pooled connection), each bounded by broker_connection_timeout.
ENQUEUE_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}


def enqueue_delivery(delivery_pk: int) -> bool:
    """Queue processing of a stored delivery; a broker failure is logged, never raised
    (the delivery stays PENDING and the sweep queues it later)."""
    try:
        process_webhook_delivery.apply_async(
            (delivery_pk,), retry=True, retry_policy=ENQUEUE_RETRY_POLICY
        )
    except Exception:
        log.warning(
            "could not queue webhook delivery %s; the sweep will", delivery_pk, exc_info=True
        )
        return False
    return True


@shared_task(name="accounts.tasks.process_webhook_delivery")
def process_webhook_delivery(delivery_pk: int) -> str | None:
    """Process one stored webhook delivery (claimed once; see webhook_handlers)."""
    return webhook_delivery_process(delivery_pk=delivery_pk)


@shared_task(name="accounts.tasks.sweep_webhook_deliveries")
def sweep_webhook_deliveries() -> int:
    """Queue deliveries still PENDING a minute after they arrived: the broker was down
    when they came, or a failed attempt put them back. Runs every minute (beat)."""
    sweep_stale_claims()
    pending = WebhookDelivery.objects.filter(
        state=WebhookDelivery.State.PENDING, received_at__lt=timezone.now() - SWEEP_AFTER
    ).order_by("received_at")
    queued = 0
    for pk in list(pending.values_list("pk", flat=True)[:SWEEP_BATCH]):
        if not enqueue_delivery(pk):
            break  # the broker is still down; the next sweep tries again
        queued += 1
    if queued:
        log.info("sweep queued %d pending webhook deliveries", queued)
    return queued


@shared_task(name="accounts.tasks.recover_webhook_deliveries")
def recover_webhook_deliveries() -> dict[str, int] | None:
    """Ask GitHub to redeliver the deliveries it could not make to us (beat, every 10
    minutes); see `accounts.webhooks.recovery`."""
    try:
        return webhook_deliveries_recover().as_json()
    except (github.GitHubError, ImproperlyConfigured) as error:
        # Nothing was lost: the next run reads the log again.
        log.warning("webhook recovery skipped: %r", error)
        return None
