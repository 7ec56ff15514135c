"""Sign-in page, sign-out and the organization list as JSON. The organization list page
and the dashboard are the usage app's (`usage.views`), the install wizard is in
`accounts.wizard`, the App's setup callback in `accounts.setup`.

Org-scoped views start with the access helper (`selectors.get_org_for_billing`, or
`get_org_for_member` for pages without billing) after `login_required`, so anonymous
users are sent to sign in and everyone else who may not see the org gets a 404.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts import selectors, services
from accounts.backends import backend_name_for_client, client_credentials, client_settings_prefix
from accounts.redirects import safe_next

# --- sign-in and sign-out ---------------------------------------------------------------


@never_cache
@require_GET
def login_page(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, request.GET.get(REDIRECT_FIELD_NAME))
    if request.user.is_authenticated:
        return redirect(next_url or "org_list")
    client = settings.GITHUB_SIGNIN_CLIENT
    return render(
        request,
        "registration/login.html",
        {
            "backend_name": backend_name_for_client(client),
            "configured": all(client_credentials(client)),
            "missing_setting": client_settings_prefix(client),
            "next": next_url,
            "github_web_url": settings.GITHUB_WEB_URL,
        },
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        services.audit_log(actor=request.user, action="signout", request=request)
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("login")


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("org_list" if request.user.is_authenticated else "login")


# --- organizations -------------------------------------------------------------------


@never_cache
@require_GET
def api_org_list(request: HttpRequest) -> JsonResponse:
    """``[{"login", "name", "role", "access", "installed", "last_collected_at"}]``."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "authentication required"}, status=401)
    selectors.memberships_refresh_if_stale(user=request.user)
    rows = selectors.user_org_rows(user=request.user)
    return JsonResponse([row.as_json() for row in rows], safe=False)
