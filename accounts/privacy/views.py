"""``/account/delete/`` (a page: what is deleted, a confirmation) and its JSON twin
``DELETE /api/account/`` (body ``{"confirm": "<your GitHub login>"}``); the same session
and CSRF rules. Staff accounts (no GitHub sign-in) are managed in the admin: 404 here."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.models import GitHubToken, InstallRequest, Membership
from accounts.privacy.account import confirmation_word, user_account_delete


def _page(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    user = request.user
    context = {
        "confirm_word": confirmation_word(user),
        "error": error,
        "memberships": Membership.objects.filter(user=user).count(),
        "install_requests": InstallRequest.objects.filter(user=user).count(),
        "clients": sorted(GitHubToken.objects.filter(user=user).values_list("client", flat=True)),
        "github_web_url": settings.GITHUB_WEB_URL,
    }
    return render(request, "accounts/account_delete.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    if request.user.is_staff:
        raise Http404("Staff accounts are managed in the admin.")
    if request.method == "GET":
        return _page(request)
    if str(request.POST.get("confirm", "")).strip() != confirmation_word(request.user):
        error = f"Type {confirmation_word(request.user)} to confirm: nothing was deleted."
        return _page(request, error=error, status=400)
    result = user_account_delete(user=request.user, request=request)
    logout(request)
    messages.success(request, f"You are signed out. {result.message}")
    return redirect("login")


@never_cache
@require_http_methods(["DELETE"])
def api_account(request: HttpRequest) -> JsonResponse:
    """Delete the signed-in person's account; ``{"deleted", "revoked_at_github",
    "not_revoked", "message"}``."""
    user = request.user
    if not user.is_authenticated:
        return JsonResponse({"error": "authentication required"}, status=401)
    if user.is_staff:
        return JsonResponse({"error": "staff accounts are managed in the admin"}, status=404)
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"error": "the body is not JSON"}, status=400)
    confirm = body.get("confirm") if isinstance(body, dict) else None
    if confirm != confirmation_word(user):
        return JsonResponse(
            {"error": f'confirm must be "{confirmation_word(user)}": nothing was deleted'},
            status=400,
        )
    result = user_account_delete(user=user, request=request)
    logout(request)
    return JsonResponse({**result.as_json(), "message": result.message})
