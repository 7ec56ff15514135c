"""The source ladder: every way billingdash may read an organization's billing, best first.

1. ``app``: the App's installation token (an active installation with Administration
   read);
2. ``user_token``: an owner's own sign-in token (owners only, never billing managers or
   members; GitHub accepts an owner's GitHub App user token where the App is installed,
   and refuses classic OAuth tokens on the usage report);
3. ``owner_token``: a personal access token an owner added for this org
   (`accounts.models.OrgAccessToken`, validated when added);
4. ``reports``: GitHub's usage reports uploaded by an owner or billing manager
   (`reports_source_of`: the newest verified import of the org's own data).

The collection (`usage.collection.ladder`) tries the rungs in order for each month.
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

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.models import (
    GitHubToken,
    Installation,
    Membership,
    OrgAccessToken,
    Organization,
    User,
)
from accounts.org_tokens import org_token_refused, org_token_used
from accounts.tokens import GitHubAuthorizationLost, user_github_token
from billingdash import github
from billingdash.logging import redact
from usage import periods
from usage.collection.refusals import Refusal, usage_not_available
from usage.collection.selectors import installation_for_collection, newest_per_org
from usage.models import OrgCollectionState, ReportImport

APP, USER_TOKEN, OWNER_TOKEN, REPORTS = "app", "user_token", "owner_token", "reports"
SOURCES = (APP, USER_TOKEN, OWNER_TOKEN, REPORTS)
# At most this many owners' sign-ins are tried per month collected.
MAX_OWNER_SIGNINS = 3
# A token GitHub refused (401/403) is not asked again for this long (the other months of
# a backfill, the next hourly run), unless it was renewed meanwhile.
REFUSED_RETRY_AFTER = timedelta(minutes=50)


def reports_source_of(organization: Organization) -> dict[str, Any] | None:
    """Rung 4: ``{"uploaded_by": "Bill", "last_on": datetime}`` when the org's own data
    has imported usage reports (verified uploads, not a workspace's), else None."""
    return reports_sources_of(organization_ids=[organization.pk]).get(organization.pk)


def reports_sources_of(*, organization_ids: Collection[int]) -> dict[int, dict[str, Any]]:
    """`reports_source_of` of each org that has imported usage reports, by org pk, in
    one query."""
    imports = ReportImport.objects.filter(
        verified=True,
        workspace__isnull=True,
        status__in=(ReportImport.Status.DONE, ReportImport.Status.PARTIAL),
    ).select_related("uploaded_by")
    newest = newest_per_org(imports, organization_ids, "-finished_at", "-pk")
    return {
        pk: {"uploaded_by": person(last.uploaded_by), "last_on": last.finished_at}
        for pk, last in newest.items()
    }


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


# --- what GitHub answered, and what would unlock the next source -------------------------


def token_refusal(org: Organization, rung: Rung, period: date, error: github.GitHubError):
    """A user or owner-added token's refusal: 401/403 are the token's (try the next
    source); 400/404 mean the usage report is not available to the org (stop), except a
    404 for an org whose report GitHub served before (the token's user cannot see it)."""
    if isinstance(error, github.Gone):
        return Refusal(str(error), stop=False)
    if isinstance(error, github.BadRequest) and period < periods.previous_month():
        return Refusal(f"GitHub refused this month: {error}", stop=False)
    enhanced = org.billing_platform == Organization.BillingPlatform.ENHANCED
    if isinstance(error, github.NotFound) and enhanced:
        # GitHub served this org's report before: the token's user cannot see the org
        # (no longer an owner, or gone), which is the token's refusal, not the org's.
        return Refusal(
            f"GitHub answered 404 to {rung.detail.removeprefix('from ')}: {error.message}",
            token_refused=True,
        )
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
    if source == APP and settings.GITHUB_SIGNIN_CLIENT != "app":
        # People sign in with the classic OAuth App, whose tokens GitHub refuses here.
        return unlock_words(organization, USER_TOKEN)
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


def _parse_at(entry: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(entry.get("at")))
    except ValueError:
        return None


def prior_refusals(organization: Organization) -> list[dict[str, Any]]:
    row = OrgCollectionState.objects.filter(organization=organization).first()
    return list(row.source_refusals or []) if row is not None else []


def recently_refused(rung: Rung, prior: list[dict[str, Any]]) -> dict[str, Any] | None:
    """GitHub's refusal of this very token within `REFUSED_RETRY_AFTER`, if any: the
    rung is not asked again for every month of a backfill (one refusal is enough). A new
    token (a fresh sign-in, a token added again, the installation changed) is asked."""
    now = timezone.now()
    entry = next(
        (
            e
            for e in prior
            if e.get("source") == rung.source
            and e.get("who", "") == rung.who
            and e.get("status") in (401, 403, 404)
        ),
        None,
    )
    at = _parse_at(entry) if entry else None
    if entry is None or at is None or now - at > REFUSED_RETRY_AFTER:
        return None
    if rung.org_token is not None:
        refused_at = rung.org_token.refused_at
        return entry if refused_at is not None and refused_at <= at + timedelta(seconds=1) else None
    if rung.user is not None:
        renewed = (
            GitHubToken.objects.filter(user=rung.user, updated_at__gt=at).exists()
            or not GitHubToken.objects.filter(user=rung.user).exists()
        )
        return None if renewed else entry
    if rung.installation is not None:
        changed = Installation.objects.filter(pk=rung.installation.pk, updated_at__gt=at)
        return None if changed.exists() else entry
    return None


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
