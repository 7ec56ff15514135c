"""The states an organization can be in (`OrgState`), the groups the pages treat alike
(`BLOCKED`, `STOPPED`) and each state's badge; `status.org_status` decides which
applies and says it in words."""

from __future__ import annotations

from enum import StrEnum


class OrgState(StrEnum):
    NOT_INSTALLED = "not_installed"
    UNINSTALLED = "uninstalled"
    SUSPENDED = "suspended"
    PERMISSIONS_MISSING = "permissions_missing"
    NEEDS_ATTENTION = "needs_attention"
    PAUSED = "paused"
    NOT_ENHANCED = "not_enhanced"
    GITHUB_FAILING = "github_failing"
    COLLECTING_BACKFILL = "collecting_backfill"
    REFRESHING = "refreshing"
    GAVE_UP = "gave_up"
    NO_DATA_YET = "no_data_yet"
    NO_USAGE = "no_usage"
    FROM_REPORTS = "from_reports"
    UP_TO_DATE = "up_to_date"


FROM_INSTALLATION = {
    "not_installed": OrgState.NOT_INSTALLED,
    "uninstalled": OrgState.UNINSTALLED,
    "suspended": OrgState.SUSPENDED,
    "missing_permission": OrgState.PERMISSIONS_MISSING,
    "needs_attention": OrgState.NEEDS_ATTENTION,
}
# The App can no longer read these orgs: their figures are old and stay out of the
# overview's totals (an org the App was never on keeps whatever another source gives).
BLOCKED = frozenset(FROM_INSTALLATION.values()) - {OrgState.NOT_INSTALLED}
# Nothing flows and a person must act (on GitHub or at billingdash's staff).
STOPPED = BLOCKED | {OrgState.NOT_INSTALLED, OrgState.PAUSED, OrgState.NOT_ENHANCED}

BADGES: dict[OrgState, tuple[str, str]] = {
    OrgState.NOT_INSTALLED: ("App not installed", "warn"),
    OrgState.UNINSTALLED: ("App uninstalled", "bad"),
    OrgState.SUSPENDED: ("App suspended", "bad"),
    OrgState.PERMISSIONS_MISSING: ("Permission missing", "bad"),
    OrgState.NEEDS_ATTENTION: ("App needs attention", "bad"),
    OrgState.PAUSED: ("Collection paused", "warn"),
    OrgState.NOT_ENHANCED: ("Not on enhanced billing", "bad"),
    OrgState.GITHUB_FAILING: ("GitHub not answering", "warn"),
    OrgState.COLLECTING_BACKFILL: ("Collecting", ""),
    OrgState.REFRESHING: ("Refreshing", ""),
    OrgState.GAVE_UP: ("Last collection failed", "bad"),
    OrgState.NO_DATA_YET: ("Not collected yet", ""),
    OrgState.NO_USAGE: ("No usage yet", "ok"),
    OrgState.FROM_REPORTS: ("From uploaded reports", "ok"),
    OrgState.UP_TO_DATE: ("Up to date", "ok"),
}
