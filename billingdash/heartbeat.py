"""Is celery beat ticking, and does a worker run tasks? A heartbeat answers both.

Beat sends ``usage.heartbeat.beat`` every minute (``CELERY_BEAT_SCHEDULE``) with the
moment it sent it (``sent_at``, evaluated by beat at send time through
``celery.beat.BeatLazyFunc``); the worker that runs it records that moment as
``beat_seen_at`` and its own clock as ``worker_seen_at``. The operations page reads the
row: "beat last ticked N s ago, a worker last ran a task N s ago". A heartbeat that
waited in the queue shows as the gap between the two.

It lives in `billingdash` (with Celery, which it watches) so that `/healthz` and the
operations page can both read it without `billingdash` importing an app. The task keeps
its name (`usage.heartbeat.beat`): beat's schedule and queued messages hold it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from celery import shared_task
from django.db import models
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

HEARTBEAT = "celery"
# Beat sends a heartbeat every minute; three missed ones mean something is wrong.
INTERVAL_SECONDS = 60
LATE_AFTER = timedelta(seconds=3 * INTERVAL_SECONDS)


class ServiceHeartbeat(models.Model):
    """The last heartbeat seen: one row per name (only ``celery`` today)."""

    name = models.CharField(max_length=50, unique=True, default=HEARTBEAT)
    beat_seen_at = models.DateTimeField(
        null=True, blank=True, help_text="When beat sent the last heartbeat that ran."
    )
    worker_seen_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker last ran a heartbeat."
    )
    worker_hostname = models.CharField(max_length=200, blank=True)

    class Meta:
        # The table kept its name when the model moved here from `usage` (migrations
        # billingdash.0002 and usage.0004 move it in Django's state only).
        db_table = "usage_serviceheartbeat"

    def __str__(self) -> str:
        return f"heartbeat {self.name}"


def heartbeat_record(
    *, sent_at: datetime | None, hostname: str = "", name: str = HEARTBEAT
) -> ServiceHeartbeat:
    """A worker ran a heartbeat that beat sent at `sent_at` (None: sent by hand). Beat's
    time never moves backwards (heartbeats may run out of order after a backlog)."""
    now = timezone.now()
    ServiceHeartbeat.objects.get_or_create(name=name)
    fields: dict = {"worker_seen_at": now, "worker_hostname": hostname[:200]}
    if sent_at is not None:
        fields["beat_seen_at"] = Greatest(Coalesce("beat_seen_at", sent_at), sent_at)
    ServiceHeartbeat.objects.filter(name=name).update(**fields)
    return ServiceHeartbeat.objects.get(name=name)


@dataclass(frozen=True)
class HeartbeatStatus:
    beat_seen_at: datetime | None
    worker_seen_at: datetime | None
    worker_hostname: str
    beat_age: float | None  # seconds
    worker_age: float | None
    beat_ok: bool
    worker_ok: bool


def _age(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else max(0.0, (now - moment).total_seconds())


def heartbeat_status(*, now: datetime | None = None, name: str = HEARTBEAT) -> HeartbeatStatus:
    now = now or timezone.now()
    row = ServiceHeartbeat.objects.filter(name=name).first()
    beat = row.beat_seen_at if row else None
    worker = row.worker_seen_at if row else None
    beat_age, worker_age = _age(beat, now), _age(worker, now)
    limit = LATE_AFTER.total_seconds()
    return HeartbeatStatus(
        beat_seen_at=beat,
        worker_seen_at=worker,
        worker_hostname=row.worker_hostname if row else "",
        beat_age=beat_age,
        worker_age=worker_age,
        beat_ok=beat_age is not None and beat_age <= limit,
        worker_ok=worker_age is not None and worker_age <= limit,
    )


def _parse_sent_at(sent_at: float | str | None) -> datetime | None:
    if sent_at in (None, ""):
        return None
    if isinstance(sent_at, int | float):
        return datetime.fromtimestamp(float(sent_at), tz=UTC)
    parsed = datetime.fromisoformat(str(sent_at))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@shared_task(name="usage.heartbeat.beat", bind=True, ignore_result=True)
def beat(self, sent_at: float | str | None = None) -> None:
    """Beat, every minute: record that beat sent this (at `sent_at`, epoch seconds or
    ISO 8601) and that a worker ran it now."""
    heartbeat_record(sent_at=_parse_sent_at(sent_at), hostname=self.request.hostname or "")
