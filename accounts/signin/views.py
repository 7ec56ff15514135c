"""The sign-in page, sign-out, and the home redirect."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.audit import audit_log
from accounts.signin.backends import (
    backend_name_for_client,
    client_credentials,
    client_settings_prefix,
)
from accounts.signin.redirects import safe_next


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
        audit_log(actor=request.user, action="signout", request=request)
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("login")


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("org_list" if request.user.is_authenticated else "login")
