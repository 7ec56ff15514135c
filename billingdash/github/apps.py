"""Authenticating as the GitHub App: the App JWT and installation access tokens.

Installation tokens live about an hour. They are cached in Django's cache, which this
project configures as the *database* cache so every web and worker process shares
them; the token is stored encrypted (`billingdash.crypto`) and dropped five minutes
before GitHub's ``expires_at``, by GitHub's clock (`clock`: local time plus the offset
read from GitHub's ``Date`` headers), which also dates the App JWT.
https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/authenticating-as-a-github-app-installation
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar

import jwt
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router

from billingdash import crypto
from billingdash.github import clock, errors, http

__all__ = [
    "InstallationToken",
    "app_jwt",
    "as_app",
    "create_installation_token",
    "forget_installation_token",
    "installation_token",
]

log = logging.getLogger("billingdash.github")

# GitHub: "iat" 60 s in the past against clock drift; "exp" no more than 10 minutes
# after it. https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
JWT_BACKDATE_SECONDS = 60
JWT_LIFETIME_SECONDS = 9 * 60
# Stop using a cached installation token this long before it expires.
TOKEN_EXPIRY_MARGIN_SECONDS = 5 * 60
# While one process fetches a token, others wait up to this long for it.
REFRESH_LOCK_SECONDS = 30
REFRESH_WAIT_SECONDS = 5.0
_CACHE_VERSION = 1
# GitHub's 401 messages for a JWT whose time claims it refuses (clock skew).
_TIME_CLAIM_ERROR = re.compile(r"'Expiration time' claim \('exp'\)|'Issued at' claim \('iat'\)")

T = TypeVar("T")


@lru_cache(maxsize=4)
def _load_key(pem: str) -> Any:
    return serialization.load_pem_private_key(pem.encode(), password=None)


def _issuer() -> str:
    # GitHub accepts the client ID (recommended) or the App ID; always a *string*
    # (PyJWT >= 2.11 refuses a non-string "iss").
    issuer = settings.GITHUB_APP_CLIENT_ID or str(settings.GITHUB_APP_ID or "")
    if not issuer:
        raise ImproperlyConfigured("Set GITHUB_APP_CLIENT_ID (or GITHUB_APP_ID) for the App JWT.")
    return issuer


def app_jwt(now: float | None = None) -> str:
    """A fresh RS256 JWT that authenticates as the App (for ``/app/...`` endpoints).
    Times are GitHub's (`clock.now()`) unless `now` is given."""
    pem = settings.GITHUB_APP_PRIVATE_KEY
    if not pem:
        raise ImproperlyConfigured("Set GITHUB_APP_PRIVATE_KEY (or _PATH) for the App JWT.")
    issued_at = int(clock.now() if now is None else now) - JWT_BACKDATE_SECONDS
    payload = {"iat": issued_at, "exp": issued_at + JWT_LIFETIME_SECONDS, "iss": _issuer()}
    return jwt.encode(payload, _load_key(pem), algorithm="RS256")


def as_app(call: Callable[[str], T]) -> T:
    """Run ``call(jwt)``; if GitHub refuses the JWT for its ``iat``/``exp`` (this host's
    clock is off), retry once with a new JWT: the refusal's ``Date`` header has updated
    `clock`'s offset by then (octokit's auth-app does the same)."""
    try:
        return call(app_jwt())
    except errors.Unauthorized as exc:
        if not _TIME_CLAIM_ERROR.search(exc.message):
            raise
        log.warning(
            "GitHub refused the App JWT (%s); offset now %.0fs", exc.message, clock.offset()
        )
        return call(app_jwt())


@dataclass(frozen=True)
class InstallationToken:
    """GitHub's answer to creating an installation token. `token` never shows in repr.
    Do not assume a length: the stateless ``ghs_<app>_<jwt>`` format is much longer."""

    token: str = field(repr=False)
    expires_at: datetime
    permissions: dict[str, str]
    repository_selection: str | None
    raw: dict[str, Any] = field(repr=False)


def _parse_expires_at(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    raise errors.MalformedResponse("installation token response has no valid expires_at")


def create_installation_token(installation_id: int) -> InstallationToken:
    """Create a new installation access token (uncached; prefer `installation_token`).
    https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app
    """
    data = as_app(
        lambda jwt: http.request_json(
            "POST",
            f"/app/installations/{int(installation_id)}/access_tokens",
            token=jwt,
            # Creating a token twice is harmless, so a failed attempt may be retried.
            idempotent=True,
        )
    )
    if not isinstance(data, dict) or not isinstance(data.get("token"), str):
        raise errors.MalformedResponse("installation token response has no token")
    return InstallationToken(
        token=data["token"],
        expires_at=_parse_expires_at(data.get("expires_at")),
        permissions=dict(data.get("permissions") or {}),
        repository_selection=data.get("repository_selection"),
        raw=data,
    )


def _cache_key(installation_id: int) -> str:
    return f"github:installation-token:{int(installation_id)}"


def _lock_key(installation_id: int) -> str:
    return f"github:installation-token-lock:{int(installation_id)}"


def _cached(installation_id: int) -> str | None:
    entry = cache.get(_cache_key(installation_id), version=_CACHE_VERSION)
    if not isinstance(entry, dict):
        return None
    # expires_at is by GitHub's clock.
    if entry.get("expires_at", 0) - TOKEN_EXPIRY_MARGIN_SECONDS <= clock.now():
        return None
    try:
        return crypto.decrypt(entry["token"])
    except (crypto.InvalidToken, KeyError, TypeError, ValueError):
        # Written under a key that is no longer configured: fetch a new token.
        return None


def _store(installation_id: int, token: InstallationToken) -> None:
    expires_at = token.expires_at.timestamp()
    ttl = int(expires_at - TOKEN_EXPIRY_MARGIN_SECONDS - clock.now())
    if ttl <= 0:
        # Already within the margin (clock skew?): use it now, but do not share it.
        log.warning("installation token expires in under %ds; not cached", ttl)
        return
    entry = {"token": crypto.encrypt(token.token), "expires_at": expires_at}
    cache.set(_cache_key(installation_id), entry, timeout=ttl, version=_CACHE_VERSION)


def _cache_in_transaction() -> bool:
    """True when the database cache would write inside the caller's transaction."""
    model = getattr(cache, "cache_model_class", None)
    if model is None:  # not the database cache
        return False
    return connections[router.db_for_write(model)].in_atomic_block


def installation_token(installation_id: int) -> str:
    """A valid installation access token, from the shared cache when possible.

    On a miss one process takes a short lock (``cache.add``) and asks GitHub; the
    others wait up to a few seconds for the cached token, then ask GitHub themselves
    (a duplicate token is harmless). Called inside ``transaction.atomic()`` it takes no
    lock (the database cache writes in the caller's transaction; better call it before
    opening one). After a 401 with a cached token, call `forget_installation_token` and
    try once more.
    """
    token = _cached(installation_id)
    if token is not None:
        return token
    lock = _lock_key(installation_id)
    if _cache_in_transaction():
        # Inside transaction.atomic() the lock row would stay invisible (and block other
        # writers of that key) until commit: fetch without it.
        have_lock, wait = False, False
    else:
        have_lock = cache.add(lock, "1", timeout=REFRESH_LOCK_SECONDS, version=_CACHE_VERSION)
        wait = not have_lock
    if wait:
        deadline = time.monotonic() + REFRESH_WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.1)
            token = _cached(installation_id)
            if token is not None:
                return token
    try:
        if have_lock:
            # Another process may have stored a token between our miss and our lock.
            token = _cached(installation_id)
            if token is not None:
                return token
        fresh = create_installation_token(installation_id)
        _store(installation_id, fresh)
        return fresh.token
    finally:
        if have_lock:
            cache.delete(lock, version=_CACHE_VERSION)


def forget_installation_token(installation_id: int) -> None:
    """Drop the cached token (after GitHub answered 401 to it, or on uninstall)."""
    cache.delete(_cache_key(installation_id), version=_CACHE_VERSION)
