"""Which billing endpoints answer for an organization, as GitHub last said
(`EndpointAvailability`): the usage report, the summary, the budgets.

An endpoint GitHub refuses to an org is recorded with GitHub's answer (status, message,
the permission it asked for) and asked again only after
``COLLECTION_UNAVAILABLE_RECHECK_SECONDS`` (a day): never a retry storm. The status page
reads these facts (`usage.collection.selectors.org_usage_availability`).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import Organization
from billingdash import github
from billingdash.logging import redact
from usage.models import EndpointAvailability

Reason = EndpointAvailability.Reason


def reason_of(error: github.GitHubError) -> str:
    """What GitHub's refusal means for an org (400 and 404 on a billing endpoint: not
    available to it; 403: a permission)."""
    if isinstance(error, github.BadRequest | github.NotFound | github.Unprocessable):
        return Reason.NOT_AVAILABLE
    if isinstance(error, github.Forbidden):
        return Reason.MISSING_PERMISSION if error.accepted_permissions else Reason.REFUSED
    return Reason.REFUSED


def availability_record(
    *,
    organization: Organization,
    endpoint: str,
    error: github.GitHubError | None = None,
    reason: str | None = None,
    detail: str = "",
) -> EndpointAvailability:
    """Record that `endpoint` answered (no `error`) or what GitHub refused with; a refused
    endpoint is due again after ``COLLECTION_UNAVAILABLE_RECHECK_SECONDS``."""
    now = timezone.now()
    recheck = timedelta(seconds=settings.COLLECTION_UNAVAILABLE_RECHECK_SECONDS)
    missing = ""
    if isinstance(error, github.Forbidden):
        missing = error.accepted_permissions_header or ""
    if error is not None:
        reason = reason or reason_of(error)
        detail = detail or f"GitHub answered {error.status}: {error.message}"
    row, _ = EndpointAvailability.objects.update_or_create(
        organization=organization,
        endpoint=endpoint,
        defaults={
            "available": error is None and not reason,
            "reason": reason or "",
            "status": error.status if error is not None else None,
            "missing_permission": missing[:200],
            "checked_at": now,
            "next_check_at": None if error is None and not reason else now + recheck,
            "detail": redact(detail)[:300],
        },
    )
    return row


def availability_due(*, organization: Organization, endpoint: str) -> bool:
    """Ask `endpoint` now? Yes unless GitHub refused it and the re-check is not due."""
    row = EndpointAvailability.objects.filter(organization=organization, endpoint=endpoint).first()
    return row is None or row.available or (row.next_check_at or timezone.now()) <= timezone.now()


def availability_forget(*, organization: Organization) -> int:
    """Forget the org's refusals (its login changed: they were answers about the old
    login). Returns how many were forgotten."""
    return EndpointAvailability.objects.filter(organization=organization, available=False).delete()[
        0
    ]
