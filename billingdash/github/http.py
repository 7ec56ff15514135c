"""The HTTP transport: the only place that calls `requests` against GitHub.

One `requests.Session` per thread (and a fresh one after a fork, for Celery's prefork
pool), connect/read timeouts, GitHub's headers, retries with exponential backoff and
full jitter for 5xx and network errors only, typed errors for everything else, `Link`
pagination, and `track_calls()` accounting. Rate limits are raised at once with the
time to wait; nothing here ever sleeps for a rate limit. Which URLs may carry a token,
and how paths become URLs, is `api_urls`.
"""

from __future__ import annotations

import json as jsonlib
import logging
import os
import random
import threading
import time
from collections.abc import Iterator, Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

import requests
import urllib3.exceptions
from django.conf import settings

from billingdash.github import calls, clock, errors
from billingdash.github.api_urls import api_url, is_api_url, log_path
from billingdash.github.calls import CallStats, track_calls

__all__ = [
    "CallStats",
    "backoff_delay",
    "paginate",
    "parse_json",
    "request",
    "request_json",
    "send",
    "session",
    "track_calls",
    "user_agent",
]

log = logging.getLogger("billingdash.github")

GITHUB_JSON = "application/vnd.github+json"
# The longest single backoff sleep between two attempts.
MAX_BACKOFF_SECONDS = 30.0
# Error bodies are small JSON documents; never read more than this of one.
MAX_ERROR_BODY_BYTES = 1 << 20

_local = threading.local()


def _forget_sessions_in_child() -> None:
    # A forked worker must not share the parent's pooled sockets.
    global _local
    _local = threading.local()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_sessions_in_child)


def session() -> requests.Session:
    """This thread's session (created on first use)."""
    current = getattr(_local, "session", None)
    if current is None:
        current = requests.Session()
        _local.session = current
    return current


@lru_cache(maxsize=1)
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("billingdash")
    except PackageNotFoundError:
        pass
    try:
        import tomllib

        with open(settings.BASE_DIR / "pyproject.toml", "rb") as fh:
            return str(tomllib.load(fh)["project"]["version"])
    except (OSError, KeyError, ValueError, AttributeError):
        return "dev"


def user_agent() -> str:
    """GitHub requires a User-Agent; ours names the product and its version."""
    return f"billingdash/{_version()}"


class _Bearer(requests.auth.AuthBase):
    """Sets ``Authorization: Bearer`` (user, installation and OAuth tokens and App JWTs
    all accept it). Passing an auth object also stops `requests` from reading ``.netrc``.
    Its repr never shows the token."""

    def __init__(self, token: str | None) -> None:
        self._token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if self._token:
            r.headers["Authorization"] = f"Bearer {self._token}"
        return r

    def __repr__(self) -> str:
        return "_Bearer('***')"


# --- sending --------------------------------------------------------------------------


def backoff_delay(attempt: int, base: float | None = None) -> float:
    """Full-jitter exponential backoff before attempt ``attempt + 1``: uniform in
    ``[0, min(cap, base * 2 ** (attempt - 1))]``."""
    base = settings.GITHUB_HTTP_BACKOFF_SECONDS if base is None else base
    ceiling = min(MAX_BACKOFF_SECONDS, base * (2 ** max(0, attempt - 1)))
    return random.uniform(0, max(0.0, ceiling))


# Failures worth another attempt: no connection, a timeout, a body that broke off.
_TRANSIENT = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request surely did not reach GitHub (safe to retry a POST)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError) and exc.args:
        reason = getattr(exc.args[0], "reason", exc.args[0])
        return isinstance(reason, urllib3.exceptions.NewConnectionError)
    return False


def _read_error_body(response: requests.Response, stream: bool) -> bytes:
    try:
        if stream:
            return response.raw.read(MAX_ERROR_BODY_BYTES, decode_content=True) or b""
        return response.content or b""
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError):
        return b""
    finally:
        response.close()


def send(
    method: str,
    url: str,
    *,
    token: str | None = None,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    data: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    stream: bool = False,
    idempotent: bool | None = None,
) -> requests.Response:
    """Send one logical request to an absolute GitHub URL and return the 2xx response.

    Retries 5xx responses and network errors up to ``GITHUB_HTTP_MAX_ATTEMPTS`` attempts
    with full-jitter backoff. Non-idempotent requests (POST/PATCH unless
    ``idempotent=True``) are retried only when they surely never left this machine.
    4xx are never retried; rate limits raise `RateLimited` at once.
    """
    method = method.upper()
    if idempotent is None:
        idempotent = method in ("GET", "HEAD", "OPTIONS", "PUT", "DELETE")
    attempts = max(1, int(settings.GITHUB_HTTP_MAX_ATTEMPTS))
    timeout = (settings.GITHUB_HTTP_CONNECT_TIMEOUT, settings.GITHUB_HTTP_READ_TIMEOUT)
    all_headers = {"Accept": GITHUB_JSON, "User-Agent": user_agent()}
    if is_api_url(url):
        all_headers["X-GitHub-Api-Version"] = settings.GITHUB_API_VERSION
    all_headers.update(headers or {})
    path = log_path(url)

    for attempt in range(1, attempts + 1):
        calls.count_call()
        started = time.monotonic()
        try:
            response = session().request(
                method,
                url,
                params=params,
                json=json,
                data=data,
                headers=all_headers,
                auth=_Bearer(token),
                timeout=timeout,
                stream=stream,
            )
        except requests.RequestException as exc:
            retryable = isinstance(exc, _TRANSIENT) and (idempotent or _never_sent(exc))
            log.warning(
                "GitHub %s %s attempt %d/%d failed: %s",
                method,
                path,
                attempt,
                attempts,
                type(exc).__name__,
            )
            if retryable and attempt < attempts:
                time.sleep(backoff_delay(attempt))
                continue
            if isinstance(exc, requests.Timeout):
                kind = "timed out"
            elif isinstance(exc, requests.exceptions.ChunkedEncodingError):
                kind = "response broke off"
            else:
                kind = "connection failed"
            raise errors.NetworkError(
                f"{kind} ({type(exc).__name__}) after {attempt} attempt(s)",
                method=method,
                path=path,
            ) from exc

        calls.record_budget(response.headers)
        clock.observe(response.headers.get("Date"))
        log.debug(
            "GitHub %s %s -> %s in %.0f ms (request id %s)",
            method,
            path,
            response.status_code,
            (time.monotonic() - started) * 1000,
            response.headers.get("x-github-request-id"),
        )
        if response.status_code < 400:
            return response
        error = errors.from_response(
            response.status_code,
            response.headers,
            _read_error_body(response, stream),
            method=method,
            path=path,
        )
        if isinstance(error, errors.ServerError) and idempotent and attempt < attempts:
            log.warning(
                "GitHub %s %s attempt %d/%d: %s", method, path, attempt, attempts, error.status
            )
            time.sleep(backoff_delay(attempt))
            continue
        raise error
    raise AssertionError("unreachable")  # pragma: no cover


def request(
    method: str,
    path: str,
    *,
    token: str | None = None,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    stream: bool = False,
    idempotent: bool | None = None,
) -> requests.Response:
    """Call the REST API: `path` is appended to ``GITHUB_API_URL`` (or is an absolute
    URL under it, e.g. from a ``Link`` header). Returns the 2xx `requests.Response`;
    with ``stream=True`` the caller must close it."""
    return send(
        method,
        api_url(path),
        token=token,
        params=params,
        json=json,
        stream=stream,
        idempotent=idempotent,
    )


def parse_json(response: requests.Response) -> Any:
    """The response body as JSON with exact numbers (`Decimal`, never float); None for
    an empty body. Invalid JSON raises `MalformedResponse` (without quoting the body)."""
    try:
        content = response.content
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise errors.MalformedResponse(
            f"response body could not be read ({type(exc).__name__})",
            status=response.status_code,
            headers=response.headers,
            method=response.request.method if response.request else None,
            path=log_path(response.url),
        ) from None
    if response.status_code == 204 or not content:
        return None
    try:
        return jsonlib.loads(content, parse_float=Decimal)
    except ValueError:
        raise errors.MalformedResponse(
            "response body is not valid JSON",
            status=response.status_code,
            headers=response.headers,
            method=response.request.method if response.request else None,
            path=log_path(response.url),
        ) from None


def request_json(
    method: str,
    path: str,
    *,
    token: str | None = None,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    idempotent: bool | None = None,
) -> Any:
    """`request` and `parse_json` in one call."""
    response = request(method, path, token=token, params=params, json=json, idempotent=idempotent)
    return parse_json(response)


def paginate(
    path: str,
    *,
    token: str | None,
    params: Mapping[str, Any] | None = None,
    items_key: str | None = None,
) -> Iterator[Any]:
    """Yield every item of a list endpoint, following ``Link: rel="next"``.

    Asks for ``per_page=100``. Most endpoints answer a JSON list; some wrap it
    (``/user/installations`` answers ``{"total_count", "installations"}``): name the key
    with `items_key`. Links outside ``GITHUB_API_URL`` are refused (`MalformedResponse`).
    https://docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api
    """
    query: dict[str, Any] | None = {"per_page": 100, **(params or {})}
    url = api_url(path)
    seen: set[str] = set()
    while True:
        response = send("GET", url, token=token, params=query)
        body = parse_json(response)
        items = body.get(items_key) if items_key and isinstance(body, dict) else body
        if not isinstance(items, list):
            raise errors.MalformedResponse(
                f"expected a list{f' under {items_key!r}' if items_key else ''}",
                status=response.status_code,
                headers=response.headers,
                method="GET",
                path=log_path(url),
            )
        yield from items
        next_url = response.links.get("next", {}).get("url")
        if not next_url:
            return
        if not is_api_url(next_url) or next_url in seen:
            raise errors.MalformedResponse(
                "refusing a pagination link outside GITHUB_API_URL or seen before",
                status=response.status_code,
                headers=response.headers,
                method="GET",
                path=log_path(url),
            )
        seen.add(next_url)
        # The next link already carries every query parameter.
        url, query = next_url, None
