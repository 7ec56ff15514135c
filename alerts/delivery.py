"""The worker side of delivery: one attempt of one delivery, its retry schedule, the
sweep of lost work, and queueing the `alerts.deliver` task.

An attempt claims the delivery with a compare-and-swap (PENDING and due -> SENDING,
attempts + 1), sends once, and settles it with another compare-and-swap fenced on that
claim: SENT; PENDING again with `next_attempt_at` (network errors, 5xx, 408, 429:
exponential backoff with jitter, Retry-After honoured, up to `ALERTS_RETRY_MAX_SECONDS`);
FAILED (refused destination, any other 4xx, a redirect, an unsubscribed address); or
GAVE_UP once `max_attempts` are used. Delivery is at least once: a worker that dies
after sending but before settling sends again (receivers can tell by the delivery id).
"""

from __future__ import annotations

import logging
import random
import traceback
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from .mail import send_email
from .messages import Message
from .models import Channel, Delivery
from .senders import Outcome, send_http

log = logging.getLogger(__name__)

# A PENDING delivery due longer ago than this lost its message (broker down): re-send.
SWEEP_AFTER = timedelta(minutes=1)
SWEEP_BATCH = 500
# The `alerts.deliver` task's hard time limit; a SENDING claim older than this plus a
# margin belongs to a worker that died.
TASK_TIME_LIMIT = 120
STALE_CLAIM = timedelta(seconds=TASK_TIME_LIMIT + 60)
# Clocks of the process that scheduled an attempt and of the worker that claims it may
# differ a little (two machines): an attempt this close to due is due.
CLOCK_SKEW = timedelta(seconds=5)
# Publishing to a broker that is down must not hold a request for long.
ENQUEUE_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}


@dataclass(frozen=True)
class Attempt:
    """What `delivery_attempt` did: the delivery's status afterwards (None when there
    was nothing to claim) and, when a retry is due, in how many seconds."""

    status: str | None
    retry_in: float | None = None


def backoff_seconds(attempt: int, retry_after: float | None = None) -> float:
    """The wait before attempt `attempt + 1`: base * 2^(attempt-1), with jitter (between
    half and all of it), at least what Retry-After asked, at most the cap."""
    cap = min(settings.ALERTS_RETRY_MAX_SECONDS, settings.CELERY_MAX_COUNTDOWN_SECONDS)
    delay = min(cap, settings.ALERTS_RETRY_BASE_SECONDS * 2 ** max(0, attempt - 1))
    delay = random.uniform(delay / 2, delay)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, cap)


def _send(delivery: Delivery) -> Outcome:
    channel = delivery.channel
    if not channel.enabled:
        return Outcome(ok=False, error="the channel is turned off")
    message = Message.from_json(delivery.message)
    if channel.kind == Channel.Kind.EMAIL:
        return send_email(channel, delivery, message)
    return send_http(channel, delivery, message)


def _settle(delivery: Delivery, outcome: Outcome) -> Attempt:
    now = timezone.now()
    changes: dict = {"claimed_at": None, "last_status_code": outcome.status_code}
    retry_in = None
    if outcome.ok:
        status = Delivery.Status.SENT
        changes |= {"sent_at": now, "error": "", "next_attempt_at": None}
    elif outcome.retryable and delivery.attempts < delivery.max_attempts:
        status = Delivery.Status.PENDING
        retry_in = backoff_seconds(delivery.attempts, outcome.retry_after)
        changes |= {"error": outcome.error, "next_attempt_at": now + timedelta(seconds=retry_in)}
    else:
        status = Delivery.Status.GAVE_UP if outcome.retryable else Delivery.Status.FAILED
        changes |= {"error": outcome.error, "next_attempt_at": None}
    settled = Delivery.objects.filter(
        pk=delivery.pk, status=Delivery.Status.SENDING, attempts=delivery.attempts
    ).update(status=status, updated_at=now, **changes)
    if not settled:  # the sweep took the claim back meanwhile: its attempt decides
        return Attempt(status=None)
    return Attempt(status=status, retry_in=retry_in)


def delivery_attempt(*, delivery_pk: int) -> Attempt:
    """Claim the delivery if it is due, send it once, record what happened."""
    now = timezone.now()
    claimed = (
        Delivery.objects.filter(pk=delivery_pk, status=Delivery.Status.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + CLOCK_SKEW))
        .update(
            status=Delivery.Status.SENDING,
            attempts=F("attempts") + 1,
            claimed_at=now,
            updated_at=now,
        )
    )
    if not claimed:
        return Attempt(status=None)
    delivery = Delivery.objects.select_related("channel").get(pk=delivery_pk)
    try:
        outcome = _send(delivery)
    except Exception as error:
        # Our own bug or an unexpected library error: retried, and logged with the
        # traceback's frames but not the exception's text (it may hold the URL).
        log.error(
            "alert delivery %s: the attempt raised %s\n%s",
            delivery.delivery_id,
            type(error).__name__,
            "".join(traceback.format_tb(error.__traceback__)),
        )
        error_text = f"internal error ({type(error).__name__})"
        outcome = Outcome(ok=False, retryable=True, error=error_text)
    result = _settle(delivery, outcome)
    log.info(
        "alert delivery %s (%s, %s) attempt %d: %s",
        delivery.delivery_id,
        delivery.event,
        delivery.channel.kind,
        delivery.attempts,
        result.status,
    )
    return result


def enqueue(delivery_pk: int, *, countdown: float | None = None) -> bool:
    """Queue `alerts.deliver`; a broker failure is logged, never raised (the sweep sends
    the delivery later)."""
    from .tasks import deliver

    try:
        deliver.apply_async(
            (delivery_pk,), countdown=countdown, retry=True, retry_policy=ENQUEUE_RETRY_POLICY
        )
    except Exception:
        log.warning("could not queue alert delivery %s; the sweep will", delivery_pk, exc_info=True)
        return False
    return True


def deliveries_sweep() -> int:
    """Claims left SENDING by a dead worker go back to PENDING; PENDING deliveries due
    a minute ago are queued again. Returns how many were queued."""
    now = timezone.now()
    Delivery.objects.filter(
        status=Delivery.Status.SENDING, claimed_at__lt=now - STALE_CLAIM
    ).update(status=Delivery.Status.PENDING, claimed_at=None, next_attempt_at=now, updated_at=now)
    due = (
        Delivery.objects.filter(status=Delivery.Status.PENDING)
        .filter(
            Q(next_attempt_at__lt=now - SWEEP_AFTER)
            | Q(next_attempt_at__isnull=True, created_at__lt=now - SWEEP_AFTER)
        )
        .order_by("next_attempt_at", "pk")
    )
    queued = 0
    for pk in list(due.values_list("pk", flat=True)[:SWEEP_BATCH]):
        if not enqueue(pk):
            break  # the broker is still down; the next sweep tries again
        queued += 1
    if queued:
        log.info("sweep queued %d alert deliveries", queued)
    return queued
