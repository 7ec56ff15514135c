"""User tokens from GitHub's OAuth web flow: code exchange and refresh.

Both the GitHub App (client ``"app"``: expiring ``ghu_`` tokens with a ``ghr_`` refresh
token) and a classic OAuth App (client ``"oauth"``: non-expiring ``gho_`` tokens) use
``POST {GITHUB_WEB_URL}/login/oauth/access_token``. That endpoint reports errors with
**HTTP 200** and an ``error`` field, which become `OAuthError`.
https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app
https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from billingdash.github import errors, http

__all__ = ["Client", "TokenSet", "exchange_code", "refresh_user_token"]

Client = Literal["app", "oauth"]


@dataclass(frozen=True)
class TokenSet:
    """A user's tokens. The token strings never appear in repr.

    `expires_at` / `refresh_token_expires_at` are None for tokens that do not expire
    (OAuth Apps, or a GitHub App with expiring tokens switched off).
    """

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None
    refresh_token_expires_at: datetime | None = None
    scope: str = ""
    token_type: str = "bearer"

    @property
    def scopes(self) -> list[str]:
        return [s.strip() for s in self.scope.split(",") if s.strip()]

    @classmethod
    def from_response(cls, data: Mapping[str, Any], *, issued_at: datetime) -> TokenSet:
        """Build from the token endpoint's JSON. Lifetimes come as relative seconds
        (``expires_in``, ``refresh_token_expires_in``) and are read, not assumed;
        `issued_at` should be taken *before* the request so expiries err early."""
        access = data.get("access_token")
        if not isinstance(access, str) or not access:
            raise errors.MalformedResponse("token response has no access_token")
        refresh = data.get("refresh_token")
        return cls(
            access_token=access,
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
            expires_at=_after(issued_at, data.get("expires_in")),
            refresh_token_expires_at=_after(issued_at, data.get("refresh_token_expires_in")),
            scope=str(data.get("scope") or ""),
            token_type=str(data.get("token_type") or "bearer"),
        )


def _after(start: datetime, seconds: Any) -> datetime | None:
    if seconds is None or seconds == "":
        return None
    try:
        return start + timedelta(seconds=int(seconds))
    except (TypeError, ValueError):
        raise errors.MalformedResponse("token response has an invalid lifetime") from None


def _credentials(client: Client) -> tuple[str, str]:
    if client == "app":
        pair = (settings.GITHUB_APP_CLIENT_ID, settings.GITHUB_APP_CLIENT_SECRET)
    elif client == "oauth":
        pair = (settings.GITHUB_OAUTH_CLIENT_ID, settings.GITHUB_OAUTH_CLIENT_SECRET)
    else:
        raise ValueError(f"client must be 'app' or 'oauth', not {client!r}")
    if not all(pair):
        prefix = "GITHUB_APP" if client == "app" else "GITHUB_OAUTH"
        raise ImproperlyConfigured(f"Set {prefix}_CLIENT_ID and {prefix}_CLIENT_SECRET.")
    return pair


def _token_request(client: Client, fields: dict[str, str]) -> TokenSet:
    client_id, client_secret = _credentials(client)
    issued_at = datetime.now(UTC)
    response = http.send(
        "POST",
        f"{settings.GITHUB_WEB_URL.rstrip('/')}/login/oauth/access_token",
        data={"client_id": client_id, "client_secret": client_secret, **fields},
        headers={"Accept": "application/json"},
        # A code or refresh token works once: never resend one GitHub may have seen.
        idempotent=False,
    )
    data = http.parse_json(response)
    if not isinstance(data, dict):
        raise errors.MalformedResponse(
            "token response is not a JSON object", status=response.status_code
        )
    if data.get("error"):
        raise errors.OAuthError(
            str(data["error"]),
            error_description=_str_or_none(data.get("error_description")),
            error_uri=_str_or_none(data.get("error_uri")),
            status=response.status_code,
            headers=response.headers,
            method="POST",
            path="/login/oauth/access_token",
        )
    return TokenSet.from_response(data, issued_at=issued_at)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def exchange_code(
    *, client: Client, code: str, redirect_uri: str, code_verifier: str | None = None
) -> TokenSet:
    """Exchange the ``code`` from the sign-in callback for the user's tokens (PKCE
    ``code_verifier`` when the authorize request sent a challenge).
    https://docs.github.com/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps#2-users-are-redirected-back-to-your-site-by-github
    """
    fields = {"code": code, "redirect_uri": redirect_uri}
    if code_verifier:
        fields["code_verifier"] = code_verifier
    return _token_request(client, fields)


def refresh_user_token(*, client: Client, refresh_token: str) -> TokenSet:
    """Trade a refresh token for new tokens. GitHub invalidates the old access and
    refresh tokens: store the new pair at once. ``bad_refresh_token`` → sign in again.
    https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens
    """
    return _token_request(client, {"grant_type": "refresh_token", "refresh_token": refresh_token})
