"""Session lifetimes (idle and absolute, shorter for staff), session revocation ("signed
out everywhere") and friendly sign-in error pages."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from social_core.exceptions import SocialAuthBaseException
from social_django.middleware import SocialAuthExceptionMiddleware

from accounts.roles.access import RoleCheckUnavailable
from accounts.signin.backends import social_error
from accounts.signin.signin_errors import describe
from accounts.tokens import GitHubAuthorizationLost
from billingdash.github import errors

log = logging.getLogger(__name__)

# Session keys: when this session signed in (epoch seconds, set on `user_logged_in`), and
# when it was last used (written at most once a minute: the idle clock).
SIGNED_IN_AT = "billingdash_signed_in_at"
LAST_SEEN_AT = "billingdash_last_seen_at"
SEEN_EVERY_SECONDS = 60


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _signed_out(request: HttpRequest, reason: str, *, code: str = "signed_out") -> HttpResponse:
    staff_page = request.path.startswith("/admin/")
    logout(request)
    if _wants_json(request):
        return JsonResponse({"error": code, "message": reason}, status=401)
    messages.warning(request, reason)
    if staff_page:
        return redirect_to_login(request.get_full_path(), "admin:login")
    return redirect("login")


def _duration(seconds: int) -> str:
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


def session_lifetimes(user) -> tuple[int, int]:
    """(absolute, idle) lifetime in seconds of `user`'s sessions: shorter for staff."""
    if user.is_staff:
        return settings.SESSION_STAFF_ABSOLUTE_SECONDS, settings.SESSION_STAFF_IDLE_SECONDS
    return settings.SESSION_ABSOLUTE_SECONDS, settings.SESSION_IDLE_SECONDS


def session_expiry_reason(session, user, *, now: float) -> str:
    """Why the session has ended ("" while it lasts): idle or past its absolute lifetime.
    A session without its sign-in time cannot be aged, so it has ended too."""
    absolute, idle = session_lifetimes(user)
    signed_in_at = session.get(SIGNED_IN_AT)
    if not isinstance(signed_in_at, int | float):
        return "Your session could not be verified, so you were signed out. Sign in again."
    if now - signed_in_at > absolute:
        return (
            f"You were signed out after {_duration(absolute)}: sessions last at most that "
            "long. Sign in again to continue."
        )
    last_seen = session.get(LAST_SEEN_AT, signed_in_at)
    if isinstance(last_seen, int | float) and now - last_seen > idle:
        return (
            f"You were signed out because you were inactive for {_duration(idle)}. "
            "Sign in again to continue."
        )
    return ""


class SessionLifetimeMiddleware:
    """Ends a session server-side once it has been idle for ``SESSION_IDLE_SECONDS`` or
    has lasted ``SESSION_ABSOLUTE_SECONDS`` (``SESSION_STAFF_*`` for staff), whatever
    the browser's cookie says; the sign-in page (or the API's 401) says why."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            reason = session_expiry_reason(request.session, user, now=now)
            if reason:
                return _signed_out(request, reason, code="session_expired")
            if now - request.session.get(LAST_SEEN_AT, 0) >= SEEN_EVERY_SECONDS:
                request.session[LAST_SEEN_AT] = now
        return self.get_response(request)


class SessionRevocationMiddleware:
    """Ends a session that started before `User.sessions_revoked_at` (set by
    `services.user_sign_out_everywhere`) on its next request, with the reason shown on
    the sign-in page; and does the same at once when a view finds the user's GitHub
    authorization gone (`GitHubAuthorizationLost`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.sessions_revoked_at:
            signed_in_at = request.session.get(SIGNED_IN_AT, 0)
            if signed_in_at < user.sessions_revoked_at.timestamp():
                reason = user.sessions_revoked_reason or "You were signed out."
                return _signed_out(request, reason)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, GitHubAuthorizationLost):
            return _signed_out(request, exception.reason)
        return None


def mark_session_signed_in(request: HttpRequest) -> None:
    now = time.time()
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN_AT] = now


class SignInErrorMiddleware(SocialAuthExceptionMiddleware):
    """Every sign-in failure (the user denied access, a bad or reused code, a state
    that does not match, GitHub down, an error GitHub returned with HTTP 200) renders
    `accounts/signin_error.html`: what happened and a button to try again. Never a 500,
    even with DEBUG on. Also renders the "could not confirm your role" page."""

    def raise_exception(self, request: HttpRequest, exception: Exception) -> bool:
        return False

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, RoleCheckUnavailable):
            log.warning("role check unavailable for %s: %s", request.path, exception)
            response = render(
                request,
                "accounts/role_check_unavailable.html",
                status=HTTPStatus.SERVICE_UNAVAILABLE,
            )
            add_never_cache_headers(response)
            return response
        backend = getattr(request, "backend", None)
        if isinstance(exception, errors.GitHubError) and backend is not None:
            # A GitHub error that escaped social-auth's own mapping (in our pipeline).
            exception = social_error(backend, exception, stage="pipeline")
        return super().process_exception(request, exception)

    def get_error_status(self, request: HttpRequest, exception: SocialAuthBaseException) -> int:
        status = super().get_error_status(request, exception)
        if exception.code == "missing_setting":
            return HTTPStatus.NOT_FOUND  # a sign-in client this site does not offer
        # Configuration or unknown failures are this site's trouble, but never a bare 500.
        return HTTPStatus.SERVICE_UNAVAILABLE if status == 500 else status

    def get_redirect_uri(self, request: HttpRequest, exception: Exception) -> str | None:
        return None  # always render the page, never redirect with the error in the URL

    def render_error(
        self, request: HttpRequest, exception: SocialAuthBaseException
    ) -> HttpResponse:
        status = self.get_error_status(request, exception)
        self._log_error(exception, status)
        backend = getattr(request, "backend", None)
        response = render(
            request,
            "accounts/signin_error.html",
            {
                "error": describe(exception),
                "backend_name": getattr(backend, "name", ""),
                "error_code": exception.code,
            },
            status=status,
        )
        add_never_cache_headers(response)
        return response
