"""State changes of collection runs that both the queueing side and the worker side make."""

from __future__ import annotations

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
