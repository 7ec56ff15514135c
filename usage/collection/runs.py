"""State changes of collection runs: skipping the queued ones (the queueing side and the
worker), finishing or re-queueing one (the worker and its source ladder)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from billingdash.logging import redact
from usage.models import CollectionRun


def runs_skip_queued(*, organization_id: int, reason: str) -> int:
    """Skip every queued run of the org (its installation cannot read billing)."""
    return CollectionRun.objects.filter(
        organization_id=organization_id, state=CollectionRun.State.QUEUED
    ).update(
        state=CollectionRun.State.SKIPPED,
        finished_at=timezone.now(),
        error=redact(reason)[:2000],
    )


def run_finish(run: CollectionRun, state: str, error: str = "", **fields) -> None:
    """Record the run's outcome (succeeded, failed, skipped) and why."""
    fields.setdefault("finished_at", timezone.now())
    fields.setdefault("error_kind", "")
    CollectionRun.objects.filter(pk=run.pk).update(
        state=state, error=redact(error)[:4000], **fields
    )


def run_requeue(run: CollectionRun, wait: float, error: str, **fields) -> None:
    """Put the run back in the queue, due again in `wait` seconds, saying why."""
    fields.setdefault("error_kind", "")
    CollectionRun.objects.filter(pk=run.pk).update(
        state=CollectionRun.State.QUEUED,
        not_before=timezone.now() + timedelta(seconds=wait),
        error=redact(error)[:4000],
        **fields,
    )
