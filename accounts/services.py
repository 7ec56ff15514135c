"""Writes of the accounts app: user tokens (encrypted, refreshed single-flight), role
sync from GitHub, signing out everywhere, and the audit log.

Everything that talks to GitHub goes through `billingdash.github`. No token is ever
logged: log the user's pk and the error's repr (errors never hold a token).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import AuditEvent, GitHubToken, Installation, Membership, Organization, User
from billingdash import github
from billingdash.github import errors

log = logging.getLogger(__name__)
T = TypeVar("T")

# Refresh a user token this long before GitHub's expiry, so a call never races it.
REFRESH_MARGIN = timedelta(minutes=5)
# GitHub's membership roles → ours ("admin" is an organization owner).
ROLES = {
    "admin": Membership.Role.OWNER,
    "billing_manager": Membership.Role.BILLING_MANAGER,
    "member": Membership.Role.MEMBER,
}
BILLING_ROLES = (Membership.Role.OWNER, Membership.Role.BILLING_MANAGER)

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


# --- audit log ------------------------------------------------------------------------


def audit_log(
    *,
    actor: User | None,
    action: str,
    organization: Organization | None = None,
    target: str = "",
    request: HttpRequest | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one `AuditEvent` (``signin``, ``signout``, ``signout_everywhere``...)."""
    real_actor = actor if actor is not None and actor.pk else None
    return AuditEvent.objects.create(
        actor=real_actor,
        actor_label=str(actor) if real_actor else "system",
        action=action,
        organization=organization,
        target=target[:300],
        ip_address=(request.META.get("REMOTE_ADDR") or None) if request else None,
        details=dict(details or {}),
    )


# --- users and tokens -----------------------------------------------------------------


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


# --- signing out ----------------------------------------------------------------------


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


# --- organizations and roles ----------------------------------------------------------


def organization_upsert(*, github_org: Mapping[str, Any]) -> Organization:
    """Create or update an organization by GitHub id, keeping its login current. A row
    that still holds the login (renamed away, or a deleted org's login reused) is moved
    aside to ``~<github id>`` (no GitHub login has a ``~``)."""
    github_id, login = int(github_org["id"]), str(github_org["login"])
    values = {"login": login}
    if github_org.get("avatar_url"):
        values["avatar_url"] = str(github_org["avatar_url"])[:500]
    if github_org.get("name"):
        values["name"] = str(github_org["name"])[:200]
    with transaction.atomic():
        Organization.objects.filter(login__iexact=login).exclude(github_id=github_id).update(
            login=Concat(Value("~"), Cast("github_id", CharField()))
        )
        org, created = Organization.objects.get_or_create(github_id=github_id, defaults=values)
        changed = [k for k, v in values.items() if getattr(org, k) != v]
        if not created and changed:
            for key in changed:
                setattr(org, key, values[key])
            org.save(update_fields=[*changed, "updated_at"])
    return org


def _probe_billing(user: User, login: str) -> tuple[str, str, str] | None:
    """(token_access, missing permission, billing platform or "") for the user's own
    token; None when GitHub could not say."""
    platform = Organization.BillingPlatform
    try:
        allowed, missing = with_user_token(
            user=user, call=lambda token: github.check_billing_access(token, login)
        )
    except errors.BadRequest:
        # GitHub answers 400 for an org without the enhanced billing platform.
        return Membership.TokenAccess.DENIED, "", platform.UNAVAILABLE
    except errors.NotFound:
        return Membership.TokenAccess.DENIED, "", ""  # hidden from this token
    except (errors.RateLimited, errors.ServerError, errors.NetworkError):
        return None
    if allowed:
        return Membership.TokenAccess.ALLOWED, "", platform.ENHANCED
    return Membership.TokenAccess.DENIED, (missing or "")[:200], ""


def _discover_installation(organization: Organization) -> None:
    """Ask GitHub (as the App) whether our App is installed on `organization`, when we
    know of no live installation there yet (webhooks keep known ones current)."""
    if not (settings.GITHUB_APP_ID and settings.GITHUB_APP_PRIVATE_KEY):
        return
    live = organization.installations.exclude(state=Installation.State.DELETED)
    if live.exists():
        return
    try:
        found = github.get_org_installation(organization.login)
    except errors.NotFound:
        return
    except (errors.GitHubError, ImproperlyConfigured) as error:
        log.warning("installation lookup for org %s failed: %r", organization.pk, error)
        return
    from accounts.installations import installation_upsert  # imports this module

    installation_upsert(data=found, ready_reason="discovered at sign-in")


def _org_name(user: User, login: str) -> str:
    try:
        org = with_user_token(user=user, call=lambda token: github.get_org(token, login))
    except (errors.GitHubError, GitHubAuthorizationLost):
        return ""
    return str(org.get("name") or "")


def memberships_sync(*, user: User) -> list[Membership]:
    """Replace the user's roles with GitHub's (``GET /user/memberships/orgs``, every
    page, active memberships), probe billing access for owners and billing managers,
    and drop the memberships of organizations the user left.

    GitHub calls happen before the (short) transaction that writes the result. Raises
    `GitHubError` when GitHub fails, `GitHubAuthorizationLost` when the token is gone.
    """
    listed = with_user_token(
        user=user, call=lambda token: github.list_user_org_memberships(token, state="active")
    )
    checked_at = timezone.now()
    seen: list[tuple[dict, str, tuple[str, str, str] | None]] = []
    for item in listed:
        org = item.get("organization") or {}
        role = ROLES.get(str(item.get("role")))
        if role is None or not org.get("id") or not org.get("login"):
            continue
        access = _probe_billing(user, org["login"]) if role in BILLING_ROLES else None
        seen.append((dict(org), role, access))
    known_names = dict(
        Organization.objects.filter(github_id__in=[o["id"] for o, _, _ in seen]).values_list(
            "github_id", "name"
        )
    )
    for org, _, _ in seen:
        if not known_names.get(org["id"]) and not org.get("name"):
            org["name"] = _org_name(user, org["login"])

    now = timezone.now()
    kept: list[Membership] = []
    with transaction.atomic():
        for org_data, role, access in seen:
            org = organization_upsert(github_org=org_data)
            defaults: dict[str, Any] = {
                "role": role,
                "state": Membership.State.ACTIVE,
                "verified_at": now,
            }
            if role not in BILLING_ROLES:
                defaults.update(token_access=Membership.TokenAccess.UNKNOWN, token_checked_at=None)
                defaults["token_missing_permission"] = ""
            elif access is not None:
                defaults.update(token_access=access[0], token_missing_permission=access[1])
                defaults["token_checked_at"] = checked_at
                if access[2] and org.billing_platform != access[2]:
                    org.billing_platform = access[2]
                    org.save(update_fields=["billing_platform", "updated_at"])
            membership, _ = Membership.objects.update_or_create(
                user=user, organization=org, defaults=defaults
            )
            kept.append(membership)
        Membership.objects.filter(user=user).exclude(pk__in=[m.pk for m in kept]).delete()
        User.objects.filter(pk=user.pk).update(memberships_synced_at=now)
    user.memberships_synced_at = now
    for membership in kept:
        if membership.role in BILLING_ROLES:
            _discover_installation(membership.organization)
    return kept
