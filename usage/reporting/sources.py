"""Reads for the pages about the source ladder (`usage.collection.sources`): every
rung's state for an org, what GitHub answered each, and the next step in plain words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accounts.models import Installation, OrgAccessToken, Organization
from accounts.org_tokens import expiry_warning
from usage.collection.selectors import installation_for_collection
from usage.collection.sources import (
    APP,
    OWNER_TOKEN,
    REPORTS,
    SOURCES,
    USER_TOKEN,
    owners_signed_in,
    person,
    reports_source_of,
    reports_words,
    unlock_words,
)
from usage.models import OrgCollectionState


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
