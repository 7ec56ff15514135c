"""django-axes, limited to the staff admin's password login (``/admin/login/``).

Axes' own backend checks every ``authenticate()`` call and its handler counts every
failed one: five wrong admin passwords from an address also refused the next GitHub
sign-in from it (behind a proxy: everyone's). Here the backend checks, and the handler
counts, only password sign-ins to the admin; GitHub sign-in is throttled by GitHub.

`client_ip` is axes' ``AXES_CLIENT_IP_CALLABLE``: the address the throttle counts.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse


def is_admin_request(request: HttpRequest | None) -> bool:
    """The request is for the staff admin (its login page included)."""
    if request is None or not hasattr(request, "path"):
        return False
    try:
        admin = reverse("admin:index")
    except NoReverseMatch:
        return False
    return request.path.startswith(admin)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address. Without proxies (environment variable ``AXES_PROXY_COUNT=0``) it is
    ``REMOTE_ADDR`` and X-Forwarded-For is ignored (a client can write anything there).
    Behind N proxies each appends the address it received from, so the client is the
    N-th entry from the right; a shorter header did not pass our proxies: REMOTE_ADDR."""
    remote = request.META.get("REMOTE_ADDR") or None
    count = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if count < 1:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < count:
        return remote
    return forwarded[-count]


class AdminLoginThrottle(AxesStandaloneBackend):
    """Axes' lock-out check, for password sign-ins to the admin only."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if password is None or not is_admin_request(request):
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class AdminLoginHandler(AxesDatabaseHandler):
    """Axes' database handler, counting and logging admin sign-ins only."""

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs) -> None:
        if is_admin_request(request):
            super().user_login_failed(sender, credentials, request, **kwargs)

    def user_logged_in(self, sender, request, user, **kwargs) -> None:
        if is_admin_request(request):
            super().user_logged_in(sender, request, user, **kwargs)

    def user_logged_out(self, sender, request, user, **kwargs) -> None:
        if is_admin_request(request):
            super().user_logged_out(sender, request, user, **kwargs)
