"""Reads about imported reports: which source a month's totals come from, the org's
imports (or a workspace's), and `reports_source_of` (the ladder's, re-exported here).

Which source per month: **the API when it delivered the month** (a succeeded
collection of it), else the imported reports. The API's answer is refreshed every hour
and again after the month ends (GitHub's late adjustments), a report is a snapshot of
the day it was downloaded; where both exist they agree to the cent on the dimensions
both have (tests/imports), so the API wins and the report adds what only it has (users,
workflows) for that month's breakdowns."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Max

from accounts.models import Organization, User
from usage.collection.ingest import month_bounds
from usage.collection.sources import reports_source_of
from usage.models import CollectionRun, ReportImport, ReportItem

__all__ = [
    "detailed_months",
    "imports_visible",
    "month_source",
    "reports_source_of",
]


def _api_delivered(organization: Organization, period: date) -> bool:
    return CollectionRun.objects.filter(
        organization=organization,
        period=period.replace(day=1),
        state=CollectionRun.State.SUCCEEDED,
    ).exists()


def month_source(
    organization: Organization, period: date, *, report_rows: bool | None = None
) -> str | None:
    """``"api"``, ``"reports"`` or None (no data) for the month of `period`.
    `report_rows`: the caller knows whether the org has report rows in that month."""
    if _api_delivered(organization, period):
        return "api"
    if report_rows is None:
        start, end = month_bounds(period)
        report_rows = ReportItem.objects.filter(
            organization=organization, workspace__isnull=True, date__gte=start, date__lt=end
        ).exists()
    return "reports" if report_rows else None


def detailed_months(organization: Organization, first: date, last: date) -> set[str]:
    """Months ("2026-11") between `first` and `last` with rows of a detailed report in
    the org's data."""
    months: set[str] = set()
    day = first.replace(day=1)
    while day <= last:
        start, end = month_bounds(day)
        if ReportItem.objects.filter(
            organization=organization,
            workspace__isnull=True,
            date__gte=max(start, first),
            date__lt=end,
            report_import__kind="detailed",
        ).exists():
            months.add(f"{day:%Y-%m}")
        day = end
    return months


def imports_visible(organization: Organization, user: User, *, verified: bool):
    """The imports `user` may see: the org's verified ones (when the user's role is
    verified) and their own workspace's, newest first."""
    from django.db.models import Q

    own = Q(workspace=user)
    query = (Q(workspace__isnull=True) | own) if verified else own
    return (
        ReportImport.objects.filter(query, organization=organization)
        .select_related("uploaded_by")
        .order_by("-created_at", "-pk")
    )


def last_import_at(organization: Organization):
    return ReportImport.objects.filter(organization=organization, verified=True).aggregate(
        at=Max("finished_at")
    )["at"]


def import_summary(report_import: ReportImport, top: int = 10) -> dict[str, Any] | None:
    """What an import's rows still in place say: net total, top users and workflows
    (the workspace's view for its uploader, and every import's result page)."""
    from django.db.models import Sum

    if report_import.first_day is None or not report_import.rows:
        return None
    rows = ReportItem.objects.filter(
        organization_id=report_import.organization_id,
        date__gte=report_import.first_day,
        date__lte=report_import.last_day,
        report_import=report_import,
    ).order_by()
    net = Sum("net_amount")
    total = rows.aggregate(net=net)["net"]
    if total is None:
        return None  # replaced since by a later import
    users = rows.values("user_login").annotate(net=net).order_by("-net", "user_login")[:top]
    workflows = (
        rows.exclude(workflow="")
        .values("repository", "workflow")
        .annotate(net=net)
        .order_by("-net", "repository", "workflow")[:top]
    )
    return {"net": total, "users": list(users), "workflows": list(workflows)}
