"""Where an organization's numbers come from: the sources page (`/orgs/<login>/sources/`)
and its JSON API. Owners and billing managers see every rung of the source ladder
(`usage.collection.sources`) and what GitHub answered; only owners add or remove the
org's token.

JSON API (session auth; writes need Django's CSRF token in ``X-CSRFToken``):

- ``GET /api/orgs/<login>/sources``: ``{"source", "source_detail", "checked_at",
  "rungs": [{"source", "state", "words", "refusals"}], "token": {...} | null,
  "expiry_warning", "next_step"}``.
- ``POST /api/orgs/<login>/sources/token`` ``{"token": "..."}``: 201 ``{"source":
  "owner_token", "github_login", "expires_at", "last4"}``; 400 ``{"error"}`` with
  GitHub's reason; 403 for a billing manager; 503 when GitHub cannot be asked now.
  A saved token starts a collection at once (`org_backfill_start`: every month not yet
  final, newest first).
- ``GET`` the same URL: ``{"token": {...} | null}``, the token's description (never the
  token itself); ``DELETE``: 204, 404 when there is none.

401 without a session, 404 for anyone who may not see the organization's billing.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_http_methods
from kombu.exceptions import KombuError, OperationalError

from accounts.models import Membership, OrgAccessToken, Organization
from accounts.org_tokens import (
    OrgTokenRejected,
    expiry_warning,
    org_token_add,
    org_token_delete,
    org_token_of,
)
from accounts.roles.access import get_org_for_billing
from billingdash import github
from usage.collection.services import org_backfill_start
from usage.reporting.sources import org_sources
from usage.web.json_api import json_body, json_error, org_or_error

log = logging.getLogger(__name__)

GITHUB_BUSY = (
    "GitHub could not be asked to check the token right now ({what}); nothing was saved. "
    "Try again in a few minutes."
)


def _is_owner(organization: Organization) -> bool:
    membership = getattr(organization, "membership", None)
    return membership is not None and membership.role == Membership.Role.OWNER


def token_json(token: OrgAccessToken | None) -> dict[str, Any] | None:
    if token is None:
        return None
    return {
        "source": "owner_token",
        "github_login": token.github_login,
        "kind": token.kind,
        "last4": token.last4,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "added_at": token.created_at.isoformat(),
        "added_by": str(token.added_by) if token.added_by else None,
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "refused_reason": token.refused_reason,
        "expiry_warning": expiry_warning(token),
    }


def _collect_soon(organization: Organization) -> None:
    """A token was added: collect with it now, newest month first (months already final
    are skipped; a month already queued is not queued twice)."""
    try:
        org_backfill_start(organization=organization)
    except (OperationalError, KombuError, OSError) as exc:
        # The runs are saved: the sweeper sends them once the broker is back.
        log.warning("collection of %s after a new token not sent now: %r", organization, exc)


def _add(request: HttpRequest, organization: Organization, token: str) -> tuple[int, str]:
    """(HTTP status, message) of adding `token`; the message is GitHub's reason on 400."""
    try:
        org_token_add(organization=organization, user=request.user, token=token, request=request)
    except OrgTokenRejected as exc:
        return 400, exc.reason
    except (github.RateLimited, github.ServerError, github.NetworkError) as exc:
        return 503, GITHUB_BUSY.format(what=type(exc).__name__)
    _collect_soon(organization)
    return 201, ""


# --- the page ---------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def org_sources_page(request: HttpRequest, login: str) -> HttpResponse:
    organization = get_org_for_billing(user=request.user, login=login)
    owner = _is_owner(organization)
    here = reverse("org_sources", args=[organization.login])
    if request.method == "POST":
        if not owner:
            raise Http404("Only owners change the sources.")
        action = request.POST.get("action")
        if action == "token_add":
            status, reason = _add(request, organization, request.POST.get("token", ""))
            if status == 201:
                messages.success(
                    request,
                    "Token saved (encrypted; it will not be shown again). This month is being "
                    "collected with it now: open the dashboard in a minute.",
                )
            else:
                messages.error(request, f"The token was not saved. {reason}")
        elif action == "token_delete":
            if org_token_delete(organization=organization, user=request.user, request=request):
                messages.success(
                    request,
                    "Token removed from billingdash. Delete it on GitHub too (Settings → "
                    "Developer settings → Personal access tokens).",
                )
            else:
                messages.warning(request, "There was no token to remove.")
        return redirect(here)
    context = {
        "organization": organization,
        "owner": owner,
        "sources": org_sources(organization),
        "dashboard_url": reverse("org_dashboard", args=[organization.login]),
    }
    return render(request, "usage/sources.html", context)


# --- the JSON API -------------------------------------------------------------------------


def sources_json(organization: Organization) -> dict[str, Any]:
    data = org_sources(organization)
    return {
        "organization": organization.login,
        "source": data["source"],
        "source_detail": data["source_detail"],
        "checked_at": data["checked_at"].isoformat() if data["checked_at"] else None,
        "rungs": [
            {"source": r.source, "state": r.state, "words": r.words, "refusals": r.refusals}
            for r in data["rungs"]
        ],
        "token": token_json(data["token"]),
        "expiry_warning": data["expiry_warning"],
        "next_step": data["next_step"],
    }


@never_cache
@ensure_csrf_cookie
@require_http_methods(["GET"])
def api_org_sources(request: HttpRequest, login: str) -> JsonResponse:
    organization = org_or_error(request, login)
    if isinstance(organization, JsonResponse):
        return organization
    return JsonResponse(sources_json(organization))


@never_cache
@ensure_csrf_cookie
@require_http_methods(["GET", "POST", "DELETE"])
def api_org_source_token(request: HttpRequest, login: str) -> HttpResponse:
    organization = org_or_error(request, login)
    if isinstance(organization, JsonResponse):
        return organization
    if request.method == "GET":
        return JsonResponse({"token": token_json(org_token_of(organization))})
    if not _is_owner(organization):
        return json_error(f"only an owner of {organization.login} can add or remove its token", 403)
    if request.method == "DELETE":
        deleted = org_token_delete(organization=organization, user=request.user, request=request)
        return HttpResponse(status=204) if deleted else json_error("no token", 404)
    data = json_body(request)
    if isinstance(data, JsonResponse):
        return data
    if not isinstance(data.get("token"), str):
        return json_error('the body must be {"token": "<a personal access token>"}')
    status, reason = _add(request, organization, data["token"])
    if status != 201:
        return json_error(reason, status)
    body = token_json(org_token_of(organization)) or {}
    return JsonResponse(
        {
            "source": "owner_token",
            "github_login": body.get("github_login"),
            "expires_at": body.get("expires_at"),
            "last4": body.get("last4"),
        },
        status=201,
    )
