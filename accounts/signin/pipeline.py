"""Our steps of social-auth's sign-in pipeline (order in settings.SOCIAL_AUTH_PIPELINE).

Social-auth's own `load_extra_data` and `user_details` are left out on purpose: tokens
go to `GitHubToken` (encrypted), never to `UserSocialAuth.extra_data`, and the profile
fields are written here.
"""

from __future__ import annotations

import logging
from typing import Any

from accounts.models import User
from accounts.roles.sync import memberships_sync
from accounts.tokens import GitHubAuthorizationLost, github_token_store, user_update_from_github
from billingdash.github import errors

log = logging.getLogger(__name__)

# Keys of GitHub's token response that must never be stored in clear.
SECRET_KEYS = frozenset({"access_token", "refresh_token", "id_token", "code", "code_verifier"})


def user_by_github_id(uid: Any, user: User | None = None, **kwargs: Any) -> dict | None:
    """Find the account by GitHub's numeric id when this client has no association yet
    (the person signed in before with the other client)."""
    if user is None:
        existing = User.objects.filter(github_id=int(uid)).first()
        if existing is not None:
            return {"user": existing, "is_new": False}
    return None


def username_from_github_id(uid: Any, user: User | None = None, **kwargs: Any) -> dict | None:
    """New accounts get the username ``github-<id>``: stable across login renames and
    never equal to a staff account's name."""
    if user is None:
        return {"username": f"github-{int(uid)}"}
    return None


def save_profile(
    user: User, response: dict[str, Any], details: dict[str, Any], **kwargs: Any
) -> None:
    """Keep the GitHub id, current login, avatar (and name/e-mail when shared)."""
    user_update_from_github(user=user, github_user=response)


def save_tokens(
    backend: Any, user: User, response: dict[str, Any], social: Any = None, **kwargs: Any
) -> None:
    """Store the user's tokens encrypted, and make sure social-auth's plain
    `extra_data` holds none of them."""
    github_token_store(user=user, client=backend.client, token_response=response)
    if social is not None:
        clean = {k: v for k, v in (social.extra_data or {}).items() if k not in SECRET_KEYS}
        clean["login"] = response.get("login", "")
        if clean != social.extra_data:
            social.extra_data = clean
            social.save(update_fields=["extra_data"])


def sync_memberships(user: User, **kwargs: Any) -> None:
    """Roles are synced on every sign-in. If GitHub fails here the sign-in still
    succeeds; the org list tries again and says so."""
    try:
        memberships_sync(user=user)
    except errors.GitHubError as error:
        log.warning("membership sync after sign-in of user %s failed: %r", user.pk, error)
    except GitHubAuthorizationLost:
        log.warning("membership sync after sign-in of user %s: token refused", user.pk)
