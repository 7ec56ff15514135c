"""Reads about imported reports: which source a month's totals come from, the org's
imports (or a workspace's), and `reports_source_of` (the ladder's, re-exported here).

Which source per month: **the API when it delivered the month** (a succeeded
collection of it), else the imported reports. The API's answer is refreshed every hour
and again after the month ends (GitHub's late adjustments), a report is a snapshot of
the day it was downloaded; where both exist they agree to the cent on the dimensions
both have (tests/imports), so the API wins and the report adds what only it has (users,
workflows) for that month's breakdowns."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.db.models import Exists, Q, QuerySet, Sum

from accounts.models import Organization, User
from usage import periods
from usage.collection.ingest import month_bounds
from usage.collection.sources import reports_source_of
from usage.models import CollectionRun, ReportImport, ReportItem

__all__ = [
    "detailed_months",
    "imports_visible",
    "month_source",
    "month_sources",
    "reports_source_of",
]


def _api_delivered(organization: Organization, period: date) -> bool:
    return CollectionRun.objects.filter(
        organization=organization,
        period=period.replace(day=1),
        state=CollectionRun.State.SUCCEEDED,
    ).exists()


def _report_rows(organization: Organization, first: date, end: date) -> QuerySet:
    return ReportItem.objects.filter(
        organization=organization, workspace__isnull=True, date__gte=first, date__lt=end
    )


def month_source(
    organization: Organization, period: date, *, report_rows: bool | None = None
) -> str | None:
    """``"api"``, ``"reports"`` or None (no data) for the month of `period`.
    `report_rows`: the caller knows whether the org has report rows in that month."""
    if _api_delivered(organization, period):
        return "api"
    if report_rows is None:
        report_rows = _report_rows(organization, *month_bounds(period)).exists()
    return "reports" if report_rows else None


def _months_with(
    organization: Organization, months: list[date], rows: Callable[[date, date], QuerySet]
) -> set[date]:
    """The months of `months` for which ``rows(first day, first day of the next)`` has a
    row: in one query, an EXISTS per month (each on the (organization, date) index)
    rather than a query per month of the range (37 for three years)."""
    if not months:
        return set()
    flags = (
        Organization.objects.filter(pk=organization.pk)
        .annotate(**{f"m{i}": Exists(rows(*month_bounds(m))) for i, m in enumerate(months)})
        .values(*(f"m{i}" for i in range(len(months))))
        .first()
    ) or {}
    return {m for i, m in enumerate(months) if flags.get(f"m{i}")}


def month_sources(organization: Organization, first: date, last: date) -> dict[date, str]:
    """`month_source` of each month from `first`'s to `last`'s that has data, by month:
    two queries whatever the span."""
    months = periods.months_between(first, last)
    api = set(
        CollectionRun.objects.filter(
            organization=organization, period__in=months, state=CollectionRun.State.SUCCEEDED
        ).values_list("period", flat=True)
    )
    others = [m for m in months if m not in api]
    reports = _months_with(organization, others, lambda s, e: _report_rows(organization, s, e))
    return {m: "api" if m in api else "reports" for m in months if m in api or m in reports}


def detailed_months(organization: Organization, first: date, last: date) -> set[str]:
    """Months ("2026-11") between `first` and `last` with rows of a detailed report in
    the org's data (one query)."""

    def detailed(start: date, end: date) -> QuerySet:
        rows = _report_rows(organization, max(start, first), end)
        return rows.filter(report_import__kind="detailed")

    months = _months_with(organization, periods.months_between(first, last), detailed)
    return {f"{m:%Y-%m}" for m in months}


def imports_visible(organization: Organization, user: User, *, verified: bool):
    """The imports `user` may see: the org's verified ones (when the user's role is
    verified) and their own workspace's, newest first."""
    own = Q(workspace=user)
    query = (Q(workspace__isnull=True) | own) if verified else own
    return (
        ReportImport.objects.filter(query, organization=organization)
        .select_related("uploaded_by")
        .order_by("-created_at", "-pk")
    )


def import_summary(report_import: ReportImport, top: int = 10) -> dict[str, Any] | None:
    """What an import's rows still in place say: net total, top users and workflows
    (the workspace's view for its uploader, and every import's result page)."""
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
