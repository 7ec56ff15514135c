"""The Copilot AI-usage / premium-request report as a kind of the imports page
(`usage.imports.kinds`): registered by `CopilotConfig.ready`, so an upload on
`/orgs/<login>/imports/` whose header names a `model` lands in `copilot_report_import`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from copilot.collection.report_import import copilot_report_import
from copilot.collection.report_parser import ReportError
from usage import periods
from usage.imports.kinds import Outcome, ReportKind
from usage.imports.parse import ReportUnreadable


def _is_copilot(header: frozenset[str]) -> bool:
    return "model" in header


def _months(first: Any, last: Any) -> list[str]:
    if first is None or last is None:
        return []
    return [f"{month:%Y-%m}" for month in periods.months_between(first, last)]


def copilot_report_run(
    *, report_import: Any, path: str, progress: Callable[[int], None] | None = None
) -> Outcome:
    """Import the file for the org; an upload whose uploader's role is unverified (a
    workspace) changes nothing: per-user Copilot figures are shown to every owner."""
    if report_import.workspace_id is not None:
        return Outcome(
            message="Copilot usage reports are imported once GitHub confirms you are an "
            "owner or billing manager of the organization (install the App, or sign in "
            "with the OAuth client); nothing was changed."
        )
    try:
        result = copilot_report_import(
            organization=report_import.organization,
            path=path,
            uploaded_by=report_import.uploaded_by,
        )
    except ReportError as exc:
        raise ReportUnreadable(str(exc)) from exc
    outcome = Outcome(
        rows=result.rows,
        rows_read=result.rows + result.skipped_other_org,
        months=_months(result.start, result.end),
        first_day=result.start,
        last_day=result.end,
    )
    if result.skipped_other_org:
        outcome.message = (
            f"{result.skipped_other_org} rows of other organizations were left out "
            f"(the file is an enterprise's); only {report_import.organization.login}'s "
            "rows were imported."
        )
    return outcome


COPILOT_KIND = ReportKind(
    "copilot", "Copilot AI usage report", _is_copilot, copilot_report_run, priority=5
)
