"""Roles from GitHub: each user's memberships (`GET /user/memberships/orgs`), their
billing access probed with the user's own token, and our App's installation discovered
for the orgs whose billing they may see."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.installations.services import installation_discover
from accounts.models import Membership, Organization, User
from accounts.organizations import organization_upsert
from accounts.tokens import GitHubAuthorizationLost, with_user_token
from billingdash import github
from billingdash.github import errors

log = logging.getLogger(__name__)


# GitHub's membership roles → ours ("admin" is an organization owner).
ROLES = {
    "admin": Membership.Role.OWNER,
    "billing_manager": Membership.Role.BILLING_MANAGER,
    "member": Membership.Role.MEMBER,
}


BILLING_ROLES = (Membership.Role.OWNER, Membership.Role.BILLING_MANAGER)


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
            installation_discover(organization=membership.organization)
    return kept
