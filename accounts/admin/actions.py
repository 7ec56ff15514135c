"""Staff operations of the accounts app (the admin's actions call these): re-sync
memberships of a user or an organization, re-check an installation with GitHub,
reprocess a failed webhook delivery, pause or resume collection of organizations.

The Celery tasks here are registered through ``CELERY_IMPORTS`` (autodiscovery only
finds ``tasks.py``). Like every task they are thin and idempotent: running one twice
syncs twice, nothing more.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from axes.signals import user_locked_out
from celery import shared_task
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from accounts.audit import audit_log
from accounts.installations.services import installation_mark_deleted, installation_upsert
from accounts.models import GitHubToken, Installation, Organization, User, WebhookDelivery
from accounts.roles.sync import memberships_sync
from accounts.tokens import GitHubAuthorizationLost
from accounts.webhooks.handlers import memberships_mark_stale
from accounts.webhooks.tasks import enqueue_delivery
from billingdash import github

log = logging.getLogger(__name__)

# Outcomes of a user's re-sync.
SYNCED, NO_TOKEN, AUTHORIZATION_LOST, GITHUB_FAILED = (
    "synced",
    "no_token",
    "authorization_lost",
    "github_failed",
)


# --- memberships ------------------------------------------------------------------------


def memberships_resync_user(*, user: User) -> str:
    """Read the user's roles from GitHub again with their own token. A user we cannot
    ask (no token, authorization gone, GitHub failing) gets stale memberships instead:
    their next page view re-checks them."""
    if not GitHubToken.objects.filter(user=user).exists():
        memberships_mark_stale(user=user)
        return NO_TOKEN
    try:
        memberships_sync(user=user)
    except GitHubAuthorizationLost:
        memberships_mark_stale(user=user)
        return AUTHORIZATION_LOST
    except github.GitHubError as error:
        log.warning("staff re-sync of user %s failed: %r", user.pk, error)
        memberships_mark_stale(user=user)
        return GITHUB_FAILED
    return SYNCED


def memberships_resync_org(*, organization: Organization) -> dict[str, int]:
    """Every member we know of `organization`: those with a token are re-synced (one
    task each), the others are marked stale (their next visit asks GitHub)."""
    users = list(User.objects.filter(memberships__organization=organization).distinct())
    with_token = set(
        GitHubToken.objects.filter(user__in=users).values_list("user_id", flat=True).distinct()
    )
    queued = stale = 0
    for user in users:
        if user.pk in with_token:
            resync_user_memberships.delay(user.pk)
            queued += 1
        else:
            memberships_mark_stale(user=user, organization=organization)
            stale += 1
    return {"queued": queued, "stale": stale}


@shared_task(name="accounts.staff.resync_user_memberships")
def resync_user_memberships(user_id: int) -> str | None:
    user = User.objects.filter(pk=user_id).first()
    return memberships_resync_user(user=user) if user is not None else None


@shared_task(name="accounts.staff.resync_org_memberships")
def resync_org_memberships(organization_id: int) -> dict[str, int] | None:
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return None
    return memberships_resync_org(organization=organization)


# --- installations ----------------------------------------------------------------------


def installation_recheck(*, installation_id: int) -> str:
    """Read the installation from GitHub (App JWT) and store what GitHub says: an owner
    fixed the permission, unsuspended or uninstalled the App. "Needs attention" is
    cleared when GitHub now shows it readable. Returns the state, or ``unreachable``."""
    try:
        data = github.get_app_installation(installation_id)
    except github.NotFound:
        installation_mark_deleted(installation_id=installation_id)
        return Installation.State.DELETED
    except (github.GitHubError, ImproperlyConfigured) as error:
        log.warning("staff re-check of installation %s failed: %r", installation_id, error)
        return "unreachable"
    upsert = installation_upsert(
        data=data, ready_reason="reconciled", revive_deleted=True, clear_attention=True
    )
    return upsert.installation.state


@shared_task(name="accounts.staff.recheck_installation")
def recheck_installation(installation_id: int) -> str:
    return installation_recheck(installation_id=installation_id)


# --- webhook deliveries -----------------------------------------------------------------


def webhook_delivery_rearm(*, delivery: WebhookDelivery) -> bool:
    """Give a FAILED delivery another try: back to PENDING (compare-and-swap, so two
    staff clicking at once queue it once) and queued. Processing claims it once and its
    handlers are written for redeliveries, so this is safe. A delivery that is still
    PENDING is queued again (the claim makes a duplicate harmless). False when it is
    neither."""
    rearmed = WebhookDelivery.objects.filter(
        pk=delivery.pk, state=WebhookDelivery.State.FAILED
    ).update(state=WebhookDelivery.State.PENDING, error="")
    if (
        not rearmed
        and not WebhookDelivery.objects.filter(
            pk=delivery.pk, state=WebhookDelivery.State.PENDING
        ).exists()
    ):
        return False
    transaction.on_commit(lambda: enqueue_delivery(delivery.pk))
    return True


# --- collection switch ------------------------------------------------------------------


def organizations_set_paused(
    *, organizations: Iterable[Organization], paused: bool
) -> list[Organization]:
    """Pause or resume collection; returns the organizations that changed. The beat
    schedule skips paused orgs and a worker skips their queued runs."""
    changed = []
    for org in organizations:
        updated = Organization.objects.filter(pk=org.pk, collection_paused=not paused).update(
            collection_paused=paused, updated_at=timezone.now()
        )
        if updated:
            changed.append(org)
    return changed


# --- audit of lockouts ------------------------------------------------------------------


@receiver(user_locked_out, dispatch_uid="accounts.staff.locked_out")
def audit_lockout(sender: Any, request: Any = None, username: str = "", **kwargs: Any) -> None:
    """django-axes locked a sign-in out (too many wrong passwords): a sensitive event."""
    audit_log(
        actor=None,
        action="signin.locked_out",
        target=str(username or "")[:150],
        request=request,
        details={"ip_address": kwargs.get("ip_address") or ""},
    )
