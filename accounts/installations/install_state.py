"""The signed ``state`` we send to GitHub's App install page and expect back at the Setup
URL (``/github/setup/``).

GitHub keeps a ``state`` query parameter through the install page and hands it back
"after they install, authenticate, or accept updates" (docs: sharing your GitHub App).
The Setup URL itself is public: anyone can open it with any ``installation_id``, so the
state is what ties a callback to the person who started the install here. It is:

- signed with Django's signing (``TimestampSigner``, own salt): a forged or altered
  value fails;
- expiring (``INSTALL_STATE_MAX_AGE_SECONDS``, one hour by default: an owner may read
  GitHub's permission list before pressing Install);
- bound to the user (their pk is inside the signed value) and to the browser session (a
  random nonce kept in the session);
- single-use: the nonce leaves the session when the state is consumed, whatever the
  outcome, so a replayed callback URL fails.

The state also carries the organization the wizard was opened for (GitHub's id), so the
callback knows where to send the user back and which org a ``request`` was for.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest

from accounts.models import Organization

SALT = "billingdash.accounts.install-state"
SESSION_KEY = "billingdash_install_states"
# Nonces kept per session: one per wizard page view; older ones are dropped first.
MAX_OUTSTANDING = 10

REASONS = {
    "missing": "GitHub sent you back without the state billingdash gave it.",
    "forged": "The state in the link was not made by billingdash (it was altered or forged).",
    "expired": "The install link has expired. Links from the wizard are valid for an hour.",
    "other_user": "The install link was started by someone else, not by you.",
    "used": (
        "The install link was already used, or it was started in another browser or "
        "session (for example before you signed in again)."
    ),
}


class InvalidState(Exception):
    """The ``state`` cannot be accepted; ``reason`` is a key of `REASONS`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def message(self) -> str:
        return REASONS.get(self.reason, REASONS["forged"])


@dataclass(frozen=True)
class InstallState:
    nonce: str
    user_id: int
    org_github_id: int | None


def max_age_seconds() -> int:
    return int(settings.INSTALL_STATE_MAX_AGE_SECONDS)


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def _outstanding(request: HttpRequest) -> dict[str, float]:
    value = request.session.get(SESSION_KEY)
    return dict(value) if isinstance(value, dict) else {}


def issue(request: HttpRequest, *, organization: Organization | None = None) -> str:
    """A new signed state for the signed-in user, remembered in their session."""
    nonce = secrets.token_urlsafe(16)
    now = time.time()
    oldest = now - max_age_seconds()
    kept = {n: at for n, at in _outstanding(request).items() if at > oldest}
    kept[nonce] = now
    newest = sorted(kept.items(), key=lambda item: item[1])[-MAX_OUTSTANDING:]
    request.session[SESSION_KEY] = dict(newest)
    payload = {
        "n": nonce,
        "u": request.user.pk,
        "o": organization.github_id if organization is not None else None,
    }
    return _signer().sign_object(payload, compress=False)


def _parse(payload: Any) -> InstallState:
    if not isinstance(payload, dict):
        raise InvalidState("forged")
    nonce, user_id, org_id = payload.get("n"), payload.get("u"), payload.get("o")
    if not isinstance(nonce, str) or not isinstance(user_id, int):
        raise InvalidState("forged")
    if org_id is not None and not isinstance(org_id, int):
        raise InvalidState("forged")
    return InstallState(nonce=nonce, user_id=user_id, org_github_id=org_id)


def consume(request: HttpRequest, value: str | None) -> InstallState:
    """Verify ``value`` for the signed-in user and use it up. Raises `InvalidState`."""
    if not value or len(value) > 1000:
        raise InvalidState("missing" if not value else "forged")
    try:
        payload = _signer().unsign_object(value, max_age=max_age_seconds())
    except signing.SignatureExpired:
        raise InvalidState("expired") from None
    except (signing.BadSignature, ValueError, UnicodeError):
        raise InvalidState("forged") from None
    state = _parse(payload)
    if state.user_id != request.user.pk:
        raise InvalidState("other_user")
    outstanding = _outstanding(request)
    if outstanding.pop(state.nonce, None) is None:
        raise InvalidState("used")
    request.session[SESSION_KEY] = outstanding
    # Two callbacks racing with one state both see the nonce in the session they loaded:
    # the (shared, database) cache's atomic add lets exactly one of them through.
    if not cache.add(f"install-state-used:{state.nonce}", 1, timeout=max_age_seconds() + 60):
        raise InvalidState("used")
    return state
