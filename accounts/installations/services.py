"""Services for installations of our GitHub App: upsert from GitHub's installation object
(webhook payloads and ``GET /app/installations`` share its shape), uninstall, suspend,
permission changes, organization renames, and the periodic reconciliation.

Writes only; callers are the webhook handlers (`accounts.webhook_handlers`), the Celery
tasks (`accounts.tasks`) and, later, the setup callback. Every function is keyword-only.
``installation_ready`` is sent after commit, only when billing *becomes* readable.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.audit import audit_log
from accounts.models import Installation, InstallRequest, Organization, User, grants_billing
from accounts.organizations import organization_upsert
from accounts.signals import installation_ready
from billingdash import github
from billingdash.github import errors

log = logging.getLogger(__name__)

MISSING_PERMISSION_REASON = (
    "The App lacks the organization permission “Administration: read” that GitHub's billing "
    "usage endpoints need. An owner must accept it on GitHub (Settings → GitHub Apps)."
)
NOT_AN_ORG_REASON = (
    "Installed on {kind} account, not an organization; billingdash reads organization billing only."
)


@dataclass(frozen=True)
class UpsertResult:
    installation: Installation
    created: bool
    became_readable: bool
    skipped: bool = False  # changed here after `unless_changed_since`: left alone


@dataclass
class ReconcileResult:
    seen: int = 0
    created: list[int] = field(default_factory=list)
    revived: list[int] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)


def _account_type(data: Mapping[str, Any]) -> str:
    # GitHub's installation object carries both ``target_type`` and ``account.type``; the
    # community example of new_permissions_accepted even disagrees between the two. The
    # target type is the installation's own statement, so it wins.
    account = data.get("account") or {}
    return str(data.get("target_type") or account.get("type") or "Organization")


def github_state(data: Mapping[str, Any]) -> tuple[str, str]:
    """The state GitHub's installation object implies, with the reason shown to people."""
    kind = _account_type(data)
    if kind != "Organization":
        article = "a personal" if kind == "User" else f"an {kind}"
        return Installation.State.NEEDS_ATTENTION, NOT_AN_ORG_REASON.format(kind=article)
    if data.get("suspended_at"):
        return Installation.State.SUSPENDED, "An owner suspended the App on GitHub."
    if not grants_billing(data.get("permissions")):
        return Installation.State.MISSING_PERMISSION, MISSING_PERMISSION_REASON
    return Installation.State.ACTIVE, ""


def _send_ready(installation: Installation, reason: str) -> None:
    def send() -> None:
        for receiver, result in installation_ready.send_robust(
            sender=Installation, installation=installation, reason=reason
        ):
            if isinstance(result, Exception):
                log.error(
                    "installation_ready receiver %r failed for installation %s",
                    receiver,
                    installation.installation_id,
                    exc_info=result,
                )

    transaction.on_commit(send)


def _fulfil_install_requests(installation: Installation) -> int:
    """People who asked an owner to install the App are waiting for this org. GitHub
    does not send our ``state`` back when an owner approves such a request, so the
    installation webhook (or the reconciliation) is what links them."""
    org = installation.organization
    if org is None:
        return 0
    return InstallRequest.objects.filter(
        Q(organization=org) | Q(organization__isnull=True, account_login__iexact=org.login),
        fulfilled_at__isnull=True,
    ).update(fulfilled_at=timezone.now(), installation=installation, organization=org)


def installation_upsert(
    *,
    data: Mapping[str, Any],
    ready_reason: str,
    revive_deleted: bool = False,
    installed_by: User | None = None,
    clear_attention: bool = False,
    unless_changed_since: datetime | None = None,
) -> UpsertResult:
    """Create or update an Installation (and its Organization) from GitHub's installation
    object, fulfil waiting InstallRequests, and send ``installation_ready`` with
    ``ready_reason`` if billing became readable.

    A DELETED installation stays deleted unless ``revive_deleted`` (GitHub delivers
    webhooks in no guaranteed order: a late ``created`` must not undo a ``deleted``; the
    reconciliation, which sees GitHub's current list, revives). NEEDS_ATTENTION is set by
    the usage app when collection fails for a reason GitHub's object does not show; it is
    kept unless ``clear_attention`` (an owner just changed permissions). With
    ``unless_changed_since`` a row changed after that moment (by a webhook fresher than
    the caller's copy) is left alone (``skipped``)."""
    installation_id = int(data["id"])
    account = data.get("account") or {}
    account_type = _account_type(data)
    with transaction.atomic():
        inst, created = _locked_installation(installation_id, installed_by)
        was_readable = False if created else inst.can_read_billing
        if not created:
            if unless_changed_since is not None and inst.updated_at >= unless_changed_since:
                return UpsertResult(inst, created=False, became_readable=False, skipped=True)
            if inst.state == Installation.State.DELETED and not revive_deleted:
                log.info("installation %s is deleted here; late event ignored", installation_id)
                return UpsertResult(inst, created=False, became_readable=False)
        org = None
        if account_type == "Organization" and account.get("id") is not None:
            org = organization_upsert(github_org=account)
        state, reason = github_state(data)
        if (
            not created
            and inst.state == Installation.State.NEEDS_ATTENTION
            and state == Installation.State.ACTIVE
            and not clear_attention
        ):
            state, reason = inst.state, inst.state_reason
        inst.organization = org or inst.organization
        inst.account_id = int(account.get("id") or data.get("target_id") or 0)
        inst.account_login = str(account.get("login") or inst.account_login or "")[:39]
        inst.account_type = account_type[:20]
        inst.permissions = dict(data.get("permissions") or {})
        inst.events = list(data.get("events") or [])
        inst.repository_selection = str(data.get("repository_selection") or "")[:20]
        inst.state, inst.state_reason = state, reason[:300]
        inst.suspended_at = github.parse_timestamp(data.get("suspended_at"))
        inst.deleted_at = None
        if installed_by is not None and inst.installed_by_id is None:
            inst.installed_by = installed_by
        inst.save()
        _fulfil_install_requests(inst)
        became_readable = inst.can_read_billing and not was_readable
        if became_readable:
            _send_ready(inst, ready_reason)
    return UpsertResult(inst, created=created, became_readable=became_readable)


def _locked_installation(
    installation_id: int, installed_by: User | None
) -> tuple[Installation, bool]:
    """The installation's row, locked for this transaction, created if absent.

    GitHub sends ``installation.created`` at the moment it redirects the installer to our
    setup URL, so the webhook's worker and the setup callback may both see no row: a
    locked read locks nothing that does not exist. The insert runs in a savepoint; the
    loser of that race gets the winner's committed row, locked, and continues as an
    update (so ``installation_ready`` is sent once)."""
    inst = Installation.objects.select_for_update().filter(installation_id=installation_id).first()
    if inst is not None:
        return inst, False
    try:
        with transaction.atomic():
            inst = Installation.objects.create(
                installation_id=installation_id, account_id=0, installed_by=installed_by
            )
        return inst, True
    except IntegrityError:
        log.info("installation %s was created concurrently; updating it", installation_id)
        return Installation.objects.select_for_update().get(installation_id=installation_id), False


def installation_mark_deleted(*, installation_id: int, deleted_at: datetime | None = None) -> bool:
    """The App was uninstalled (webhook ``installation.deleted`` or reconciliation): state
    DELETED and the cached installation token dropped. False when it is unknown here or
    already deleted."""
    now = deleted_at or timezone.now()
    changed = (
        Installation.objects.filter(installation_id=installation_id)
        .exclude(state=Installation.State.DELETED)
        .update(state=Installation.State.DELETED, deleted_at=now, updated_at=now)
    )
    if changed:
        github.forget_installation_token(installation_id)
    return bool(changed)


def installation_set_suspended(
    *, data: Mapping[str, Any], suspended: bool, installed_by: User | None = None
) -> tuple[UpsertResult, bool]:
    """``installation.suspend`` / ``unsuspend``: upsert from the payload with its
    ``suspended_at`` forced to match the action. Returns the upsert and whether the
    suspension changed here (for the audit log)."""
    installation_id = int(data["id"])
    before = Installation.objects.filter(installation_id=installation_id).first()
    was_suspended = before is not None and before.state == Installation.State.SUSPENDED
    data = dict(data)
    if suspended:
        data["suspended_at"] = data.get("suspended_at") or timezone.now().isoformat()
    else:
        data["suspended_at"] = None
    upsert = installation_upsert(data=data, ready_reason="unsuspended", installed_by=installed_by)
    now_suspended = upsert.installation.state == Installation.State.SUSPENDED
    return upsert, now_suspended != was_suspended


def installation_refresh_from_github(
    *, installation_id: int, fallback: Mapping[str, Any], ready_reason: str
) -> UpsertResult | None:
    """Re-read an installation with the App JWT (``GET /app/installations/{id}``: the
    truth, whatever order webhooks arrive in) and upsert it; when GitHub cannot be
    reached, use the webhook's own copy (``fallback``). A 404 means it is gone: it is
    marked deleted and None returned."""
    try:
        data: Mapping[str, Any] = github.get_app_installation(installation_id)
    except github.NotFound:
        installation_mark_deleted(installation_id=installation_id)
        return None
    except (github.GitHubError, ImproperlyConfigured) as error:
        log.warning("GET installation %s failed (%r); using the webhook", installation_id, error)
        data = fallback
    return installation_upsert(data=data, ready_reason=ready_reason, clear_attention=True)


def installations_reconcile(
    *, listed: Iterable[Mapping[str, Any]] | None = None, confirm_vanished: bool = True
) -> ReconcileResult:
    """Make our installations match GitHub's ``GET /app/installations`` (every page, App
    JWT), so a missed webhook cannot leave the site wrong for long: create missing ones
    (with their orgs), revive wrongly deleted ones, update suspension, permissions and
    logins, and mark the ones GitHub no longer lists DELETED.

    Races with webhooks processed meanwhile are settled for the webhook: a row changed
    after the listing started is left for the next run. GitHub's page-numbered list can
    skip an item when the list changes while it is paged, so an installation missing
    from it is deleted only once ``GET /app/installations/{id}`` answers 404
    (``confirm_vanished``). ``listed`` is for callers that already have the list."""
    started = timezone.now()
    items = list(github.list_app_installations() if listed is None else listed)
    result = ReconcileResult(seen=len(items))
    for data in items:
        _reconcile_one(data, started, result)
    seen_ids = {int(data["id"]) for data in items}
    vanished = (
        Installation.objects.exclude(state=Installation.State.DELETED)
        .exclude(installation_id__in=seen_ids)
        .filter(created_at__lt=started)
    )
    for inst in list(vanished):
        if confirm_vanished:
            try:
                current = github.get_app_installation(inst.installation_id)
            except github.NotFound:
                pass
            except github.GitHubError as error:
                log.warning("could not confirm installation %s: %r", inst.installation_id, error)
                result.skipped.append(inst.installation_id)
                continue
            else:
                _reconcile_one(current, started, result)
                continue
        if installation_mark_deleted(installation_id=inst.installation_id):
            result.deleted.append(inst.installation_id)
            audit_installation(action="installation.removed", installation=inst)
    if result.created or result.revived or result.changed or result.deleted:
        log.info(
            "reconciled %d installations: created %s, revived %s, changed %s, deleted %s",
            result.seen,
            result.created,
            result.revived,
            result.changed,
            result.deleted,
        )
    return result


def _reconcile_one(data: Mapping[str, Any], started: datetime, result: ReconcileResult) -> None:
    installation_id = int(data["id"])
    before = Installation.objects.filter(installation_id=installation_id).first()
    upsert = installation_upsert(
        data=data, ready_reason="reconciled", revive_deleted=True, unless_changed_since=started
    )
    if upsert.skipped:
        result.skipped.append(installation_id)
    elif upsert.created:
        result.created.append(installation_id)
        audit_installation(action="installation.added", installation=upsert.installation)
    elif before is not None and before.state == Installation.State.DELETED:
        result.revived.append(installation_id)
        audit_installation(action="installation.added", installation=upsert.installation)
    elif _snapshot(before) != _snapshot(upsert.installation):
        result.changed.append(installation_id)
        _audit_suspension_change(before, upsert.installation)


def _audit_suspension_change(before: Installation, after: Installation) -> None:
    was = before.state == Installation.State.SUSPENDED
    now = after.state == Installation.State.SUSPENDED
    if was != now:
        action = "installation.suspended" if now else "installation.unsuspended"
        audit_installation(action=action, installation=after)


def _snapshot(inst: Installation | None) -> tuple[Any, ...] | None:
    if inst is None:
        return None
    return (
        inst.state,
        inst.account_login,
        inst.organization_id,
        inst.permissions,
        inst.events,
        inst.repository_selection,
        inst.suspended_at,
    )


def audit_installation(
    *,
    action: str,
    installation: Installation,
    actor: User | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Append an AuditEvent for an installation change (``installation.added``,
    ``.removed``, ``.suspended``, ``.unsuspended``). Without an actor the change came
    from GitHub: a webhook (``details["sender"]``) or the reconciliation."""
    info = {"installation_id": installation.installation_id, **(details or {})}
    info.setdefault("source", "reconciliation")
    audit_log(
        actor=actor,
        action=action,
        organization=installation.organization,
        target=f"installation {installation.installation_id} on {installation.account_login}",
        details=info,
    )


def installation_discover(*, organization: Organization) -> None:
    """Ask GitHub (as the App) whether our App is installed on `organization`, when we
    know of no live installation there yet (webhooks keep known ones current)."""
    if not (settings.GITHUB_APP_ID and settings.GITHUB_APP_PRIVATE_KEY):
        return
    live = organization.installations.exclude(state=Installation.State.DELETED)
    if live.exists():
        return
    try:
        found = github.get_org_installation(organization.login)
    except errors.NotFound:
        return
    except (errors.GitHubError, ImproperlyConfigured) as error:
        log.warning("installation lookup for org %s failed: %r", organization.pk, error)
        return
    installation_upsert(data=found, ready_reason="discovered at sign-in")
