"""The install wizard: get billingdash's GitHub App installed on an organization.

``/orgs/<login>/install/`` (``org_install``) shows one of four steps, by role and access:

- an owner without a readable installation: why the App is needed and a button to
  GitHub's install page for that org, carrying our signed ``state``;
- a billing manager without one: only owners can install; the owners GitHub lets us
  know; a ready-to-send request (link + message to copy). An `InstallRequest` records
  that they are waiting; the ``installation.created`` webhook fulfils it;
- a member: nothing to install, billing is for owners and billing managers;
- anyone who can see billing once the App reads it: the first collection's progress
  (``static/js/wizard.js`` polls ``usage``'s ``org_progress``) until the dashboard opens.

``/install/`` (``install_start``) is the step for someone who sees no organization yet
(GitHub App sign-in lists only orgs where the App is installed): GitHub's generic install
page, which lists the orgs the user owns, and the "ask an owner" path. ``?org=<login>``
is the link a billing manager shares with an owner. The org comes from the query string,
not the path, so the access helper decides here too: people who may see the org go to
its own wizard; everyone else gets the page of an org billingdash does not know (whether
billingdash knows it, and who its owners are, is not for them). The owners shown are
always those GitHub shows the user, read with the user's own token.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.installations.install_state import issue
from accounts.installations.install_status import installation_status, org_owners
from accounts.models import InstallRequest, Membership, Organization, User
from accounts.roles.access import get_org_for_member, org_access
from accounts.roles.sync import memberships_sync
from billingdash.github import errors

# GitHub logins: alphanumerics and single hyphens, at most 39 characters.
GITHUB_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")


def github_install_url(*, state: str, organization: Organization | None = None) -> str:
    """GitHub's page to install our App, with our signed `state`.

    For one organization we use ``/installations/new/permissions?target_id=<org id>``,
    which preselects the account. GitHub does not document it, but it is the widely used
    deep link; without it GitHub first lists every account the user could install on."""
    base = f"{settings.GITHUB_WEB_URL}/apps/{settings.GITHUB_APP_SLUG}/installations/new"
    if organization is None:
        return f"{base}?{urlencode({'state': state})}"
    query = urlencode({"target_id": organization.github_id, "state": state})
    return f"{base}/permissions?{query}"


def install_request_record(
    *, user: User, organization: Organization | None = None, account_login: str = ""
) -> InstallRequest:
    """The user's open request for an install on the org (by our org, or by login when
    we do not know the org yet); made once, returned when it exists."""
    login = organization.login if organization is not None else account_login
    waiting = InstallRequest.objects.filter(user=user, fulfilled_at__isnull=True)
    if organization is not None:
        existing = waiting.filter(organization=organization).first()
    else:
        existing = waiting.filter(account_login__iexact=login).first()
    if existing is not None:
        return existing
    return InstallRequest.objects.create(
        user=user, organization=organization, account_login=login[:39]
    )


def _share(request: HttpRequest, login: str) -> dict[str, str]:
    """The link and message a billing manager sends to an owner."""
    link = request.build_absolute_uri(reverse("install_start") + "?" + urlencode({"org": login}))
    sender = request.user.get_full_name() or str(request.user)
    message = (
        f"Hi! Could you install the {settings.GITHUB_APP_NAME} GitHub App on {login}? GitHub shows "
        "billing usage only to organization owners, so billingdash needs the App, with "
        "read-only access (the “Administration: read” organization permission), to show "
        f"us what {login} spends on GitHub. Only an owner can install it; it takes a "
        f"minute from this page:\n{link}\n\nThanks, {sender}"
    )
    return {"login": login, "link": link, "message": message}


def _ask_context(request: HttpRequest, *, login: str) -> dict[str, Any]:
    return {
        "share": _share(request, login),
        "owners": org_owners(user=request.user, login=login),
        # The upload path of the "ask" step (usage report imports, issue 15).
        "github_web_url": settings.GITHUB_WEB_URL.rstrip("/"),
    }


@never_cache
@login_required
@require_GET
def org_install(request: HttpRequest, login: str) -> HttpResponse:
    """The wizard for one org: any member may open it (members learn there is nothing
    for them); the step depends on role and access (see the module docstring)."""
    organization = get_org_for_member(user=request.user, login=login)
    membership: Membership = organization.membership
    access = org_access(user=request.user, organization=organization)
    status = installation_status(organization=organization)
    context: dict[str, Any] = {
        "organization": organization,
        "membership": membership,
        "access": access,
        "status": status,
        "has_data": organization.last_collected_at is not None,
    }
    if membership.role == Membership.Role.MEMBER:
        step = "member"
    elif access == "app":
        step = "progress"
    elif membership.role == Membership.Role.OWNER:
        step = "install"
        state = issue(request, organization=organization)
        context["install_url"] = github_install_url(state=state, organization=organization)
    else:
        step = "ask"
        context["install_request"] = install_request_record(
            user=request.user, organization=organization
        )
        # GitHub's own "Request" (setup_action=request) where GitHub offers it to them.
        state = issue(request, organization=organization)
        context["github_request_url"] = github_install_url(state=state, organization=organization)
        context.update(_ask_context(request, login=organization.login))
    context["step"] = step
    return render(request, "accounts/wizard.html", context)


def render_start(
    request: HttpRequest, *, warning: str = "", org_hint: str = "", always: bool = False
) -> HttpResponse:
    """The "no organization yet" step (also what ``/orgs/`` shows when the list is
    empty). ``always``: show the install step even with the OAuth sign-in client (which
    otherwise means "you are in no organization at all")."""
    if _caught_up(request.user):
        return redirect("org_list")
    context: dict[str, Any] = {
        "warning": warning,
        "signin_client": settings.GITHUB_SIGNIN_CLIENT,
        "show_install": always or settings.GITHUB_SIGNIN_CLIENT == "app",
        "github_web_url": settings.GITHUB_WEB_URL,
        "org_hint": org_hint,
        "waiting": InstallRequest.objects.filter(
            user=request.user, fulfilled_at__isnull=True
        ).order_by("-created_at")[:5],
    }
    if org_hint:
        # Only for orgs the user does not see (install_start sends the others to their
        # own wizard): nothing here may depend on what billingdash knows of the org.
        context.update(_ask_context(request, login=org_hint))
    return render(request, "accounts/no_orgs.html", context)


def _caught_up(user: User) -> bool:
    """An owner installed the App for a request of the user's since their roles were
    last read: read them again now (with the GitHub App sign-in, GitHub lists an org to
    the user only once the App is installed there). True when orgs are now listed."""
    fulfilled = InstallRequest.objects.filter(user=user, fulfilled_at__isnull=False)
    if user.memberships_synced_at is not None:
        fulfilled = fulfilled.filter(fulfilled_at__gt=user.memberships_synced_at)
    if user.github_id is None or not fulfilled.exists():
        return False
    try:
        memberships_sync(user=user)
    except errors.GitHubError:
        return False
    return Membership.objects.filter(user=user, state=Membership.State.ACTIVE).exists()


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def install_start(request: HttpRequest) -> HttpResponse:
    """GET: the "no organization yet" step (``?org=<login>``: the link a billing manager
    shares). POST ``org``: a billing manager names the org they wait for."""
    if request.method == "POST":
        login = str(request.POST.get("org", "")).strip()
        if not GITHUB_LOGIN.match(login):
            messages.error(request, "That is not a GitHub organization name.")
            return redirect("install_start")
        install_request_record(user=request.user, account_login=login)
        messages.success(
            request,
            f"Saved: billingdash will open {login} for you as soon as an owner installs the "
            "App. Send them the message below.",
        )
        return redirect(reverse("install_start") + "?" + urlencode({"org": login}))
    org_hint = str(request.GET.get("org", "")).strip()
    if org_hint and not GITHUB_LOGIN.match(org_hint):
        org_hint = ""
    if org_hint:
        # The shared link: people who may see the org (the access helper says so, after
        # re-reading stale roles from GitHub) get its own wizard step.
        try:
            organization = get_org_for_member(user=request.user, login=org_hint)
        except Http404:
            pass
        else:
            return redirect("org_install", organization.login)
    return render_start(request, org_hint=org_hint, always=True)
