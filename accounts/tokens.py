"""Users' GitHub tokens: stored encrypted, refreshed single-flight, and what happens when
GitHub withdraws them (signed out everywhere).

No token is ever logged: log the user's pk and the error's repr (errors never hold a
token)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.audit import audit_log
from accounts.models import GitHubToken, User
from billingdash import github
from billingdash.github import errors

log = logging.getLogger(__name__)


T = TypeVar("T")


# Refresh a user token this long before GitHub's expiry, so a call never races it.
REFRESH_MARGIN = timedelta(minutes=5)


REASON_REFRESH_REFUSED = (
    "GitHub no longer accepts your sign-in (it could not be renewed), so you were signed "
    "out everywhere. Please sign in again."
)


REASON_REVOKED = (
    "Your GitHub authorization for billingdash was revoked, so you were signed out "
    "everywhere. Sign in again to continue."
)


REASON_NO_TOKEN = "billingdash has no GitHub authorization for you. Please sign in again."


class GitHubAuthorizationLost(Exception):
    """The user's GitHub authorization is gone (refresh refused, token revoked): they
    have been signed out everywhere. `SessionRevocationMiddleware` sends them to the
    sign-in page with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def user_update_from_github(*, user: User, github_user: Mapping[str, Any]) -> User:
    """Copy GitHub's id, current login, avatar (and e-mail when shared) to the user."""
    user.github_id = int(github_user["id"])
    user.github_login = str(github_user.get("login") or "")[:39]
    user.avatar_url = str(github_user.get("avatar_url") or "")[:500]
    if github_user.get("email"):
        user.email = str(github_user["email"])[:254]
    user.save(update_fields=["github_id", "github_login", "avatar_url", "email"])
    return user


def github_token_store(
    *, user: User, client: str, token_response: Mapping[str, Any] | github.TokenSet
) -> GitHubToken:
    """Save (encrypted) the tokens GitHub just issued to `user` through `client`."""
    if isinstance(token_response, github.TokenSet):
        tokens = token_response
    else:
        tokens = github.TokenSet.from_response(token_response, issued_at=timezone.now())
    token, _ = GitHubToken.objects.update_or_create(
        user=user,
        client=client,
        defaults={
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token or "",
            "expires_at": tokens.expires_at,
            "refresh_token_expires_at": tokens.refresh_token_expires_at,
            "scopes": tokens.scope[:500],
        },
    )
    return token


def _needs_refresh(token: GitHubToken) -> bool:
    return token.expires_at is not None and token.expires_at <= timezone.now() + REFRESH_MARGIN


def _current_token(user: User) -> GitHubToken | None:
    """The token of the client people sign in with now, else any token of the user."""
    tokens = list(GitHubToken.objects.filter(user=user))
    tokens.sort(key=lambda t: t.client != settings.GITHUB_SIGNIN_CLIENT)
    return tokens[0] if tokens else None


def user_github_token(*, user: User, rejected: str | None = None) -> str:
    """A valid access token of `user`, refreshed first when it expires within five
    minutes (or when GitHub just `rejected` it with a 401).

    Single-flight: the refresh runs under ``SELECT ... FOR UPDATE`` of the token row,
    and whoever waited for the lock uses the token the first one got, because GitHub
    refresh tokens work once. A refused refresh drops the tokens, signs the user out
    everywhere and raises `GitHubAuthorizationLost`.
    """
    token = _current_token(user)
    if token is None:
        raise GitHubAuthorizationLost(REASON_NO_TOKEN)
    if rejected is None and not _needs_refresh(token):
        return str(token.access_token)
    seen = rejected if rejected is not None else str(token.access_token)
    reason = None
    with transaction.atomic():
        token = GitHubToken.objects.select_for_update().filter(pk=token.pk).first()
        if token is None:
            reason = REASON_NO_TOKEN
        elif str(token.access_token) != seen and not _needs_refresh(token):
            return str(token.access_token)  # another request refreshed it meanwhile
        elif not token.refresh_token or (
            token.refresh_token_expires_at and token.refresh_token_expires_at <= timezone.now()
        ):
            reason = REASON_REVOKED if rejected is not None else REASON_REFRESH_REFUSED
        else:
            try:
                tokens = github.refresh_user_token(
                    client=token.client, refresh_token=str(token.refresh_token)
                )
            except errors.OAuthError as error:
                if error.error not in ("bad_refresh_token", "invalid_grant"):
                    raise
                log.warning("refresh of user %s's token refused: %s", user.pk, error.error)
                reason = REASON_REFRESH_REFUSED
            except errors.Unauthorized:
                reason = REASON_REFRESH_REFUSED
            else:
                github_token_store(user=user, client=token.client, token_response=tokens)
                log.info("refreshed user %s's %s token", user.pk, token.client)
                return tokens.access_token
    _authorization_lost(user=user, reason=reason)
    raise GitHubAuthorizationLost(reason)


def with_user_token(*, user: User, call: Callable[[str], T]) -> T:
    """Run ``call(token)`` with the user's token; after a 401, refresh and retry once. A
    second 401 (or a token that cannot be refreshed) means the authorization is gone."""
    token = user_github_token(user=user)
    try:
        return call(token)
    except errors.Unauthorized:
        token = user_github_token(user=user, rejected=token)
    try:
        return call(token)
    except errors.Unauthorized:
        _authorization_lost(user=user, reason=REASON_REVOKED)
        raise GitHubAuthorizationLost(REASON_REVOKED) from None


def _authorization_lost(*, user: User, reason: str) -> None:
    GitHubToken.objects.filter(user=user).delete()
    user_sign_out_everywhere(user=user, reason=reason)


def user_sign_out_everywhere(*, user: User, reason: str) -> None:
    """End every session of `user` (on its next request, `SessionRevocationMiddleware`
    signs it out and shows `reason`)."""
    now = timezone.now()
    User.objects.filter(pk=user.pk).update(
        sessions_revoked_at=now, sessions_revoked_reason=reason[:200]
    )
    user.sessions_revoked_at, user.sessions_revoked_reason = now, reason[:200]
    audit_log(actor=None, action="signout_everywhere", target=str(user), details={"reason": reason})


def user_revoke_github_authorization(*, github_user_id: int) -> bool:
    """The user revoked our authorization on GitHub (``github_app_authorization``
    ``revoked`` webhook): drop their tokens and sign them out everywhere. Returns
    whether such a user exists here."""
    user = User.objects.filter(github_id=int(github_user_id)).first()
    if user is None:
        return False
    _authorization_lost(user=user, reason=REASON_REVOKED)
    return True
