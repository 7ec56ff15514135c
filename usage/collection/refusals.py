"""What GitHub's refusal of the usage report means, and what is recorded about it.

The usage report (and the installation token that reads it) can be refused for reasons
that call for very different answers, and the status code alone does not tell them apart:

- **400 or 404 on the billing endpoint: not available to this organization** (not on
  the enhanced billing platform, or the endpoint is not available to it). GitHub's REST
  description documents 400; the real API answers 404. The org is marked
  ``billing_platform=unavailable``, GitHub's answer recorded (`EndpointAvailability`,
  endpoint ``usage``), and it is asked again after
  ``COLLECTION_UNAVAILABLE_RECHECK_SECONDS`` (a day): never hourly, never a retry storm.
- **404 of the org itself**: renamed (the installation, read with the App JWT, names
  its new login: the org follows it and the month is collected again at once) or
  deleted (the installation is gone and ``GET /orgs/{login}`` answers 404: marked so).
- **404 of the installation**: the App was uninstalled (marked deleted; the
  ``installation.deleted`` webhook says the same).
- **403**: the installation is suspended, or lacks a permission. GitHub names the one
  it wants in ``x-accepted-github-permissions``; it is recorded, and the installation
  takes the state GitHub's own installation object implies.
- **401** after one fresh token: the installation needs attention.
- **410 Gone**: a retired endpoint (`github.Gone` says which replaced it); nothing to
  record about the org.

Telling a 404 or 403 apart costs one App call (``GET /app/installations/{id}``) and,
only when the installation is gone, one unauthenticated ``GET /orgs/{login}``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from accounts.installations.services import installation_mark_deleted, installation_upsert
from accounts.models import Installation, Organization
from billingdash import github
from billingdash.logging import redact
from usage import periods
from usage.collection.availability import availability_forget, availability_record
from usage.models import EndpointAvailability, OrgCollectionState

log = logging.getLogger(__name__)

USAGE = EndpointAvailability.Endpoint.USAGE
Reason = EndpointAvailability.Reason


@dataclass(frozen=True)
class Refusal:
    """The decision: `reason` goes on the run; `retry_now` (the org was renamed: collect
    the month again under its new login) or `stop` (skip the org's queued runs)."""

    reason: str
    stop: bool = True
    retry_now: bool = False
    # The App's token was refused (401, 403, uninstalled, suspended, a permission
    # missing), not the org's billing: the source ladder tries the next source.
    token_refused: bool = False
    # Marking the installation "needs attention" was left to the caller (`attention=False`).
    attention: str = ""
    # Nothing failed: the run is skipped (every token refused, uploaded reports stand in).
    skip: bool = False


class Refused(Exception):
    """Raised by the collection with the decision already recorded (`error`: GitHub's
    answer that led to it, when there was one)."""

    def __init__(self, refusal: Refusal, error: BaseException | None = None) -> None:
        super().__init__(refusal.reason)
        self.refusal = refusal
        self.error = error


def installation_needs_attention(*, installation: Installation, reason: str) -> None:
    """GitHub refused the installation for a reason its installation object does not
    show: the schedule leaves it alone until a webhook or the reconciliation revives it."""
    # Only an active installation: a webhook may already know better (deleted...).
    Installation.objects.filter(pk=installation.pk, state=Installation.State.ACTIVE).update(
        state=Installation.State.NEEDS_ATTENTION, state_reason=redact(reason)[:300]
    )


def usage_not_available(*, organization: Organization, error: github.GitHubError) -> Refusal:
    """GitHub answered 400/404 to the usage report: the org cannot use it (recorded)."""
    return _not_available(organization, error)


def _not_available(organization: Organization, error: github.GitHubError) -> Refusal:
    Organization.objects.filter(pk=organization.pk).update(
        billing_platform=Organization.BillingPlatform.UNAVAILABLE
    )
    row = availability_record(
        organization=organization, endpoint=USAGE, error=error, reason=Reason.NOT_AVAILABLE
    )
    log.info("%s: usage report not available (%s)", organization, error)
    return Refusal(
        f"GitHub answered {error.status} to the usage report of {organization.login}: the "
        "organization is not on GitHub's enhanced billing platform, or the endpoint is not "
        f"available to it ({error.message}). Asked again after "
        f"{row.next_check_at:%Y-%m-%d %H:%M} UTC."
    )


def _installation_gone(organization: Organization, installation: Installation) -> Refusal:
    """GitHub does not know the installation any more: uninstalled, or the org deleted."""
    installation_mark_deleted(installation_id=installation.installation_id)
    try:
        github.get_org(None, organization.login)
    except github.NotFound as error:
        reason = (
            f"GitHub has no organization {organization.login} any more: it was deleted (or "
            "renamed after the App was removed), and the App's installation is gone with it."
        )
        Installation.objects.filter(pk=installation.pk).update(state_reason=redact(reason)[:300])
        availability_record(
            organization=organization,
            endpoint=USAGE,
            error=error,
            reason=Reason.ORG_DELETED,
            detail=reason,
        )
        return Refusal(reason)
    reason = f"The billingdash App was uninstalled from {organization.login} on GitHub."
    Installation.objects.filter(pk=installation.pk).update(state_reason=reason)
    return Refusal(reason, token_refused=True)


def _granted(wanted: list[dict[str, str]], granted: dict[str, Any]) -> bool:
    """Does `granted` (an installation's permissions) satisfy one of GitHub's
    alternatives? ``write`` covers ``read``."""
    order = {"read": 1, "write": 2, "admin": 3}
    return any(
        all(order.get(str(granted.get(k)), 0) >= order.get(v, 1) for k, v in alternative.items())
        for alternative in wanted
    )


def usage_refusal(
    *,
    organization: Organization,
    installation: Installation,
    period: date,
    error: github.GitHubError,
    attention: bool = True,
) -> Refusal:
    """Decide what `error` (from the usage report or the installation token) means,
    record it, and say what the run and the org's queue do next. GitHub errors of the
    App calls made to find out (rate limits, 5xx) propagate to the caller. With
    ``attention=False`` (another source will be tried) the installation is not marked
    "needs attention": the refusal's `attention` holds the reason to mark it with."""
    if isinstance(error, github.Gone):
        return Refusal(str(error), stop=False)
    if isinstance(error, github.BadRequest):
        if period < periods.previous_month():
            return Refusal(f"GitHub refused this month: {error}", stop=False)
        return _not_available(organization, error)
    login_before = organization.login
    try:
        current = github.get_app_installation(installation.installation_id)
    except github.NotFound:
        return _installation_gone(organization, installation)
    # GitHub's own installation object decides suspension, permissions and the login.
    upsert = installation_upsert(data=current, ready_reason="collection")
    inst = upsert.installation
    org = inst.organization or organization
    org.refresh_from_db(fields=["login"])
    if org.login.lower() != login_before.lower():
        # What the old login got (404s of the summary, the budgets) says nothing: forget.
        availability_forget(organization=org)
        OrgCollectionState.objects.filter(organization=org).update(extras_collected_at=None)
        log.info("%s was renamed to %s on GitHub; collecting again", login_before, org.login)
        return Refusal(
            f"{login_before} was renamed to {org.login} on GitHub; collected again under its "
            "new name.",
            stop=False,
            retry_now=True,
        )
    if inst.state in (Installation.State.SUSPENDED, Installation.State.MISSING_PERMISSION):
        if isinstance(error, github.Forbidden):
            availability_record(organization=organization, endpoint=USAGE, error=error)
        return Refusal(
            f"{inst.state_reason} (GitHub answered {error.status}: {error.message})",
            token_refused=True,
        )
    if isinstance(error, github.NotFound):
        return _not_available(organization, error)
    if isinstance(error, github.Forbidden):
        wanted = error.accepted_permissions
        missing = bool(wanted) and not _granted(wanted, current.get("permissions") or {})
        header = error.accepted_permissions_header
        reason = (
            f"GitHub refused the usage report (403: {error.message})"
            + (f"; it asks for the permission {header}" if header else "")
            + (
                ", which the installation does not have."
                if missing
                else ". The App may lack the Administration permission or be blocked by a "
                "policy of the organization."
            )
        )
        availability_record(organization=organization, endpoint=USAGE, error=error)
        return _needs_attention(installation, reason, attention)
    reason = (
        f"GitHub refused the installation token ({error.status}) even after a fresh one: "
        f"{error.message}"
    )
    return _needs_attention(installation, reason, attention)


def _needs_attention(installation: Installation, reason: str, mark: bool) -> Refusal:
    if mark:
        installation_needs_attention(installation=installation, reason=reason)
        return Refusal(reason, token_refused=True)
    return Refusal(reason, token_refused=True, attention=reason)
