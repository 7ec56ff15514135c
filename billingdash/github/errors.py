"""Typed errors raised by the GitHub client.

Every failure of a call to GitHub surfaces as a `GitHubError` subclass, so callers can
write ``except github.NotFound`` instead of looking at status codes. `from_response`
turns an HTTP error response into the right class, following GitHub's documented rules
for telling a rate limit from a permission error:
https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit

No error ever holds a token: messages come from GitHub's ``message`` field or are
written here, the method and path are kept without query string, and the request
headers (which carry ``Authorization``) are never stored.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

__all__ = [
    "BadRequest",
    "Forbidden",
    "GitHubError",
    "Gone",
    "MalformedResponse",
    "NetworkError",
    "NotFound",
    "OAuthError",
    "RateLimited",
    "ServerError",
    "Unauthorized",
    "Unprocessable",
    "from_response",
    "parse_accepted_permissions",
]

# Wait this long after a secondary rate limit that names no time ("wait at least one
# minute before retrying", GitHub's docs).
SECONDARY_LIMIT_FALLBACK_SECONDS = 60

# GitHub's body for a secondary limit says "You have exceeded a secondary rate limit";
# older responses said "abuse detection mechanism".
_SECONDARY_MESSAGE = re.compile(r"secondary rate limit|abuse detection", re.IGNORECASE)

# Response headers that are never kept on an error (a web endpoint may set a session).
_DROPPED_HEADERS = frozenset({"set-cookie"})


def _rebuild(cls: type[GitHubError], state: dict[str, Any]) -> GitHubError:
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("message", ""))
    error.__dict__.update(state)
    return error


class GitHubError(Exception):
    """A call to GitHub failed. Base class of every error of this package.

    `status` is the HTTP status (None when no response came back), `documentation_url`
    GitHub's link from the error body, `headers` the response headers (lower-case keys),
    `request_id` GitHub's ``x-github-request-id`` (quote it to GitHub support).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        documentation_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        request_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.documentation_url = documentation_url
        self.headers: dict[str, str] = {
            k.lower(): v for k, v in (headers or {}).items() if k.lower() not in _DROPPED_HEADERS
        }
        self.request_id = request_id or self.headers.get("x-github-request-id")
        self.method = method
        self.path = path

    def __str__(self) -> str:
        where = " ".join(p for p in (self.method, self.path) if p)
        head = "GitHub"
        if self.status is not None:
            head += f" {self.status}"
        if where:
            head += f" {where}"
        text = f"{head}: {self.message}"
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, message={self.message!r}, "
            f"method={self.method!r}, path={self.path!r}, request_id={self.request_id!r})"
        )

    def __reduce__(self):  # picklable for Celery, whatever the subclass's attributes
        return (_rebuild, (type(self), self.__dict__.copy()))


class BadRequest(GitHubError):
    """400: GitHub refused the parameters (e.g. a usage period it does not serve)."""


class Unauthorized(GitHubError):
    """401: the token (or App JWT) is invalid, expired or revoked."""


class Forbidden(GitHubError):
    """403 that is not a rate limit: the token lacks a permission or the actor a role.

    `accepted_permissions` is GitHub's ``x-accepted-github-permissions`` header parsed
    into alternatives (any one set suffices), e.g. ``[{"organization_administration":
    "read"}]``; `accepted_permissions_header` is the raw value (None when absent).
    """

    @property
    def accepted_permissions_header(self) -> str | None:
        return self.headers.get("x-accepted-github-permissions")

    @property
    def accepted_permissions(self) -> list[dict[str, str]]:
        return parse_accepted_permissions(self.accepted_permissions_header)


class NotFound(GitHubError):
    """404: missing, or hidden from this token (GitHub answers 404 rather than 403 for
    private resources the caller may not see)."""


class Gone(GitHubError):
    """410: GitHub retired the endpoint ("This endpoint has been moved"). GitHub's
    message is kept in `github_message`; `message` says what replaced it when known
    (`replacement`), e.g. the per-product billing endpoints of the old billing platform
    (``/orgs/{org}/settings/billing/actions|packages|shared-storage``), which the usage
    report replaced:
    https://docs.github.com/billing/reference/previous-billing-platform-endpoints
    """

    @property
    def github_message(self) -> str:
        return str(self.__dict__.get("_github_message", self.message))

    @property
    def replacement(self) -> str | None:
        return self.__dict__.get("_replacement")


# The old billing platform's per-product endpoints, retired with 410 Gone.
_RETIRED_BILLING = re.compile(r"/orgs/[^/]+/settings/billing/(actions|packages|shared-storage)/?$")
USAGE_REPORT = "GET /organizations/{org}/settings/billing/usage"


def _gone(message: str, **kwargs: Any) -> Gone:
    path = kwargs.get("path")
    replacement = USAGE_REPORT if path and _RETIRED_BILLING.search(path) else None
    if replacement:
        text = (
            f"GitHub retired this billing endpoint of the previous billing platform "
            f'(410 Gone: "{message}"); the billing usage report, {replacement}, '
            "replaces it"
        )
    else:
        text = f'GitHub retired this endpoint (410 Gone: "{message}")'
    error = Gone(text, **kwargs)
    error.__dict__["_github_message"] = message
    error.__dict__["_replacement"] = replacement
    return error


class Unprocessable(GitHubError):
    """422: validation failed; `errors` holds GitHub's error list when given."""

    @property
    def errors(self) -> list[Any]:
        return list(self.__dict__.get("_errors", []))


class RateLimited(GitHubError):
    """A primary (``kind="primary"``) or secondary (``kind="secondary"``) rate limit.

    `retry_after` is the number of seconds to wait before trying again and `reset_at`
    the moment (aware UTC) that wait ends; `remaining`, `limit` and `resource` echo the
    ``x-ratelimit-*`` headers when present. The client never sleeps for a rate limit:
    the caller (a Celery task) reschedules itself ``countdown=error.retry_after``.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: Literal["primary", "secondary"] = "secondary",
        retry_after: int = SECONDARY_LIMIT_FALLBACK_SECONDS,
        reset_at: datetime | None = None,
        remaining: int | None = None,
        limit: int | None = None,
        resource: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.kind = kind
        self.retry_after = int(retry_after)
        self.reset_at = reset_at or datetime.fromtimestamp(time.time() + self.retry_after, UTC)
        self.remaining = remaining
        self.limit = limit
        self.resource = resource


class ServerError(GitHubError):
    """5xx: GitHub failed; retried with backoff before it is raised."""


class NetworkError(GitHubError):
    """No usable response: connection refused or reset, DNS failure, timeout."""


class MalformedResponse(GitHubError):
    """The response was not what the API documents: invalid or truncated JSON, an
    unexpected shape, or a pagination link to another host."""


class OAuthError(GitHubError):
    """GitHub's OAuth token endpoint answered (usually HTTP 200) with an ``error``.

    `error` is GitHub's code (``bad_verification_code``, ``bad_refresh_token``,
    ``incorrect_client_credentials``, ``redirect_uri_mismatch``, ...).
    """

    def __init__(
        self,
        error: str,
        *,
        error_description: str | None = None,
        error_uri: str | None = None,
        **kwargs: Any,
    ) -> None:
        text = f"{error}: {error_description}" if error_description else error
        super().__init__(text, documentation_url=error_uri, **kwargs)
        self.error = error
        self.error_description = error_description
        self.error_uri = error_uri


def parse_accepted_permissions(value: str | None) -> list[dict[str, str]]:
    """Parse ``x-accepted-github-permissions``: sets separated by ``;``, permissions in
    a set by ``,``, each ``name=level`` (``"contents=read; issues=write"`` means either).
    https://github.blog/changelog/2023-08-10-x-accepted-github-permissions-header-for-fine-grained-permission-actors
    """
    alternatives: list[dict[str, str]] = []
    for group in (value or "").split(";"):
        perms: dict[str, str] = {}
        for item in group.split(","):
            name, sep, level = item.strip().partition("=")
            if name and sep:
                perms[name.strip()] = level.strip()
        if perms:
            alternatives.append(perms)
    return alternatives


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    try:
        return int(headers[name])
    except (KeyError, ValueError):
        return None


def _retry_after_seconds(value: str | None, now: float) -> int | None:
    """``retry-after`` is delta-seconds at GitHub; an HTTP date is accepted too."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0, math.ceil(when.timestamp() - now))


def _rate_limited(
    status: int, headers: Mapping[str, str], message: str, now: float, **common: Any
) -> RateLimited | None:
    """Apply GitHub's rules to a 403/429; None when it is not a rate limit."""
    remaining = _int_header(headers, "x-ratelimit-remaining")
    reset = _int_header(headers, "x-ratelimit-reset")
    retry_after = _retry_after_seconds(headers.get("retry-after"), now)
    secondary_message = bool(_SECONDARY_MESSAGE.search(message))
    exhausted = remaining == 0
    # Wait until the window resets, plus a second so the retry lands after it.
    until_reset = max(0, math.ceil(reset - now)) + 1 if reset is not None else None

    if secondary_message or (retry_after is not None and not exhausted):
        kind = "secondary"
        wait = retry_after
        if wait is None:
            wait = until_reset if exhausted and until_reset else SECONDARY_LIMIT_FALLBACK_SECONDS
    elif exhausted:
        kind = "primary"
        wait = retry_after if retry_after is not None else until_reset
        if wait is None:
            wait = SECONDARY_LIMIT_FALLBACK_SECONDS
    elif status == 429:
        kind, wait = "secondary", SECONDARY_LIMIT_FALLBACK_SECONDS
    else:
        return None

    return RateLimited(
        message,
        kind=kind,  # type: ignore[arg-type]
        retry_after=int(wait),
        reset_at=datetime.fromtimestamp(now + wait, tz=UTC),
        remaining=remaining,
        limit=_int_header(headers, "x-ratelimit-limit"),
        resource=headers.get("x-ratelimit-resource"),
        status=status,
        headers=headers,
        **common,
    )


_BY_STATUS: dict[int, type[GitHubError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    422: Unprocessable,
}


def from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    method: str | None = None,
    path: str | None = None,
    now: float | None = None,
) -> GitHubError:
    """Build the typed error for an HTTP error response (status >= 400)."""
    now = time.time() if now is None else now
    kept = {k.lower(): v for k, v in headers.items()}
    data: Any = None
    if body:
        try:
            data = json.loads(body)
        except ValueError:
            data = None
    if not isinstance(data, dict):
        data = {}
    message = data.get("message")
    if not isinstance(message, str) or not message:
        message = f"HTTP {status}"
    documentation_url = data.get("documentation_url")
    common: dict[str, Any] = {
        "documentation_url": documentation_url if isinstance(documentation_url, str) else None,
        "method": method,
        "path": path,
    }
    if status in (403, 429):
        limited = _rate_limited(status, kept, message, now, **common)
        if limited is not None:
            return limited
    if status == 410:
        return _gone(message, status=status, headers=kept, **common)
    if status >= 500:
        cls: type[GitHubError] = ServerError
    else:
        cls = _BY_STATUS.get(status, GitHubError)
    error = cls(message, status=status, headers=kept, **common)
    if isinstance(error, Unprocessable) and isinstance(data.get("errors"), list):
        error.__dict__["_errors"] = data["errors"]
    return error
