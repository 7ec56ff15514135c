"""Sign in with GitHub: two social-auth backends, `github-app` and `github-oauth`.

* `github-app` signs in through our GitHub App's own OAuth client: expiring ``ghu_``
  tokens (8 hours) with a refresh token; GitHub shows such a token only the
  organizations where the App is installed.
* `github-oauth` signs in through a classic OAuth App with scope ``read:org``: it sees
  every organization and role before anything is installed, but cannot read billing.

Both use PKCE (S256) on top of social-auth's single-use, session-bound `state`, read
``GITHUB_WEB_URL`` / ``GITHUB_API_URL`` and the client credentials from Django settings
when called (GitHub Enterprise Server works; tests can override them), and send every
HTTP request through `billingdash.github` (timeouts, headers, typed errors, no token in
logs). Typed GitHub errors become social-auth exceptions, which `SignInErrorMiddleware`
turns into a friendly page. Accounts are keyed by GitHub's numeric user id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from social_core.backends.github import GithubAppAuth, GithubOAuth2
from social_core.backends.oauth import BaseOAuth2PKCE
from social_core.exceptions import (
    AuthConfigurationError,
    AuthCredentialError,
    AuthProviderError,
    AuthResponseError,
    ErrorStage,
    SocialAuthBaseException,
)

from billingdash import github
from billingdash.github import errors, http

__all__ = [
    "GitHubAppSignIn",
    "GitHubOAuthSignIn",
    "backend_name_for_client",
    "client_credentials",
    "client_settings_prefix",
    "social_error",
]


def backend_name_for_client(client: str) -> str:
    """`"app"` → ``github-app``, `"oauth"` → ``github-oauth``."""
    return f"github-{client}"


def client_settings_prefix(client: str) -> str:
    """The settings that hold a sign-in client's credentials: ``GITHUB_APP_CLIENT_ID``
    and ``_CLIENT_SECRET`` for `"app"`, ``GITHUB_OAUTH_...`` otherwise."""
    return "GITHUB_APP" if client == "app" else "GITHUB_OAUTH"


def client_credentials(client: str) -> tuple[str, str]:
    """The sign-in client's (client id, client secret), read from settings when called."""
    prefix = client_settings_prefix(client)
    return (
        getattr(settings, f"{prefix}_CLIENT_ID", ""),
        getattr(settings, f"{prefix}_CLIENT_SECRET", ""),
    )


def social_error(
    backend: Any, error: errors.GitHubError, *, stage: ErrorStage
) -> SocialAuthBaseException:
    """A typed GitHub error as the social-auth exception the error page understands."""
    status = error.status
    if isinstance(error, errors.NetworkError):
        code = "timeout" if "timed out" in error.message else "connection_failed"
        return AuthProviderError(backend, code=code, stage=stage)
    if isinstance(error, errors.RateLimited):
        return AuthProviderError(
            backend,
            code="rate_limited",
            stage=stage,
            status_code=status,
            retry_after=str(error.retry_after),
        )
    if isinstance(error, errors.ServerError):
        return AuthProviderError(backend, code="unavailable", stage=stage, status_code=status)
    if isinstance(error, errors.Unauthorized):
        return AuthCredentialError(
            backend, code="credential_rejected", stage=stage, status_code=status
        )
    if isinstance(error, errors.MalformedResponse):
        return AuthResponseError(backend, code="malformed_response", stage=stage)
    return AuthProviderError(backend, code="http_error", stage=stage, status_code=status)


class _GitHubSignIn(BaseOAuth2PKCE):
    """What both sign-in clients share (mixed in before social-core's GitHub backend)."""

    client = ""  # "app" | "oauth": GitHubToken.client and GITHUB_SIGNIN_CLIENT
    # The numeric id is the identity; logins can be renamed and reused.
    ID_KEY = "id"
    REQUIRES_USER_ID = True
    # Nothing goes to social-auth's plain extra_data: tokens are stored encrypted.
    EXTRA_DATA: list = []
    PKCE_DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    DEFAULT_USE_PKCE = True

    # --- configuration, read at call time ----------------------------------------

    def credentials(self) -> tuple[str, str]:
        return client_credentials(self.client)

    def is_enabled(self) -> bool:
        """Only the client GITHUB_SIGNIN_CLIENT names signs people in, and only when its
        credentials are set (one client per deployment: one token per user)."""
        return self.client == settings.GITHUB_SIGNIN_CLIENT and all(self.credentials())

    def _require_enabled(self, stage: ErrorStage) -> None:
        if not self.is_enabled():
            raise AuthConfigurationError(
                self, code="missing_setting", parameter="GITHUB_SIGNIN_CLIENT", stage=stage
            )

    def get_key_and_secret(self) -> tuple[str, str]:
        return self.credentials()

    def setting(self, name: str, default: Any = None) -> Any:
        # PKCE S256 is not optional here, whatever SOCIAL_AUTH_* settings say.
        if name == "USE_PKCE":
            return True
        if name == "PKCE_CODE_CHALLENGE_METHOD":
            return "S256"
        return super().setting(name, default)

    def authorization_url(self) -> str:
        return f"{settings.GITHUB_WEB_URL.rstrip('/')}/login/oauth/authorize"

    def access_token_url(self) -> str:
        return f"{settings.GITHUB_WEB_URL.rstrip('/')}/login/oauth/access_token"

    def api_url(self) -> str:
        return settings.GITHUB_API_URL.rstrip("/") + "/"

    # --- flow --------------------------------------------------------------------

    def auth_url(self) -> str:
        self._require_enabled("begin")
        return super().auth_url()

    def auth_complete(self, *args, **kwargs):
        self._require_enabled("callback")
        return super().auth_complete(*args, **kwargs)

    def get_user_details(self, response: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "username": response.get("login"),
            "email": response.get("email") or "",
            "fullname": response.get("name") or "",
        }

    def user_data(self, access_token: str, *args, **kwargs) -> dict[str, Any]:
        """``GET /user`` through the GitHub client (no ``/user/emails``: the e-mail is
        not an identity here and an App token may not read it)."""
        try:
            data = github.get_authenticated_user(access_token)
        except errors.GitHubError as error:
            raise social_error(self, error, stage="user_info") from None
        if not isinstance(data.get("id"), int):
            raise AuthResponseError(self, code="missing_claim", claim="id", stage="user_info")
        return dict(data)

    # --- HTTP: social-auth's one exit, routed through billingdash.github.http --------

    def request(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: Mapping[str, Any] | None = None,
        data: dict | None = None,
        json: dict | None = None,
        auth: Any = None,
        params: dict | None = None,
        timeout: float | None = None,
        stage: ErrorStage = "user_info",
    ):
        """Social-auth calls this for the code exchange (and any other request it
        makes). The GitHub client supplies timeouts, headers and retries (a POST is
        never resent once it may have reached GitHub: codes work once) and typed
        errors, mapped here to social-auth's. GitHub answers token errors with HTTP
        200 and an ``error`` field; social-auth's own `process_error` reads those."""
        if auth is not None:
            raise AuthConfigurationError(self, code="unsupported_feature", stage=stage)
        headers = {str(k): str(v) for k, v in (headers or {}).items()}
        token = None
        authorization = headers.pop("Authorization", "")
        if authorization.lower().startswith(("token ", "bearer ")):
            token = authorization.split(" ", 1)[1]
        try:
            return http.send(
                method,
                url,
                token=token,
                params=params,
                data=data,
                json=json,
                headers=headers,
                idempotent=method.upper() == "GET",
            )
        except errors.GitHubError as error:
            raise social_error(self, error, stage=stage) from None


class GitHubAppSignIn(_GitHubSignIn, GithubAppAuth):
    """Our GitHub App's own OAuth client (the default): expiring, refreshable tokens."""

    name = "github-app"
    title = "GitHub"
    client = "app"


class GitHubOAuthSignIn(_GitHubSignIn, GithubOAuth2):
    """A classic OAuth App (``read:org``): every organization and role before install."""

    name = "github-oauth"
    title = "GitHub"
    client = "oauth"
    DEFAULT_SCOPE = ["read:org"]
