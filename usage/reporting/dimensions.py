"""The dimensions only GitHub's detailed usage reports have: the **user** and the Actions
**workflow** (``owner/repo`` + ``.github/workflows/x.yml``) behind the spend.

They are read from the org's imported report rows (`ReportItem`, never a workspace's),
under the dashboard's filters (dates, product, SKU, repository) plus ``user`` and
``workflow``. A workflow is named by its key ``owner/repo/.github/workflows/x.yml`` (the
repository, then the path; a repository has exactly one slash). Months in the range
without a detailed report are listed, so the page can say so and how to get one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum

from accounts.models import Organization
from usage import periods
from usage.imports.selectors import detailed_months, month_sources
from usage.models import DailyUsage, ReportItem
from usage.reporting.chart_base import Chart, as_float, figure
from usage.reporting.filters import FilterError, Filters, text_param
from usage.reporting.formatting import money

TOP = 10
TABLE_ROWS = 25
NO_USER = "(no user)"
SUMS = {
    "quantity": Sum("quantity"),
    "gross_amount": Sum("gross_amount"),
    "discount_amount": Sum("discount_amount"),
    "net_amount": Sum("net_amount"),
    "items": Count("id"),
}


@dataclass(frozen=True)
class Dimensions:
    user: str | None = None  # "" : usage without a user
    workflow: str | None = None  # key: owner/repo/path

    @property
    def active(self) -> bool:
        return self.user is not None or self.workflow is not None

    def params(self) -> dict[str, str]:
        out = {}
        if self.user is not None:
            out["user"] = self.user or NO_USER
        if self.workflow is not None:
            out["workflow"] = self.workflow
        return out


def parse_dimensions(query: Mapping[str, str], errors: list[str] | None = None) -> Dimensions:
    """``user`` and ``workflow`` from the query. A value that cannot be a name raises
    `FilterError` (the API and the CSV answer 400) or, given `errors` (the dashboard),
    is ignored with a message there."""
    problems: list[str] = []
    user = text_param(query, "user", problems)
    workflow = text_param(query, "workflow", problems)
    if problems and errors is None:
        raise FilterError("; ".join(problems))
    if errors is not None:
        errors.extend(problems)
    return Dimensions(
        user=("" if user == NO_USER else user) if user else None,
        workflow=workflow or None,
    )


def workflow_key(repository: str, workflow: str) -> str:
    return f"{repository}/{workflow}" if repository else workflow


def _split_workflow(key: str) -> tuple[str | None, str]:
    parts = key.split("/", 2)
    if len(parts) == 3 and not key.startswith((".github/", "dynamic/", "required/")):
        return f"{parts[0]}/{parts[1]}", parts[2]
    return None, key


def report_rows(organization: Organization, filters: Filters, dims: Dimensions) -> QuerySet:
    """The org's imported report rows under the filters (its data, no workspace)."""
    qs = ReportItem.objects.filter(
        organization=organization,
        workspace__isnull=True,
        date__gte=filters.start,
        date__lte=filters.end,
    )
    if filters.product:
        qs = qs.filter(product=filters.product)
    if filters.sku:
        qs = qs.filter(sku=filters.sku)
    if filters.repository is not None:
        qs = qs.filter(repository=filters.repository)
    if dims.user is not None:
        qs = qs.filter(user_login=dims.user)
    if dims.workflow is not None:
        repository, path = _split_workflow(dims.workflow)
        qs = qs.filter(workflow=path)
        if repository is not None:
            qs = qs.filter(repository=repository)
    return qs.order_by()


def by_user(organization: Organization, filters: Filters, dims: Dimensions) -> list[dict]:
    rows = report_rows(organization, filters, dims).values("user_login").annotate(**SUMS)
    return sorted(rows, key=lambda r: (-(r["net_amount"] or 0), r["user_login"]))


def by_workflow(organization: Organization, filters: Filters, dims: Dimensions) -> list[dict]:
    rows = (
        report_rows(organization, filters, dims)
        .exclude(workflow="")
        .values("repository", "workflow")
        .annotate(**SUMS)
    )
    out = [{**r, "key": workflow_key(r["repository"], r["workflow"])} for r in rows]
    return sorted(out, key=lambda r: (-(r["net_amount"] or 0), r["key"]))


def dimension_groups(
    organization: Organization, filters: Filters, dims: Dimensions, group_by: str
) -> list[dict[str, Any]]:
    """For the JSON API's ``group_by=user|workflow``: sums per user (key: the login,
    "" without a user) or per workflow (key, repository, workflow), by key."""
    if group_by == "user":
        rows = by_user(organization, filters, dims)
        return sorted(({**r, "key": r["user_login"]} for r in rows), key=lambda r: r["key"])
    return sorted(by_workflow(organization, filters, dims), key=lambda r: r["key"])


def months_without_detailed_report(organization: Organization, filters: Filters) -> list[str]:
    """Months of the range (up to today) with usage but no detailed report."""
    today = periods.today()
    last = min(filters.end, today)
    if filters.start > last:
        return []
    covered = detailed_months(organization, filters.start, last)
    with_usage = {
        f"{d:%Y-%m}"
        for d in DailyUsage.objects.filter(
            organization=organization, date__gte=filters.start, date__lte=last
        ).dates("date", "month")
    }
    keys = (f"{month:%Y-%m}" for month in periods.months_between(filters.start, last))
    return [key for key in keys if key in with_usage and key not in covered]


def range_month_sources(organization: Organization, filters: Filters) -> list[tuple[str, str]]:
    """(month, "api" | "reports") for the months of the range up to today that have data:
    where the dashboard's totals of each month come from."""
    last = min(filters.end, periods.today())
    found = month_sources(organization, filters.start, last)
    return [(f"{month:%Y-%m}", source) for month, source in sorted(found.items())]


def _bars(chart: Chart, labels: list[str], values: list[Decimal], hover: list[str]) -> None:
    chart.figure = figure(
        [
            {
                "type": "bar",
                "orientation": "h",
                "y": labels,
                "x": [as_float(v) for v in values],
                # customdata, not text: plotly.js would print text on every bar.
                "customdata": hover,
                "hovertemplate": "%{y}<br>%{customdata}: $%{x:,.2f}<extra></extra>",
            }
        ],
        yaxis={"autorange": "reversed", "automargin": True},
        height=max(220, 40 + 28 * len(labels)),
        showlegend=False,
    )


def users_chart(rows: list[dict]) -> Chart:
    top = rows[:TOP]
    chart = Chart(
        "users",
        f"Top users by net spend (top {TOP}, from detailed reports)",
        "",
        columns=["User", "Net"],
    )
    if not top:
        chart.summary = "No detailed report covers this range."
        return chart
    names = [r["user_login"] or NO_USER for r in top]
    _bars(chart, names, [r["net_amount"] for r in top], ["net"] * len(top))
    chart.rows = [[n, money(r["net_amount"])] for n, r in zip(names, top, strict=True)]
    chart.summary = f"{names[0]} spent the most: {money(top[0]['net_amount'])} net."
    chart.note = f"“{NO_USER}”: usage GitHub attributes to nobody (storage, for example)."
    return chart


def workflows_chart(rows: list[dict]) -> Chart:
    top = rows[:TOP]
    chart = Chart(
        "workflows",
        f"Top Actions workflows by net spend (top {TOP}, with their repositories)",
        "",
        columns=["Workflow", "Repository", "Net"],
    )
    if not top:
        chart.summary = "No Actions workflow spending in the detailed reports of this range."
        return chart
    labels = [r["key"] for r in top]
    _bars(chart, labels, [r["net_amount"] for r in top], [r["repository"] or "-" for r in top])
    chart.rows = [[r["workflow"], r["repository"], money(r["net_amount"])] for r in top]
    chart.summary = f"{labels[0]} cost the most: {money(top[0]['net_amount'])} net."
    return chart


def table_rows(organization: Organization, filters: Filters, dims: Dimensions) -> list[dict]:
    """The largest spends by user, workflow, repository and SKU (the table under the
    charts)."""
    rows = (
        report_rows(organization, filters, dims)
        .values("user_login", "repository", "workflow", "product", "sku")
        .annotate(**SUMS)
        .order_by("-net_amount", "user_login", "repository", "workflow", "sku")
    )
    return list(rows[:TABLE_ROWS])


def dimensions_context(
    organization: Organization, filters: Filters, query: Mapping[str, str]
) -> dict[str, Any]:
    """What the dashboard shows of the dimensions (charts, table, filter choices, the
    months without a detailed report)."""
    errors: list[str] = []
    dims = parse_dimensions(query, errors)
    users = by_user(organization, filters, dims)
    workflows = by_workflow(organization, filters, dims)
    everyone = by_user(organization, filters, Dimensions()) if dims.active else users
    all_workflows = by_workflow(organization, filters, Dimensions()) if dims.active else workflows
    return {
        "dims": dims,
        "dim_errors": errors,
        "dim_charts": [users_chart(users), workflows_chart(workflows)] if everyone else [],
        "dim_table": table_rows(organization, filters, dims) if everyone else [],
        "dim_user_choices": [r["user_login"] or NO_USER for r in everyone[:100]],
        "dim_workflow_choices": [r["key"] for r in all_workflows[:100]],
        "dim_missing_months": months_without_detailed_report(organization, filters),
        "dim_has_reports": bool(everyone),
        "month_sources": range_month_sources(organization, filters),
    }
