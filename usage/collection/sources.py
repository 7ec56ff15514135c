"""The source ladder: every way billingdash may read an organization's billing, best first.

1. ``app``: the App's installation token (an active installation with Administration
   read);
2. ``user_token``: an owner's own sign-in token (owners only, never billing managers or
   members; GitHub accepts an owner's GitHub App user token where the App is installed,
   and refuses classic OAuth tokens on the usage report);
3. ``owner_token``: a personal access token an owner added for this org
   (`accounts.models.OrgAccessToken`, validated when added);
4. ``reports``: GitHub's usage reports uploaded by an owner or billing manager
   (`reports_source_of`, wired to the imports at merge).

The collection (`usage.collection.collect`) tries the rungs in order for each month.
When GitHub refuses a rung's token (401, 403 with the permission it wanted, the App
uninstalled or suspended) the answer is recorded exactly (`OrgCollectionState.
source_refusals`) with the step that would unlock the next source, and the next rung is
tried. "Not available to this organization" (400, or 404 while the App's installation
exists) is about the org, not the token: no other token is tried then. The source used
is written on the org (`Organization.collection_source`, `collection_source_detail`), in
words for the pages: "from the App", "from Olivia's sign-in", "from a token an owner
added", "from usage reports uploaded by Bill, last on 3 Dec".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from accounts.models import (
    GitHubToken,
    Installation,
    Membership,
    OrgAccessToken,
    Organization,
    User,
)
from accounts.org_tokens import expiry_warning, org_token_refused, org_token_used
from accounts.tokens import GitHubAuthorizationLost, user_github_token
from billingdash import github
from billingdash.logging import redact
from usage import periods
from usage.collection.refusals import Refusal, usage_not_available
from usage.collection.selectors import installation_for_collection
from usage.models import OrgCollectionState

APP, USER_TOKEN, OWNER_TOKEN, REPORTS = "app", "user_token", "owner_token", "reports"
SOURCES = (APP, USER_TOKEN, OWNER_TOKEN, REPORTS)
# At most this many owners' sign-ins are tried per month collected.
MAX_OWNER_SIGNINS = 3


def reports_source_of(organization: Organization) -> dict[str, Any] | None:
    """The imports' selector (rung 4): ``{"uploaded_by": "Bill", "last_on": date}`` (or
    ``{"detail": "..."}``) when the org has verified imported usage reports, else None.
    Returns None until the imports are wired in at merge."""
    return None


def person(user: User | None) -> str:
    if user is None:
        return "someone"
    return user.get_full_name() or user.first_name or user.github_login or user.username


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def reports_words(reports: dict[str, Any]) -> str:
    if reports.get("detail"):
        return str(reports["detail"])
    words = f"from usage reports uploaded by {reports.get('uploaded_by') or 'someone'}"
    last = reports.get("last_on")
    if isinstance(last, datetime | date):
        words += f", last on {last:%-d %b}"
    return words


@dataclass
class Rung:
    """One source to try: `token()` gives its token (may raise `RungUnusable`), `renew`
    a fresh one after a 401 ("": ask `token()` again; None: a 401 is final)."""

    source: str
    detail: str
    who: str = ""
    installation: Installation | None = None
    user: User | None = None
    org_token: OrgAccessToken | None = None
    token: Callable[[], str] = field(default=lambda: "")
    renew: Callable[[str], str] | None = None


class RungUnusable(Exception):
    """A token rung cannot even produce a token (a sign-in GitHub withdrew)."""


def _user_rung(user: User) -> Rung:
    name = person(user)

    def token() -> str:
        try:
            return user_github_token(user=user)
        except GitHubAuthorizationLost as exc:
            raise RungUnusable(exc.reason) from None

    def renew(rejected: str) -> str:
        try:
            return user_github_token(user=user, rejected=rejected)
        except GitHubAuthorizationLost as exc:
            raise RungUnusable(exc.reason) from None

    return Rung(
        USER_TOKEN,
        f"from {_possessive(name)} sign-in",
        who=name,
        user=user,
        token=token,
        renew=renew,
    )


def owners_signed_in(organization: Organization) -> list[User]:
    """Owners of the org (active, as GitHub last said) with a stored sign-in token, those
    whose token GitHub let read billing first."""
    with_tokens = GitHubToken.objects.values("user_id")
    memberships = (
        Membership.objects.filter(
            organization=organization,
            role=Membership.Role.OWNER,
            state=Membership.State.ACTIVE,
            user_id__in=with_tokens,
        )
        .select_related("user")
        .order_by("-verified_at", "pk")
    )
    ranked = sorted(
        memberships, key=lambda m: m.token_access != Membership.TokenAccess.ALLOWED
    )  # stable: newest verified first within each group
    return [m.user for m in ranked[:MAX_OWNER_SIGNINS]]


def org_rungs(organization: Organization) -> list[Rung]:
    """The org's usable API sources, best first (the reports rung is not a token)."""
    rungs: list[Rung] = []
    installation = installation_for_collection(organization)
    if installation is not None:
        inst_id = installation.installation_id

        def app_token() -> str:
            return github.installation_token(inst_id)

        def app_renew(_: str) -> str:
            # The cached token may have been revoked: forget it; the next try gets anew.
            github.forget_installation_token(inst_id)
            return ""

        rungs.append(
            Rung(APP, "from the App", installation=installation, token=app_token, renew=app_renew)
        )
    rungs.extend(_user_rung(user) for user in owners_signed_in(organization))
    org_token = OrgAccessToken.objects.filter(organization=organization).first()
    if org_token is not None:
        value = str(org_token.token)
        rungs.append(
            Rung(
                OWNER_TOKEN,
                "from a token an owner added",
                who=org_token.github_login,
                org_token=org_token,
                token=lambda: value,
            )
        )
    return rungs


def org_has_source(organization: Organization) -> bool:
    return bool(org_rungs(organization)) or reports_source_of(organization) is not None


# --- what GitHub answered, and what would unlock the next source -------------------------


def token_refusal(org: Organization, rung: Rung, period: date, error: github.GitHubError):
    """A user or owner-added token's refusal: 401/403 are the token's (try the next
    source); 400/404 mean the usage report is not available to the org (stop)."""
    if isinstance(error, github.Gone):
        return Refusal(str(error), stop=False)
    if isinstance(error, github.BadRequest) and period < periods.previous_month():
        return Refusal(f"GitHub refused this month: {error}", stop=False)
    if isinstance(error, github.BadRequest | github.NotFound):
        return usage_not_available(organization=org, error=error)
    name = rung.detail.removeprefix("from ")
    permission = error.accepted_permissions_header if isinstance(error, github.Forbidden) else ""
    return Refusal(
        f"GitHub refused {name} ({error.status}: {error.message})"
        + (f"; it asks for {permission}" if permission else ""),
        token_refused=True,
    )


def unlock_words(organization: Organization, source: str) -> str:
    """The step that would unlock the source after `source` (plain words)."""
    login = organization.login
    if source == APP:
        return (
            f"Next: an owner of {login} signs in to billingdash with GitHub (GitHub accepts "
            "an owner's own sign-in where the App is installed), or adds a personal access "
            f"token for {login} on its sources page."
        )
    if source == USER_TOKEN:
        return (
            f"Next: an owner adds a personal access token for {login} on its sources page "
            f"(fine-grained, with Administration read on {login}; or classic, with admin:org)."
        )
    return (
        f"Next: an owner adds a new token, or an owner or billing manager uploads GitHub's "
        f"usage reports for {login}."
    )


def refusal_entry(
    organization: Organization, rung: Rung, *, error: BaseException | None, reason: str = ""
) -> dict[str, Any]:
    """One refused rung, as recorded and shown: GitHub's exact answer."""
    entry: dict[str, Any] = {
        "source": rung.source,
        "who": rung.who,
        "at": timezone.now().isoformat(),
        "status": None,
        "message": "",
        "permission": "",
        "unlock": unlock_words(organization, rung.source),
    }
    if isinstance(error, github.GitHubError):
        entry["status"] = error.status
        entry["message"] = redact(error.message)[:300]
        if isinstance(error, github.Forbidden):
            entry["permission"] = error.accepted_permissions_header or ""
    if reason:
        entry["reason"] = redact(reason)[:400]
    elif error is not None and not entry["message"]:
        entry["message"] = redact(str(error))[:300]
    if rung.org_token is not None:
        org_token_refused(token=rung.org_token, reason=entry.get("reason") or entry["message"])
    return entry


def sources_record(
    *,
    organization: Organization,
    source: str,
    detail: str,
    refused: list[dict[str, Any]],
    rung: Rung | None = None,
) -> None:
    """Write the source used ("" when none) and the refusals of the rungs before it."""
    Organization.objects.filter(pk=organization.pk).update(
        collection_source=source, collection_source_detail=detail[:200]
    )
    OrgCollectionState.objects.update_or_create(
        organization=organization,
        defaults={"source_refusals": refused, "source_checked_at": timezone.now()},
    )
    if rung is not None and rung.org_token is not None:
        org_token_used(token=rung.org_token)


# --- reads for the pages ------------------------------------------------------------------


@dataclass
class RungState:
    source: str
    title: str
    state: str  # used | refused | ready | missing
    words: str
    refusals: list[dict[str, Any]]


def _refusals_of(organization: Organization) -> tuple[list[dict[str, Any]], datetime | None]:
    row = OrgCollectionState.objects.filter(organization=organization).first()
    if row is None:
        return [], None
    return list(row.source_refusals or []), row.source_checked_at


def org_sources(organization: Organization) -> dict[str, Any]:
    """Every rung's state for the sources page and the JSON API."""
    refusals, checked_at = _refusals_of(organization)
    used = organization.collection_source
    login = organization.login
    by_source: dict[str, list[dict[str, Any]]] = {s: [] for s in SOURCES}
    for entry in refusals:
        by_source.setdefault(entry.get("source", ""), []).append(entry)
    installation = installation_for_collection(organization)
    other = (
        Installation.objects.filter(organization=organization)
        .exclude(state=Installation.State.DELETED)
        .order_by("-updated_at")
        .first()
    )
    owners = owners_signed_in(organization)
    org_token = OrgAccessToken.objects.filter(organization=organization).first()
    reports = reports_source_of(organization)

    def state(source: str, available: bool) -> str:
        if used == source:
            return "used"
        if by_source.get(source):
            return "refused"
        return "ready" if available else "missing"

    rungs = [
        RungState(
            APP,
            "1. The App's installation",
            "refused"
            if installation is None and other is not None and used != APP
            else state(APP, installation is not None),
            _app_words(organization, installation, other),
            by_source[APP],
        ),
        RungState(
            USER_TOKEN,
            "2. An owner's own sign-in",
            state(USER_TOKEN, bool(owners)),
            "Owners signed in: " + ", ".join(person(u) for u in owners) + "."
            if owners
            else f"No owner of {login} has signed in to billingdash yet.",
            by_source[USER_TOKEN],
        ),
        RungState(
            OWNER_TOKEN,
            "3. A token an owner added",
            state(OWNER_TOKEN, org_token is not None),
            (
                f"Token …{org_token.last4} of {org_token.github_login}, added "
                f"{org_token.created_at:%-d %b %Y}"
                + (
                    f", expires {org_token.expires_at:%-d %b %Y}."
                    if org_token.expires_at
                    else ", no expiry."
                )
            )
            if org_token is not None
            else "No token added: an owner can add one below.",
            by_source[OWNER_TOKEN],
        ),
        RungState(
            REPORTS,
            "4. Usage reports uploaded",
            state(REPORTS, reports is not None),
            reports_words(reports).capitalize() + "."
            if reports
            else "No verified usage reports uploaded: an owner or billing manager can "
            "upload the reports they download from GitHub's billing pages.",
            [],
        ),
    ]
    return {
        "source": used or None,
        "source_detail": organization.collection_source_detail or "",
        "checked_at": checked_at,
        "rungs": rungs,
        "token": org_token,
        "expiry_warning": expiry_warning(org_token),
        "next_step": next_step(organization, rungs),
    }


def _app_words(
    organization: Organization, readable: Installation | None, other: Installation | None
) -> str:
    if readable is not None:
        return "The App is installed with Administration (read)."
    if other is not None:
        state = {
            Installation.State.NEEDS_ATTENTION: "needs attention",
            Installation.State.SUSPENDED: "is suspended",
            Installation.State.MISSING_PERMISSION: "lacks Administration (read)",
        }.get(other.state, "cannot read billing")
        why = f": {other.state_reason.rstrip('.')}" if other.state_reason else ""
        return (
            f"The App's installation on {organization.login} {state}{why}. It is tried "
            "again once GitHub says it changed (a webhook, or the daily reconciliation)."
        )
    return (
        f"The App is not installed on {organization.login}: an owner installs it, with "
        "Administration (read), on GitHub."
    )


def next_step(organization: Organization, rungs: list[RungState]) -> str:
    """What would unlock data when no source works (or the next source after the one
    used), in plain words."""
    refused = [r for r in rungs if r.state == "refused"]
    if any(r.state == "used" for r in rungs) or not refused:
        if not any(r.state in ("used", "ready") for r in rungs):
            return unlock_words(organization, APP)
        return ""
    last = refused[-1].refusals[-1] if refused[-1].refusals else {}
    return str(last.get("unlock") or unlock_words(organization, refused[-1].source))
