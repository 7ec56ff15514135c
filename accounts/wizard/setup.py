"""The App's Setup URL: ``GET /github/setup/`` (``github_setup``), where GitHub sends the
browser back after an install, an update, or a non-owner's install request.

GitHub adds ``installation_id``, ``setup_action`` (``install``, ``update`` or
``request``; the last one is undocumented but sent when a non-owner asked an owner, and
then without ``installation_id``) and our ``state``. The URL is public and GitHub warns
that "bad actors can hit this URL with a spoofed installation_id", so nothing in the
query string is trusted:

1. the ``state`` must be ours, unexpired, unused, and started by this user in this
   session (`accounts.install_state`);
2. the installation is read with the App's JWT (``GET /app/installations/{id}``);
3. it must be on an organization the signed-in user owns (our fresh role, else GitHub's
   ``GET /user/memberships/orgs/{org}`` with the user's token);
4. its permissions must include ``organization_administration: read``; when they do not,
   the page says which permission is missing and where an owner grants it.

Then the installation is recorded (`installation_upsert`, which sends
``installation_ready`` only when billing *becomes* readable, under a row lock: the
``installation.created`` webhook that arrives around the same time cannot queue the
backfill a second time), audited once, and the user goes to the wizard's progress step.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.installations.install_state import InstallState, InvalidState, consume
from accounts.installations.install_status import installation_settings_url
from accounts.installations.services import audit_installation, installation_upsert
from accounts.models import (
    BILLING_PERMISSION,
    AuditEvent,
    Installation,
    Membership,
    Organization,
    User,
    grants_billing,
)
from accounts.roles.access import membership_is_fresh
from accounts.roles.sync import memberships_sync
from accounts.tokens import with_user_token
from accounts.wizard.views import install_request_record
from billingdash import github

log = logging.getLogger(__name__)

ACTIONS = ("install", "update", "request")


def _problem(request: HttpRequest, status: int, title: str, message: str, **extra: Any):
    context = {"title": title, "message": message, **extra}
    return render(request, "accounts/setup_error.html", context, status=status)


def _fresh_owner(membership: Membership | None) -> bool:
    """An owner's role, verified with GitHub within the TTL."""
    return (
        membership is not None
        and membership.role == Membership.Role.OWNER
        and membership_is_fresh(membership)
    )


def _owns(user: User, login: str, account_id: int) -> bool:
    """Whether `user` is an active owner of the org (GitHub id `account_id`). A fresh
    role of ours is enough; otherwise GitHub is asked. Raises `GitHubError` when GitHub
    cannot say now, `GitHubAuthorizationLost` when the user's token is gone."""
    membership = Membership.objects.filter(
        user=user, organization__github_id=account_id, state=Membership.State.ACTIVE
    ).first()
    if _fresh_owner(membership):
        return True
    if user.github_id is None:
        return False
    try:
        found = with_user_token(
            user=user, call=lambda token: github.get_user_org_membership(token, login)
        )
    except (github.NotFound, github.Forbidden):
        # 404: not affiliated (or hidden from this token); 403: the org blocks the App.
        return False
    org = found.get("organization") or {}
    # GitHub's role for an owner is "admin". The id check guards a login renamed or
    # reused between the two calls.
    return (
        found.get("role") == "admin"
        and found.get("state") == "active"
        and int(org.get("id") or account_id) == account_id
    )


def _audit_added(installation: Installation, *, user: User, action: str) -> None:
    """One ``installation.added`` per installation, whoever saw it first (this callback,
    the webhook or the reconciliation): the row lock orders us after a webhook that is
    still writing its own event."""
    with transaction.atomic():
        Installation.objects.select_for_update().filter(pk=installation.pk).first()
        seen = AuditEvent.objects.filter(
            action="installation.added", details__installation_id=installation.installation_id
        ).exists()
        if not seen:
            audit_installation(
                action="installation.added",
                installation=installation,
                actor=user,
                details={"source": "setup", "setup_action": action},
            )


def _record(data: dict[str, Any], *, user: User, action: str) -> Installation:
    """Upsert the installation GitHub just described (as installed by `user`)."""
    options = {
        "data": data,
        "ready_reason": "created" if action == "install" else "permissions",
        "installed_by": user,
        "clear_attention": action == "update",
    }
    return installation_upsert(**options).installation


def _request_sent(request: HttpRequest, state: InstallState) -> HttpResponse:
    organization = None
    if state.org_github_id is not None:
        organization = Organization.objects.filter(github_id=state.org_github_id).first()
    recorded = None
    if organization is not None:
        recorded = install_request_record(user=request.user, organization=organization)
    return render(
        request,
        "accounts/setup_request.html",
        {"organization": organization, "install_request": recorded},
    )


@never_cache
@login_required  # anonymous (session expired): sign in, then back to this very URL
@require_GET
def github_setup(request: HttpRequest) -> HttpResponse:
    user: User = request.user
    action = request.GET.get("setup_action", "")
    try:
        state = consume(request, request.GET.get("state"))
    except InvalidState as error:
        log.info("setup callback for user %s refused: state %s", user.pk, error.reason)
        return _problem(
            request,
            400,
            "We could not confirm this install link",
            error.message,
            reason=error.reason,
            show_recovery=True,
        )
    if action == "request":
        return _request_sent(request, state)
    if action not in ACTIONS:
        return _problem(request, 400, "Unexpected answer from GitHub", "Unknown setup_action.")
    try:
        installation_id = int(request.GET.get("installation_id", ""))
    except ValueError:
        return _problem(request, 400, "Unexpected answer from GitHub", "No installation id.")
    try:
        data = github.get_app_installation(installation_id)
    except github.NotFound:
        return _problem(
            request,
            404,
            "GitHub does not know this installation",
            "GitHub has no installation of billingdash's App with that id (it may have been "
            "uninstalled already).",
        )
    except (github.GitHubError, ImproperlyConfigured) as error:
        log.warning("setup: GET installation %s failed: %r", installation_id, error)
        return _problem(
            request,
            503,
            "GitHub did not answer",
            "billingdash could not check the installation with GitHub just now. If you "
            "installed the App, GitHub also notifies billingdash directly: your "
            "organization will show it within a minute or two.",
            show_recovery=True,
        )
    return _verified(request, data=data, action=action)


def _verified(request: HttpRequest, *, data: dict[str, Any], action: str) -> HttpResponse:
    user: User = request.user
    account = data.get("account") or {}
    kind = str(data.get("target_type") or account.get("type") or "")
    if kind != "Organization" or not account.get("id") or not account.get("login"):
        return _problem(
            request,
            400,
            "Installed on a personal account",
            "billingdash reads organization billing only: install the App on an "
            "organization you own.",
        )
    login, account_id = str(account["login"]), int(account["id"])
    try:
        owner = _owns(user, login, account_id)
    except github.GitHubError as error:
        log.warning("setup: role check of user %s failed: %r", user.pk, error)
        return _problem(
            request,
            503,
            "GitHub did not answer",
            "billingdash could not confirm with GitHub that you own the organization. "
            "Please try again in a minute.",
            show_recovery=True,
        )
    if not owner:
        # Not named: the id came from the query string, the org may be anyone's.
        return _problem(
            request,
            403,
            "Not an organization you own",
            "This installation is on an organization you are not an owner of (as GitHub "
            "says now), so billingdash did not link it to your account.",
            show_recovery=True,
        )
    inst = _record(data, user=user, action=action)
    _audit_added(inst, user=user, action=action)
    organization = inst.organization
    if not _fresh_owner(Membership.objects.filter(user=user, organization=organization).first()):
        try:
            memberships_sync(user=user)  # the org now shows in their list
        except github.GitHubError as error:
            log.warning("setup: role sync of user %s failed: %r", user.pk, error)
    if not grants_billing(data.get("permissions")):
        return render(
            request,
            "accounts/setup_permission.html",
            {
                "organization": organization,
                "installation": inst,
                "permission": BILLING_PERMISSION,
                "settings_url": installation_settings_url(organization, inst.installation_id),
            },
            status=200,
        )
    if inst.state == Installation.State.SUSPENDED:
        messages.warning(request, f"The App is installed on {login} but suspended.")
    elif inst.state == Installation.State.DELETED:
        messages.warning(request, f"The App on {login} was uninstalled meanwhile.")
    else:
        messages.success(request, f"billingdash is installed on {login}. Collecting its usage now.")
    return redirect("org_install", organization.login)
