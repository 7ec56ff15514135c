"""The one source of truth for an org's state: what the dashboard's header, banner and
empty states, the wizard's progress step (``progress.json``), the ``/orgs/`` badge and
next step (and ``/api/orgs/``) say about it.

`org_status` returns an `OrgStatus` whose `state` is one of `OrgState` (the first that
applies, in this order: the App cannot read the org, collection paused, not on the
enhanced billing platform, GitHub failing and retrying, a backfill pending, a refresh
pending, the last collection failed, no data, up to date), with one plain sentence, the
next step (words and a link), and the technical detail (GitHub's status and request id)
that pages show only behind a "details" disclosure and staff pages show as is.
`org_statuses` says it of many orgs at once (the lists), from reads whose number does not
grow with the number of orgs (`usage.reporting.status_reads`); `org_status` is its list
of one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timesince import timesince

from accounts.installations.install_status import InstallationStatus
from accounts.models import OrgAccessToken, Organization
from usage.collection.sources import reports_words
from usage.models import CollectionRun, EndpointAvailability, OrgCollectionState
from usage.reporting.states import BADGES, BLOCKED, FROM_INSTALLATION, STOPPED, OrgState
from usage.reporting.status_reads import StatusFacts, status_facts


@dataclass
class OrgStatus:
    """`state` and its words: `sentence` (what is so), `next_step` (what to do, or what
    billingdash does next), `next_url`/`next_label` (a link for it, or ""), `detail`
    (technical: GitHub's status and request id; "" when none)."""

    installation: InstallationStatus
    state: OrgState
    sentence: str
    has_data: bool
    last_collected_at: datetime | None
    next_step: str = ""
    next_url: str = ""
    next_label: str = ""
    detail: str = ""
    retry_at: datetime | None = None
    attempt: int = 0
    progress: dict[str, Any] = field(default_factory=dict)
    refresh_wait_seconds: int = 0
    last_error: str = ""  # the newest finished run's error, if it failed (staff, alerts)
    # A token source (an owner's sign-in that worked, a token an owner added) reads the
    # billing even without a readable installation (`usage.collection.sources`).
    token_source: bool = False
    org_token: OrgAccessToken | None = None  # an owner's token: the page warns of its expiry

    @property
    def badge(self) -> str:
        return BADGES[self.state][0]

    @property
    def tone(self) -> str:
        return BADGES[self.state][1]

    @property
    def blocked(self) -> bool:
        """The App cannot read the org: its figures are old (not in overview totals)."""
        return self.state in BLOCKED

    @property
    def stopped(self) -> bool:
        return self.state in STOPPED

    @property
    def collectable(self) -> bool:
        return self.state not in STOPPED

    @property
    def refresh_offered(self) -> bool:
        """The dashboard offers "Refresh now": the org is collected, and GitHub is not
        being retried already (a refresh would only wait for the same retry)."""
        return self.collectable and self.state != OrgState.GITHUB_FAILING

    @property
    def running(self) -> bool:
        return bool(self.progress.get("running"))

    @property
    def backfilling(self) -> bool:
        return self.state == OrgState.COLLECTING_BACKFILL

    @property
    def pending(self) -> bool:
        return self.state in (OrgState.COLLECTING_BACKFILL, OrgState.REFRESHING)

    @property
    def problems(self) -> list[str]:
        """Why data cannot flow (one sentence at most)."""
        return [self.sentence] if self.stopped else []

    @property
    def empty_state(self) -> str:
        """The kind of the dashboard's card when the org has no usage at all."""
        if self.pending:
            return "backfill"
        if self.stopped:
            return "blocked"
        if self.state in (OrgState.GITHUB_FAILING, OrgState.GAVE_UP):
            return "failing"
        if self.state == OrgState.NO_USAGE:
            return "no_usage"
        return "never"

    def as_json(self) -> dict[str, Any]:
        return {
            "state": str(self.state),
            "badge": self.badge,
            "tone": self.tone,
            "sentence": self.sentence,
            "next_step": self.next_step,
            "next_url": self.next_url,
            "next_label": self.next_label,
            "detail": self.detail,
            "retry_at": self.retry_at.isoformat() if self.retry_at else None,
            "attempt": self.attempt,
        }


def at(moment: datetime) -> str:
    """ "14:05 UTC" today, "5 Dec 14:05 UTC" another day (the site's time zone)."""
    local = timezone.localtime(moment)
    now = timezone.localtime()
    text = date_format(local, "H:i" if local.date() == now.date() else "j M H:i")
    return f"{text} {local.tzname()}"


def _figures_from(status_at: datetime | None) -> str:
    return f" The figures below are from {at(status_at)}." if status_at else ""


def refresh_wait_seconds(state: OrgCollectionState | None) -> int:
    """Seconds until "refresh now" may be used again (0: now), from the org's state."""
    if state is None or state.refresh_requested_at is None:
        return 0
    ready = state.refresh_requested_at + timedelta(seconds=settings.REFRESH_COOLDOWN_SECONDS)
    return max(0, int((ready - timezone.now()).total_seconds() + 0.999))


def _blocked(status: OrgStatus, org: Organization, owner: bool) -> None:
    inst = status.installation
    status.sentence = inst.words
    install = reverse("org_install", args=[org.login])
    if status.state in (OrgState.NOT_INSTALLED, OrgState.UNINSTALLED):
        verb = "Install the App again" if status.state == OrgState.UNINSTALLED else "Install"
        if owner:
            status.next_url, status.next_label = install, f"{verb} on {org.login}"
        else:
            status.next_url, status.next_label = install, "Ask an owner to install it"
    else:
        fix = {
            OrgState.SUSPENDED: "Unsuspend the App",
            OrgState.PERMISSIONS_MISSING: "Accept the App's permissions",
            OrgState.NEEDS_ATTENTION: "Review the App's installation",
        }[status.state]
        if owner and inst.settings_url:
            status.next_url, status.next_label = inst.settings_url, f"{fix} on GitHub"
        else:
            status.next_url = install
            status.next_label = f"Ask an owner to {fix[0].lower()}{fix[1:]}"
    if status.has_data:
        status.next_step = (
            "The figures below are as last collected"
            + (f" ({at(status.last_collected_at)})" if status.last_collected_at else "")
            + (
                " and are left out of the totals on your organizations page."
                if status.blocked
                else "."
            )
        )


def _not_enhanced(
    status: OrgStatus, org: Organization, refusal: EndpointAvailability | None
) -> None:
    status.sentence = (
        f"GitHub says {org.login} is not on the enhanced billing platform, so GitHub offers "
        "no usage report that billingdash could read."
    )
    when = ""
    if refusal is not None and refusal.next_check_at:
        local = timezone.localtime(refusal.next_check_at)
        day, hour = date_format(local, "j M"), date_format(local, "H:i")
        when = f" (next on {day} at {hour} {local.tzname()})"
    status.next_step = (
        "An owner can see the organization's billing platform in its billing settings on "
        "GitHub. billingdash asks GitHub again every day" + when + " and collects the usage "
        "on its own once GitHub offers it."
    )
    status.next_url = f"{settings.GITHUB_WEB_URL}/organizations/{org.login}/settings/billing"
    status.next_label = "Billing settings on GitHub"
    if refusal is not None:
        status.detail = f"GitHub {refusal.status or ''} {refusal.detail}".strip()


def org_statuses(
    organizations_with_roles: Iterable[tuple[Organization, str | None]],
    *,
    has_data: Mapping[int, bool] | None = None,
) -> dict[int, OrgStatus]:
    """`org_status` of each org, with its reader's role, by pk, in a number of queries
    that does not grow with the number of orgs; `has_data` by pk, where known."""
    pairs = list(organizations_with_roles)
    facts = status_facts(organizations=[org for org, _ in pairs], has_data=has_data)
    return {org.pk: _status_of(facts[org.pk], role) for org, role in pairs}


def org_status(
    organization: Organization, *, role: str | None = None, has_data: bool | None = None
) -> OrgStatus:
    """The org's state in words. `role` ("owner", "billing_manager"...) of the reader
    picks the next step's link (an owner fixes on GitHub, others ask one); `has_data`:
    `org_has_data` when the caller knows it (cached by data version)."""
    known = None if has_data is None else {organization.pk: has_data}
    return org_statuses([(organization, role)], has_data=known)[organization.pk]


def _status_of(facts: StatusFacts, role: str | None) -> OrgStatus:
    org, active, newest = facts.organization, facts.active, facts.newest
    progress, installation = facts.progress, facts.installation
    last = progress.get("last_collected_at") or org.last_collected_at
    status = OrgStatus(
        installation=installation,
        state=OrgState.UP_TO_DATE,
        sentence="",
        has_data=facts.has_data,
        last_collected_at=last,
        progress=progress,
        refresh_wait_seconds=refresh_wait_seconds(facts.collection),
    )
    owner = role in (None, "owner")
    # The newest finished run, if it failed (after the last success).
    failure = newest if newest is not None and newest.state == CollectionRun.State.FAILED else None
    if failure is not None:
        status.detail = status.last_error = failure.error
    status.org_token, status.token_source = facts.org_token, facts.token_source
    if facts.unreadable:
        reports = facts.reports
        if reports is not None and status.has_data:
            # Uploaded usage reports stand in for the App (issue 15's ladder, rung 4).
            status.state = OrgState.FROM_REPORTS
            status.sentence = f"The figures below are {reports_words(reports)}."
            status.next_step = (
                "Upload a newer report to bring them up to date; with the App installed "
                "(or a token an owner adds) billingdash collects them every hour."
            )
            status.next_url = reverse("org_imports", args=[org.login])
            status.next_label = "Upload a usage report"
            return status
        status.state = FROM_INSTALLATION.get(installation.state, OrgState.NEEDS_ATTENTION)
        _blocked(status, org, owner)
        return status
    if org.collection_paused:
        status.state = OrgState.PAUSED
        status.sentence = f"Collection of {org.login} is paused by billingdash's staff."
        status.next_step = "Ask the site's staff to resume it." + _figures_from(
            last if status.has_data else None
        )
        return status
    if org.billing_platform == Organization.BillingPlatform.UNAVAILABLE:
        status.state = OrgState.NOT_ENHANCED
        _not_enhanced(status, org, facts.refusal)
        return status
    figures = _figures_from(last if status.has_data else None)
    failing = [r for r in active if r.error_kind == CollectionRun.ErrorKind.GITHUB_UNAVAILABLE]
    if failing:
        run = failing[0]
        status.state = OrgState.GITHUB_FAILING
        status.attempt = run.attempts
        status.detail = run.error
        waiting = [r.not_before for r in failing if r.not_before and r.state == "queued"]
        if waiting:
            status.retry_at = min(waiting)
            status.sentence = f"GitHub is not answering; we will retry at {at(status.retry_at)}."
        else:
            status.sentence = "GitHub is not answering; we are trying again now."
        status.next_step = (
            f"Attempt {run.attempts} of {settings.COLLECTION_MAX_ATTEMPTS} failed; "
            "nothing to do on your side." + figures
        )
        return status
    if any(r.trigger == CollectionRun.Trigger.BACKFILL for r in active):
        status.state = OrgState.COLLECTING_BACKFILL
        done, total = progress.get("months_done", 0), progress.get("months_total", 0)
        if status.has_data:
            status.sentence = (
                f"Older months are still being collected ({done} of {total} done): ranges "
                "that reach further back may be incomplete for a few minutes."
            )
        else:
            months = f"{done} of {total} months so far" if total else "starting"
            status.sentence = (
                f"Collecting this organization's usage from GitHub ({months}). "
                "The dashboard fills in as the months arrive, newest first."
            )
        return status
    if active:
        run = active[0]
        status.state = OrgState.REFRESHING
        what = "Refreshing" if run.trigger == CollectionRun.Trigger.MANUAL else "Collecting"
        status.sentence = (
            f"{what} {date_format(run.period, 'F Y')} from GitHub (asked at {at(run.queued_at)})."
        )
        if run.error_kind == CollectionRun.ErrorKind.RATE_LIMITED and run.not_before:
            status.sentence = (
                f"GitHub's rate limit was reached; the refresh of "
                f"{date_format(run.period, 'F Y')} continues at {at(run.not_before)}."
            )
        status.next_step = figures.strip() or "The dashboard fills in when it is done."
        return status
    if failure is not None:
        status.state = OrgState.GAVE_UP
        month = date_format(failure.period, "F Y")
        if failure.error_kind == CollectionRun.ErrorKind.GITHUB_UNAVAILABLE:
            status.sentence = (
                f"GitHub did not answer after {failure.attempts} attempts, so {month} "
                "could not be collected."
            )
        else:
            status.sentence = f"The last collection of {month} failed."
        status.next_step = (
            "billingdash tries again at its next scheduled collection; “Refresh now” "
            "tries at once." + figures
        )
        return status
    if not status.has_data:
        if last:
            status.state = OrgState.NO_USAGE
            status.sentence = (
                "No usage yet: GitHub reported no billable usage for this organization in "
                "the months collected so far."
            )
        else:
            status.state = OrgState.NO_DATA_YET
            status.sentence = "Nothing has been collected for this organization yet."
            status.next_step = "Use “Refresh now” to collect this month."
        return status
    status.sentence = f"Up to date: collected {timesince(last)} ago." if last else "Up to date."
    return status
