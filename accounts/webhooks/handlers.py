"""Processing of stored webhook deliveries: claim once, dispatch by event and action.

`webhook_delivery_process` is what the Celery task calls. A delivery is claimed with a
compare-and-swap (PENDING → PROCESSING), so a redelivered message, a sweep that queued
it twice, or two workers never process it twice. The handler and the final state are
written in one transaction. A handler returns True when the delivery changed something
here (PROCESSED) and False when it concerns nobody we know (IGNORED). Unknown events and
actions are IGNORED too.

GitHub quirks handled here:

- ``membership`` is about *team* membership (``scope: "team"``), not the organization
  role: ``membership.removed`` must not delete anyone's org Membership; it only asks for
  the roles to be read again.
- ``organization.member_added`` carries the new member's org role (``admin`` is an
  owner); billing managers are not members and get no such event.
- Webhooks arrive in no guaranteed order and may be redelivered; installation changes go
  through `accounts.installations`, which is written for that.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.installations.services import (
    audit_installation,
    installation_mark_deleted,
    installation_refresh_from_github,
    installation_set_suspended,
    installation_upsert,
)
from accounts.models import Installation, Membership, Organization, User, WebhookDelivery
from accounts.organizations import account_rename
from accounts.roles.sync import ROLES
from accounts.tokens import user_revoke_github_authorization
from billingdash.logging import redact

log = logging.getLogger(__name__)

Payload = Mapping[str, Any]
Handler = Callable[[WebhookDelivery, Payload], bool]

# A failed delivery goes back to PENDING (the sweep retries it a minute later) this many
# times before it is left FAILED for an operator to look at.
MAX_ATTEMPTS = 3
# "Far in the past": a Membership verified then is stale for any MEMBERSHIP_TTL_SECONDS.
STALE = datetime(2000, 1, 1, tzinfo=UTC)

HANDLERS: dict[tuple[str, str], Handler] = {}


def handles(event: str, *actions: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for action in actions:
            HANDLERS[(event, action)] = handler
        return handler

    return register


def is_handled(event: str, action: str) -> bool:
    return (event, action) in HANDLERS


# --- processing -------------------------------------------------------------------------


def webhook_delivery_process(*, delivery_pk: int) -> str | None:
    """Claim and process one stored delivery. Returns its final state, or None when it
    was not PENDING (already claimed, processed, or unknown)."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_pk, state=WebhookDelivery.State.PENDING
    ).update(
        state=WebhookDelivery.State.PROCESSING,
        attempts=F("attempts") + 1,
        # While PROCESSING, processed_at holds the claim time (see sweep_stale_claims).
        processed_at=now,
    )
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.get(pk=delivery_pk)
    handler = HANDLERS.get((delivery.event, delivery.action))
    try:
        with transaction.atomic():
            applied = handler(delivery, delivery.payload) if handler is not None else False
            state = WebhookDelivery.State.PROCESSED if applied else WebhookDelivery.State.IGNORED
            WebhookDelivery.objects.filter(pk=delivery_pk).update(
                state=state, processed_at=timezone.now(), error=""
            )
    except Exception as error:
        state = (
            WebhookDelivery.State.PENDING
            if delivery.attempts < MAX_ATTEMPTS
            else WebhookDelivery.State.FAILED
        )
        log.exception(
            "webhook delivery %s (%s.%s) failed, attempt %d",
            delivery.delivery_id,
            delivery.event,
            delivery.action,
            delivery.attempts,
        )
        WebhookDelivery.objects.filter(pk=delivery_pk).update(
            state=state, error=redact(f"{type(error).__name__}: {error}")[:2000]
        )
    return state


def sweep_stale_claims() -> int:
    """Deliveries left PROCESSING by a worker that died mid-task (the broker redelivers
    the message, but the claim would refuse it) go back to PENDING once the claim is
    older than the longest a task may run."""
    limit = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 300)
    return WebhookDelivery.objects.filter(
        state=WebhookDelivery.State.PROCESSING, processed_at__lt=timezone.now() - limit
    ).update(state=WebhookDelivery.State.PENDING)


# --- helpers ----------------------------------------------------------------------------


def _user(account: Any) -> User | None:
    if not isinstance(account, Mapping) or account.get("id") is None:
        return None
    return User.objects.filter(github_id=int(account["id"])).first()


def _org(account: Any) -> Organization | None:
    if not isinstance(account, Mapping) or account.get("id") is None:
        return None
    return Organization.objects.filter(github_id=int(account["id"])).first()


def _sender_details(delivery: WebhookDelivery, payload: Payload) -> dict[str, Any]:
    sender = payload.get("sender") or {}
    return {"source": "webhook", "delivery": delivery.delivery_id, "sender": sender.get("login")}


def memberships_mark_stale(*, user: User, organization: Organization | None = None) -> None:
    """Make the next page view re-read the user's roles from GitHub: the org list
    (``memberships_synced_at``) and, for one org, that Membership's ``verified_at``."""
    User.objects.filter(pk=user.pk).update(memberships_synced_at=None)
    if organization is not None:
        Membership.objects.filter(user=user, organization=organization).update(verified_at=STALE)


# --- installation -----------------------------------------------------------------------


@handles("installation", "created")
def installation_created(delivery: WebhookDelivery, payload: Payload) -> bool:
    sender = _user(payload.get("sender"))
    upsert = installation_upsert(
        data=payload["installation"], ready_reason="created", installed_by=sender
    )
    if upsert.created:
        audit_installation(
            action="installation.added",
            installation=upsert.installation,
            actor=sender,
            details=_sender_details(delivery, payload),
        )
    return True


@handles("installation", "deleted")
def installation_deleted(delivery: WebhookDelivery, payload: Payload) -> bool:
    installation_id = int(payload["installation"]["id"])
    if not installation_mark_deleted(installation_id=installation_id):
        return Installation.objects.filter(installation_id=installation_id).exists()
    audit_installation(
        action="installation.removed",
        installation=Installation.objects.get(installation_id=installation_id),
        actor=_user(payload.get("sender")),
        details=_sender_details(delivery, payload),
    )
    return True


@handles("installation", "suspend", "unsuspend")
def installation_suspension(delivery: WebhookDelivery, payload: Payload) -> bool:
    suspended = delivery.action == "suspend"
    upsert, changed = installation_set_suspended(data=payload["installation"], suspended=suspended)
    if changed:
        audit_installation(
            action="installation.suspended" if suspended else "installation.unsuspended",
            installation=upsert.installation,
            actor=_user(payload.get("sender")),
            details=_sender_details(delivery, payload),
        )
    return True


@handles("installation", "new_permissions_accepted")
def installation_permissions(delivery: WebhookDelivery, payload: Payload) -> bool:
    # The payload carries the new permissions, but GET /app/installations/{id} is the
    # truth when several changes race; the payload is the fallback.
    data = payload["installation"]
    installation_refresh_from_github(
        installation_id=int(data["id"]), fallback=data, ready_reason="permissions"
    )
    return True


# --- renames ----------------------------------------------------------------------------


@handles("organization", "renamed")
def organization_renamed(delivery: WebhookDelivery, payload: Payload) -> bool:
    org = payload.get("organization") or {}
    return account_rename(github_id=int(org["id"]), login=str(org["login"]))


@handles("installation_target", "renamed")
def installation_target_renamed(delivery: WebhookDelivery, payload: Payload) -> bool:
    account = payload.get("account") or {}
    return account_rename(github_id=int(account["id"]), login=str(account["login"]))


# --- people -----------------------------------------------------------------------------


@handles("organization", "member_added")
def organization_member_added(delivery: WebhookDelivery, payload: Payload) -> bool:
    membership = payload.get("membership") or {}
    user = _user(membership.get("user") or payload.get("user"))
    if user is None:
        return False
    org = _org(payload.get("organization"))
    role = ROLES.get(str(membership.get("role")))
    if org is not None and role is not None:
        # Only an existing row is updated: new access is granted by re-reading GitHub on
        # the next page view (memberships_mark_stale), never by a webhook alone.
        state = membership.get("state")
        Membership.objects.filter(user=user, organization=org).update(
            role=role,
            state=state if state in Membership.State.values else Membership.State.ACTIVE,
        )
    memberships_mark_stale(user=user, organization=org)
    return True


@handles("organization", "member_removed")
def organization_member_removed(delivery: WebhookDelivery, payload: Payload) -> bool:
    membership = payload.get("membership") or {}
    user = _user(membership.get("user") or payload.get("user"))
    if user is None:
        return False
    org = _org(payload.get("organization"))
    if org is not None:
        Membership.objects.filter(user=user, organization=org).delete()
    memberships_mark_stale(user=user)
    return True


@handles("membership", "added", "removed")
def team_membership_changed(delivery: WebhookDelivery, payload: Payload) -> bool:
    user = _user(payload.get("member"))
    if user is None:
        return False
    memberships_mark_stale(user=user, organization=_org(payload.get("organization")))
    return True


@handles("github_app_authorization", "revoked")
def authorization_revoked(delivery: WebhookDelivery, payload: Payload) -> bool:
    # Someone revoked billingdash in their GitHub settings: their tokens are dead (GitHub
    # answers 401 from now on); drop them and end their sessions.
    sender = payload.get("sender") or {}
    if sender.get("id") is None:
        return False
    return user_revoke_github_authorization(github_user_id=int(sender["id"]))
