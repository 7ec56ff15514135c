"""Tokens an owner adds for one organization (`OrgAccessToken`, the source ladder's third
rung): validated with GitHub at once, encrypted at rest, never shown again, revocable,
audited.

Validation (`org_token_add`), before anything is stored:

1. the token looks like a personal access token (classic ``ghp_`` or fine-grained
   ``github_pat_``);
2. ``GET /user`` names its user (and, in GitHub's
   ``github-authentication-token-expiration`` header, its expiry);
3. that user is an **owner** of the org: asked with the token itself
   (``GET /user/memberships/orgs/{org}``: classic tokens), else with the App's
   installation token (``GET /orgs/{org}/memberships/{user}``: fine-grained tokens may
   not call it), else from the role GitHub gave billingdash when that user signed in;
4. the usage report answers to it (a cheap probe of today's report).

Any refusal raises `OrgTokenRejected` with GitHub's own answer. No token is ever logged,
put in an exception or an audit event: only its last four characters.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from django.db import transaction
from django.utils import timezone

from accounts.audit import audit_log
from accounts.models import Installation, Membership, OrgAccessToken, Organization, User
from billingdash import github
from billingdash.github.http import parse_json

log = logging.getLogger(__name__)

PREFIXES = {"ghp_": OrgAccessToken.Kind.CLASSIC, "github_pat_": OrgAccessToken.Kind.FINE_GRAINED}
EXPIRY_HEADER = "github-authentication-token-expiration"
# Owners are warned this long before an owner-added token expires.
EXPIRY_WARNING = timedelta(days=7)
MAX_TOKEN_LENGTH = 255


class OrgTokenRejected(Exception):
    """The token cannot read this org's billing: `reason` says why, in GitHub's words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _Identity:
    github_id: int
    login: str
    expires_at: datetime | None


def parse_expiration(value: str | None) -> datetime | None:
    """GitHub's ``2026-12-31 23:59:59 UTC`` (also seen with a numeric offset)."""
    if not value:
        return None
    text = value.strip()
    for fmt in ("%Y-%m-%d %H:%M:%S %Z", "%Y-%m-%d %H:%M:%S %z"):
        try:
            when = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    return None


def _kind(token: str) -> str:
    for prefix, kind in PREFIXES.items():
        if token.startswith(prefix):
            return kind
    raise OrgTokenRejected(
        "This is not a personal access token: paste a fine-grained token (github_pat_…) "
        "with the organization permission Administration (read) on this organization, or a "
        "classic token (ghp_…) with the admin:org scope."
    )


def _github_says(error: github.GitHubError) -> str:
    return f"GitHub answered {error.status}: {error.message}" if error.status else str(error)


def _identity(token: str) -> _Identity:
    try:
        response = github.request("GET", "/user", token=token)
        user = parse_json(response)
    except github.Unauthorized as error:
        raise OrgTokenRejected(
            f"GitHub does not accept this token ({_github_says(error)}): it may be mistyped, "
            "expired or revoked."
        ) from None
    except (github.RateLimited, github.ServerError, github.NetworkError):
        raise
    except github.GitHubError as error:
        raise OrgTokenRejected(
            f"GitHub refused GET /user with this token: {_github_says(error)}"
        ) from None
    if not isinstance(user, dict) or "id" not in user:
        raise OrgTokenRejected("GitHub's answer to GET /user names no user.")
    return _Identity(
        github_id=int(user["id"]),
        login=str(user.get("login") or "")[:39],
        expires_at=parse_expiration(response.headers.get(EXPIRY_HEADER)),
    )


def _role_with(token: str, organization: Organization, login: str) -> str | None:
    try:
        return str(github.get_user_org_membership(token, organization.login).get("role"))
    except github.NotFound:
        return "none"
    except (github.Forbidden, github.Unauthorized):
        pass  # fine-grained tokens may not ask: try the App's view
    installation = (
        Installation.objects.filter(organization=organization, state=Installation.State.ACTIVE)
        .order_by("-updated_at")
        .first()
    )
    if installation is not None:
        try:
            app_token = github.installation_token(installation.installation_id)
            return str(github.get_org_membership(app_token, organization.login, login).get("role"))
        except github.NotFound:
            return "none"
        except (github.Forbidden, github.Unauthorized):
            pass
    return None


def _confirm_owner(token: str, organization: Organization, who: _Identity) -> None:
    role = _role_with(token, organization, who.login)
    if role is None:
        known = Membership.objects.filter(
            organization=organization, user__github_id=who.github_id, state="active"
        ).first()
        role = "admin" if known and known.role == Membership.Role.OWNER else None
        if known is not None and role is None:
            role = known.role
    if role == "admin":
        return
    if role is None:
        raise OrgTokenRejected(
            f"billingdash could not confirm that {who.login} is an owner of "
            f"{organization.login}: GitHub did not let this token read the membership, and "
            f"{who.login} has not signed in to billingdash. Use a classic token, or have "
            f"{who.login} sign in once."
        )
    what = {"none": "not a member", "member": "a member", "billing_manager": "a billing manager"}
    raise OrgTokenRejected(
        f"This token belongs to {who.login}, who is {what.get(role, role)} of "
        f"{organization.login}, not an owner: only an owner's token can read the usage report."
    )


def _probe_usage(token: str, organization: Organization) -> None:
    """A cheap probe of today's usage report (the body is not read), keeping GitHub's
    own message when it refuses."""
    today = datetime.now(UTC).date()
    path = f"/organizations/{quote(organization.login, safe='')}/settings/billing/usage"
    params = {"year": today.year, "month": today.month, "day": today.day}
    try:
        github.request("GET", path, token=token, params=params, stream=True).close()
    except (github.RateLimited, github.ServerError, github.NetworkError):
        raise
    except github.Forbidden as error:
        permission = error.accepted_permissions_header
        scopes = error.headers.get("x-accepted-oauth-scopes")
        raise OrgTokenRejected(
            f"GitHub refused the usage report of {organization.login} to this token "
            f"({_github_says(error)}"
            + (f"; it asks for {permission}" if permission else "")
            + (f"; it accepts the scope {scopes}" if scopes else "")
            + "). A fine-grained token needs the organization permission Administration "
            "(read) with this organization as its resource owner; a classic token needs "
            "the admin:org scope."
        ) from None
    except github.GitHubError as error:
        raise OrgTokenRejected(
            f"GitHub refused the usage report of {organization.login} to this token "
            f"({_github_says(error)})."
        ) from None


def org_token_add(
    *, organization: Organization, user: User, token: str, request=None
) -> OrgAccessToken:
    """Validate `token` with GitHub (see the module docstring) and store it for
    `organization`, replacing any earlier one. Raises `OrgTokenRejected` with GitHub's
    reason; rate limits and GitHub outages propagate as `github.GitHubError`."""
    token = (token or "").strip()
    if not token or len(token) > MAX_TOKEN_LENGTH or any(c.isspace() for c in token):
        raise OrgTokenRejected("Paste one personal access token (no spaces).")
    kind = _kind(token)
    who = _identity(token)
    _confirm_owner(token, organization, who)
    _probe_usage(token, organization)
    with transaction.atomic():
        row, replaced = OrgAccessToken.objects.update_or_create(
            organization=organization,
            defaults={
                "token": token,
                "last4": token[-4:],
                "kind": kind,
                "github_id": who.github_id,
                "github_login": who.login,
                "expires_at": who.expires_at,
                "added_by": user,
                "refused_at": None,
                "refused_reason": "",
            },
        )
        audit_log(
            actor=user,
            action="org_token_add",
            organization=organization,
            target=organization.login,
            request=request,
            details={
                "kind": kind,
                "last4": row.last4,
                "github_login": who.login,
                "expires_at": who.expires_at.isoformat() if who.expires_at else None,
                "replaced": not replaced,
            },
        )
    log.info("owner token …%s of %s added for %s", row.last4, who.login, organization)
    return row


def org_token_delete(*, organization: Organization, user: User, request=None) -> bool:
    """Forget the org's owner-added token (it is not revoked at GitHub: its owner does
    that in their settings). Returns False when there was none."""
    with transaction.atomic():
        row = OrgAccessToken.objects.select_for_update().filter(organization=organization).first()
        if row is None:
            return False
        details = {"last4": row.last4, "github_login": row.github_login}
        row.delete()
        audit_log(
            actor=user,
            action="org_token_delete",
            organization=organization,
            target=organization.login,
            request=request,
            details=details,
        )
    return True


def org_token_of(organization: Organization) -> OrgAccessToken | None:
    return OrgAccessToken.objects.filter(organization=organization).first()


def org_token_refused(*, token: OrgAccessToken, reason: str) -> None:
    OrgAccessToken.objects.filter(pk=token.pk).update(
        refused_at=timezone.now(), refused_reason=reason[:300]
    )


def org_token_used(*, token: OrgAccessToken) -> None:
    OrgAccessToken.objects.filter(pk=token.pk).update(
        last_used_at=timezone.now(), refused_at=None, refused_reason=""
    )


def expiry_warning(token: OrgAccessToken | None, *, now: datetime | None = None) -> str:
    """The warning shown from `EXPIRY_WARNING` before the token expires ("" before)."""
    if token is None or token.expires_at is None:
        return ""
    now = now or timezone.now()
    if token.expires_at <= now:
        return (
            f"The token …{token.last4} of {token.github_login} expired on "
            f"{token.expires_at:%-d %b %Y}: an owner adds a new one here."
        )
    if token.expires_at - now <= EXPIRY_WARNING:
        days = max(0, (token.expires_at - now).days)
        when = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
        return (
            f"The token …{token.last4} of {token.github_login} expires {when} "
            f"({token.expires_at:%-d %b %Y %H:%M} UTC): an owner creates a new one on GitHub "
            "and adds it here before then."
        )
    return ""
