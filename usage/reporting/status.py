"""Freshness and health of an organization's data, for the dashboard's header and its
empty and partial states: when it was last collected, whether a backfill runs, and why
data cannot flow (App uninstalled, suspended, missing permission, not on the enhanced
billing platform, paused)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.installations.install_status import InstallationStatus, installation_status
from accounts.models import OrgAccessToken, Organization
from usage.collection.selectors import collection_progress_of
from usage.collection.sources import OWNER_TOKEN, USER_TOKEN
from usage.models import CollectionRun, DailyUsage, OrgCollectionState


@dataclass
class OrgStatus:
    installation: InstallationStatus
    billing_unavailable: bool
    paused: bool
    has_data: bool
    last_collected_at: datetime | None
    progress: dict[str, Any] = field(default_factory=dict)
    last_error: str = ""
    refresh_wait_seconds: int = 0
    # A token source (an owner's sign-in that worked, a token an owner added) reads the
    # billing even without a readable installation (`usage.collection.sources`).
    token_source: bool = False

    @property
    def collectable(self) -> bool:
        readable = self.installation.readable or self.token_source
        return readable and not self.billing_unavailable and not self.paused

    @property
    def running(self) -> bool:
        return bool(self.progress.get("running"))

    @property
    def backfilling(self) -> bool:
        total = self.progress.get("months_total") or 0
        return self.running and total > 0 and self.progress.get("months_done", 0) < total

    @property
    def problems(self) -> list[str]:
        """Why data cannot flow, most important first."""
        out = []
        if not self.installation.readable and not self.token_source:
            out.append(self.installation.words)
        if self.billing_unavailable:
            out.append(
                "GitHub says this organization is not on the enhanced billing platform, "
                "which its billing usage API requires."
            )
        if self.paused:
            out.append("Collection of this organization is paused by the site's staff.")
        return out

    @property
    def empty_state(self) -> tuple[str, str]:
        """(kind, message) when the organization has no usage at all."""
        if self.backfilling or self.running:
            done, total = self.progress.get("months_done", 0), self.progress.get("months_total")
            months = f"{done} of {total} months so far" if total else "starting"
            return (
                "backfill",
                f"Collecting this organization's usage from GitHub ({months}). "
                "The dashboard fills in as the months arrive, newest first.",
            )
        if self.problems:
            return "blocked", self.problems[0]
        if self.last_collected_at:
            return (
                "no_usage",
                "No usage yet: GitHub reported no billable usage for this organization in "
                "the months collected so far.",
            )
        return "never", "Nothing has been collected for this organization yet."


def _last_error(organization: Organization) -> str:
    """The error of the newest run, if it failed after the last success."""
    last = (
        CollectionRun.objects.filter(organization=organization, finished_at__isnull=False)
        .exclude(state=CollectionRun.State.SKIPPED)
        .order_by("-finished_at", "-pk")
        .first()
    )
    if last is not None and last.state == CollectionRun.State.FAILED:
        return last.error
    return ""


def refresh_wait_seconds(state: OrgCollectionState | None) -> int:
    """Seconds until "refresh now" may be used again (0: now), from the org's state."""
    if state is None or state.refresh_requested_at is None:
        return 0
    ready = state.refresh_requested_at + timedelta(seconds=settings.REFRESH_COOLDOWN_SECONDS)
    return max(0, int((ready - timezone.now()).total_seconds() + 0.999))


def org_status(organization: Organization) -> OrgStatus:
    state = OrgCollectionState.objects.filter(organization=organization).first()
    progress = collection_progress_of(organization=organization, state=state)
    return OrgStatus(
        installation=installation_status(organization=organization),
        billing_unavailable=(
            organization.billing_platform == Organization.BillingPlatform.UNAVAILABLE
        ),
        paused=organization.collection_paused,
        has_data=DailyUsage.objects.filter(organization=organization).exists(),
        last_collected_at=progress.get("last_collected_at") or organization.last_collected_at,
        progress=progress,
        last_error=_last_error(organization),
        refresh_wait_seconds=refresh_wait_seconds(state),
        token_source=OrgAccessToken.objects.filter(organization=organization).exists()
        or organization.collection_source in (USER_TOKEN, OWNER_TOKEN),
    )
