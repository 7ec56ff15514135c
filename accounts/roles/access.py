"""Reads of the accounts app, and the one place that decides who may see an
organization's billing: `get_org_for_billing`.

Every org-scoped view, API endpoint and export starts with it (or, for pages any member
may see, `get_org_for_member`). Anyone who may not see the organization gets a 404,
never a 403, so organization names do not leak.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone

from accounts.models import Installation, Membership, Organization, User
from accounts.roles.sync import BILLING_ROLES, memberships_sync
from billingdash.github import errors

__all__ = [
    "ACCESS_STATES",
    "OrgRow",
    "RoleCheckUnavailable",
    "get_org_for_billing",
    "get_org_for_member",
    "membership_is_fresh",
    "memberships_need_sync",
    "org_access",
    "user_org_rows",
]

# app: our App is installed with Administration read (data flows); token: only the
# user's own token can read billing; needs_install: owner or billing manager, nothing
# can read billing yet; no_access: a member (or no role at all).
ACCESS_STATES = ("app", "token", "needs_install", "no_access")


class RoleCheckUnavailable(Exception):
    """The membership is stale and GitHub could not confirm it now. We fail closed:
    `SignInErrorMiddleware` renders a "try again" page (503), never the billing."""


def _ttl() -> timedelta:
    return timedelta(seconds=settings.MEMBERSHIP_TTL_SECONDS)


def membership_is_fresh(membership: Membership, *, now: datetime | None = None) -> bool:
    """Verified with GitHub within ``MEMBERSHIP_TTL_SECONDS``."""
    return membership.verified_at > (now or timezone.now()) - _ttl()


def memberships_need_sync(user: User) -> bool:
    """The user's roles were last synced longer than the TTL ago (or never)."""
    synced = user.memberships_synced_at
    return synced is None or synced <= timezone.now() - _ttl()


def _resync(user: User) -> None:
    try:
        memberships_sync(user=user)
    except errors.GitHubError as error:
        raise RoleCheckUnavailable(str(error)) from error


def _membership(user: User, login: str) -> Membership | None:
    return (
        Membership.objects.select_related("organization")
        .filter(user=user, organization__login__iexact=login, state=Membership.State.ACTIVE)
        .first()
    )


def _get_org(*, user: User, login: str, roles: tuple[str, ...]) -> Organization:
    # A NUL in the URL (``%00``) names no organization, and PostgreSQL refuses NUL in any
    # text parameter (the lookup would raise DataError: a 500).
    if not user.is_authenticated or not user.pk or "\x00" in login:
        raise Http404("No such organization.")
    membership = _membership(user, login)
    stale = membership is None and memberships_need_sync(user)
    stale = stale or (membership is not None and not membership_is_fresh(membership))
    if stale and user.github_id is not None:
        # Raises GitHubAuthorizationLost when the token is gone (signed out everywhere).
        _resync(user)
        membership = _membership(user, login)
    if membership is None or membership.role not in roles or not membership_is_fresh(membership):
        raise Http404("No such organization.")
    organization = membership.organization
    organization.membership = membership  # the caller's role, for templates
    return organization


def get_org_for_billing(*, user: User, login: str) -> Organization:
    """The organization `login` (case-insensitive) if `user` may see its billing: an
    owner or billing manager with an active membership verified within the TTL. A stale
    membership is re-synced from GitHub first. Raises `Http404` for everyone else,
    `RoleCheckUnavailable` when GitHub cannot confirm a stale role now, and
    `GitHubAuthorizationLost` when the user's GitHub token is gone."""
    return _get_org(user=user, login=login, roles=BILLING_ROLES)


def get_org_for_member(*, user: User, login: str) -> Organization:
    """Like `get_org_for_billing`, but any member of the organization passes (for pages
    that show no billing, such as the install step that tells a member there is
    nothing for them to install)."""
    return _get_org(user=user, login=login, roles=tuple(Membership.Role.values))


def _billing_installation(organization: Organization) -> Installation | None:
    installations = getattr(organization, "active_installations", None)
    if installations is None:
        installations = list(organization.installations.filter(state=Installation.State.ACTIVE))
    return next((i for i in installations if i.can_read_billing), None)


def org_access(*, user: User, organization: Organization) -> str:
    """The user's access state for the organization: ``app``, ``token``,
    ``needs_install`` or ``no_access`` (see `ACCESS_STATES`)."""
    membership = getattr(organization, "membership", None)
    if membership is None or membership.user_id != user.pk:
        membership = Membership.objects.filter(user=user, organization=organization).first()
    return _access(membership, organization)


def _access(membership: Membership | None, organization: Organization) -> str:
    if membership is None or membership.role not in BILLING_ROLES:
        return "no_access"
    if _billing_installation(organization) is not None:
        return "app"
    if membership.token_access == Membership.TokenAccess.ALLOWED:
        return "token"
    return "needs_install"


@dataclass(frozen=True)
class OrgRow:
    """One line of the user's organization list."""

    organization: Organization
    membership: Membership
    access: str
    installed: bool

    @property
    def login(self) -> str:
        return self.organization.login

    @property
    def can_see_billing(self) -> bool:
        return self.access != "no_access"

    @property
    def billing_verified(self) -> bool:
        """An owner or billing manager whose role GitHub confirmed within the TTL: the
        test `get_org_for_billing` makes, so lists show billing exactly where it opens."""
        return self.membership.role in BILLING_ROLES and membership_is_fresh(self.membership)

    def as_json(self) -> dict:
        collected = self.organization.last_collected_at if self.can_see_billing else None
        return {
            "login": self.organization.login,
            "name": self.organization.name,
            "role": self.membership.role,
            "access": self.access,
            "installed": self.installed,
            "last_collected_at": collected.isoformat() if collected else None,
            # The source ladder's rung in use (usage.collection.sources), and in words.
            "source": (self.organization.collection_source or None)
            if self.can_see_billing
            else None,
            "source_detail": self.organization.collection_source_detail
            if self.can_see_billing
            else "",
        }


def user_org_rows(*, user: User) -> list[OrgRow]:
    """The user's organizations (as last synced), with role and access state, sorted
    by login."""
    memberships = (
        Membership.objects.filter(user=user, state=Membership.State.ACTIVE)
        .select_related("organization")
        .prefetch_related(
            Prefetch(
                "organization__installations",
                queryset=Installation.objects.exclude(state=Installation.State.DELETED),
                to_attr="live_installations",
            )
        )
        .order_by("organization__login")
    )
    rows = []
    for membership in memberships:
        org = membership.organization
        org.active_installations = [
            i for i in org.live_installations if i.state == Installation.State.ACTIVE
        ]
        rows.append(
            OrgRow(
                organization=org,
                membership=membership,
                access=_access(membership, org),
                installed=bool(org.live_installations),
            )
        )
    return rows


def memberships_refresh_if_stale(*, user: User) -> str:
    """Re-sync roles from GitHub when the last sync is older than the TTL. Returns a
    warning to show when GitHub could not be asked (the list is then as last synced)."""
    if user.github_id is None or not memberships_need_sync(user):
        return ""
    try:
        memberships_sync(user=user)  # GitHubAuthorizationLost → signed out
    except errors.GitHubError:
        return (
            "GitHub could not be reached to refresh your roles, so this list is as GitHub "
            "last reported it."
        )
    return ""
