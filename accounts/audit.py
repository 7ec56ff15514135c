"""The audit log: one append-only `AuditEvent` per sign-in, staff action, install or export."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest

from accounts.models import AuditEvent, Organization, User


def audit_log(
    *,
    actor: User | None,
    action: str,
    organization: Organization | None = None,
    target: str = "",
    request: HttpRequest | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one `AuditEvent` (``signin``, ``signout``, ``signout_everywhere``...)."""
    real_actor = actor if actor is not None and actor.pk else None
    return AuditEvent.objects.create(
        actor=real_actor,
        actor_label=str(actor) if real_actor else "system",
        action=action,
        organization=organization,
        target=target[:300],
        ip_address=(request.META.get("REMOTE_ADDR") or None) if request else None,
        details=dict(details or {}),
    )
