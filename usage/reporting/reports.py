"""Reads for the dashboard, the overview and the JSON API. Every function takes the
organization (or the ids of organizations the caller may see) as a required argument.

Charts and totals read the rollups: `DailyUsage` (org, day, product, SKU, unit type) and
`MonthlyRepositoryUsage` (org, month, repository, product, SKU). Raw `UsageItem` rows are
read only when a repository filter narrows to one repository (index
``usage_item_org_repo_date``), for the partial months of a custom range broken down by
repository (the monthly rollup cannot split a month), and for the line items
(`usage.lineitems`). Money stays `Decimal` (PostgreSQL ``numeric`` sums are exact).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, QuerySet, Sum
from django.db.models.functions import TruncMonth, TruncWeek

from accounts.models import Organization
from usage import periods
from usage.models import DailyUsage, MonthlyRepositoryUsage, UsageItem
from usage.periods import month_end
from usage.reporting.buckets import buckets_of
from usage.reporting.filters import Filters

ZERO = Decimal(0)
SUM_FIELDS = ("quantity", "gross_amount", "discount_amount", "net_amount")
NET = ("net_amount",)
MONEY = ("gross_amount", "discount_amount", "net_amount", "items")
GROUP_KEYS = {"day": "date", "product": "product", "sku": "sku", "repository": "repository"}
# The API's `group_by`: the keys above, and the days grouped into ISO weeks or months.
TIME_BUCKETS = ("week", "month")
GROUP_BY = ("day", *TIME_BUCKETS, "product", "sku", "repository")


@dataclass
class Totals:
    quantity: Decimal = ZERO
    gross_amount: Decimal = ZERO
    discount_amount: Decimal = ZERO
    net_amount: Decimal = ZERO
    items: int = 0

    def add(self, row: dict[str, Any]) -> Totals:
        for name in SUM_FIELDS:
            if name in row:
                setattr(self, name, getattr(self, name) + (row[name] or ZERO))
        self.items += int(row.get("items") or 0)
        return self


def total_of(rows: Iterable[dict[str, Any]]) -> Totals:
    totals = Totals()
    for row in rows:
        totals.add(row)
    return totals


ALL_FIELDS = (*SUM_FIELDS, "items")


def _sums(model: type, fields: Sequence[str] = ALL_FIELDS) -> dict[str, Any]:
    """The aggregates of `fields` (numeric sums cost: ask only for what is shown)."""
    count = Count("id") if model is UsageItem else Sum("items")
    return {name: count if name == "items" else Sum(name) for name in fields}


def _narrow(qs: QuerySet, filters: Filters) -> QuerySet:
    if filters.product:
        qs = qs.filter(product=filters.product)
    if filters.sku:
        qs = qs.filter(sku=filters.sku)
    return qs.order_by()


def source(organization: Organization, filters: Filters, *, dated: bool = True) -> QuerySet:
    """Daily rows of the filters: the `DailyUsage` rollup, or the items of the one
    repository the filters name."""
    if filters.repository is None:
        qs = DailyUsage.objects.filter(organization=organization)
    else:
        qs = UsageItem.objects.filter(organization=organization, repository=filters.repository)
    if dated:
        qs = qs.filter(date__gte=filters.start, date__lte=filters.end)
    return _narrow(qs, filters)


def month_split(
    start: date, end: date, today: date | None = None
) -> tuple[list[date], list[tuple[date, date]]]:
    """The months `start`..`end` covers entirely, and the partial spans at its edges.
    The current month counts as entire from its 1st to today: no usage exists after
    today, so its monthly rollup holds exactly those days (ranges end today)."""
    today = today or periods.today()
    full: list[date] = []
    partial: list[tuple[date, date]] = []
    for month in periods.months_between(start, end):
        last = month_end(month)
        if start <= month and end >= min(last, today):
            full.append(month)
        else:
            partial.append((max(start, month), min(end, last)))
    return full, partial


def _merge(into: dict[tuple, dict[str, Any]], rows: Iterable[dict[str, Any]], keys) -> None:
    for row in rows:
        key = tuple(row[k] for k in keys)
        if key in into:
            target = into[key]
            for name in ALL_FIELDS:
                if name in row:
                    target[name] = (target[name] or 0) + (row[name] or 0)
        else:
            into[key] = dict(row)


def _by_repository(
    organization: Organization, filters: Filters, keys: Sequence[str], fields: Sequence[str]
) -> list[dict[str, Any]]:
    full, partial = month_split(filters.start, filters.end)
    merged: dict[tuple, dict[str, Any]] = {}
    if full:
        monthly = MonthlyRepositoryUsage.objects.filter(organization=organization, month__in=full)
        monthly = _narrow(monthly, filters)
        sums = _sums(MonthlyRepositoryUsage, fields)
        _merge(merged, monthly.values(*keys).annotate(**sums), keys)
    for first, last in partial:
        raw = UsageItem.objects.filter(organization=organization, date__gte=first, date__lte=last)
        sums = _sums(UsageItem, fields)
        _merge(merged, _narrow(raw, filters).values(*keys).annotate(**sums), keys)
    return [merged[k] for k in sorted(merged)]


def grouped(
    organization: Organization,
    filters: Filters,
    keys: Sequence[str],
    fields: Sequence[str] = ALL_FIELDS,
) -> list[dict]:
    """Sums of `fields` (quantity, gross, discount, net, items) per distinct `keys`
    under the filters, ordered by the keys. Keys: date, product, sku, unit_type,
    repository (repository does not combine with date or unit_type unless a repository
    filter is set: the monthly rollup has neither)."""
    keys = tuple(keys)
    if "repository" in keys and filters.repository is None:
        return _by_repository(organization, filters, keys, fields)
    qs = source(organization, filters)
    return list(qs.values(*keys).annotate(**_sums(qs.model, fields)).order_by(*keys))


# --- time buckets ------------------------------------------------------------------------


_TRUNC = {"week": TruncWeek, "month": TruncMonth}


def bucketed(
    organization: Organization,
    filters: Filters,
    keys: Sequence[str] = (),
    fields: Sequence[str] = ALL_FIELDS,
    kind: str | None = None,
) -> list[dict]:
    """Sums of `fields` per time bucket (``bucket``: the day, the ISO week's Monday or
    the month's 1st; `kind`, else the filters' bucket) and per distinct `keys`, ordered
    by bucket then keys. Grouped in SQL (date_trunc on PostgreSQL, Django's function on
    SQLite) on the daily rollup, or on the one repository's items."""
    kind = kind or filters.bucket
    qs = source(organization, filters)
    when = F("date") if kind == "day" else _TRUNC[kind]("date")
    rows = (
        qs.annotate(bucket=when)
        .values("bucket", *keys)
        .annotate(**_sums(qs.model, fields))
        .order_by("bucket", *keys)
    )
    return list(rows)


def api_groups(organization: Organization, filters: Filters, group_by: str) -> list[dict]:
    """The JSON API's groups: ``{"key", "items", "quantity", ...}`` per group; weeks and
    months also say which days of the range they cover and whether that is all of them."""
    if group_by in TIME_BUCKETS:
        spans = {b.key: b for b in buckets_of(filters.start, filters.end, group_by)}
        out = []
        for row in bucketed(organization, filters, kind=group_by):
            span = spans[row.pop("bucket")]
            extra = {"first_day": span.first, "last_day": span.last, "partial": span.partial}
            out.append({"key": span.key, **extra, **row})
        return out
    key = GROUP_KEYS[group_by]
    rows = grouped(organization, filters, (key,))
    return [{"key": row.pop(key), **row} for row in rows]


# --- headline figures --------------------------------------------------------------------


@dataclass
class Headline:
    today: date
    month: date
    previous_month: date
    days_in_month: int
    days_elapsed: int  # days of the current month up to the last day with usage
    mtd: Totals
    last_month_net: Decimal
    last_month_same_point: Decimal
    projection: Decimal | None
    change: Decimal | None
    change_percent: Decimal | None
    # The daily sums the figures come from (`range_totals` reuses them).
    days: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def end(self) -> date:
        return month_end(self.month)


def projection_of(mtd_net: Decimal, days_elapsed: int, days_in_month: int) -> Decimal | None:
    """Month-end spend at the current month's daily run rate."""
    if days_elapsed <= 0:
        return None
    return mtd_net / days_elapsed * days_in_month


def headline(organization: Organization, filters: Filters, today: date) -> Headline:
    """Month to date, last month, the projection and the change against the same day of
    last month, under the filters' product/SKU/repository (not their dates)."""
    month = periods.month_start(today)
    previous = periods.add_months(month, -1)
    days_in_month = calendar.monthrange(month.year, month.month)[1]
    qs = source(organization, filters, dated=False).filter(
        date__gte=previous, date__lte=month_end(month)
    )
    days = list(qs.values("date").annotate(**_sums(qs.model)))
    current = [d for d in days if d["date"] >= month]
    elapsed = max((d["date"].day for d in current), default=0)
    same_point = previous + timedelta(days=max(elapsed, 1) - 1)
    last = [d for d in days if d["date"] < month]
    mtd = total_of(current)
    last_net = sum((d["net_amount"] for d in last), ZERO)
    last_same = sum((d["net_amount"] for d in last if d["date"] <= same_point), ZERO)
    change = mtd.net_amount - last_same if current else None
    percent = None
    if change is not None and last_same:
        percent = change / abs(last_same) * 100
    return Headline(
        today=today,
        month=month,
        previous_month=previous,
        days_in_month=days_in_month,
        days_elapsed=elapsed,
        mtd=mtd,
        last_month_net=last_net,
        last_month_same_point=last_same,
        projection=projection_of(mtd.net_amount, elapsed, days_in_month),
        change=change,
        change_percent=percent,
        days=days,
    )


def range_totals(
    organization: Organization, filters: Filters, head: Headline | None = None
) -> Totals:
    """Gross, discount, net and the number of line items under the filters: from the
    headline's days when they cover the range (the default, this month), else a query."""
    if head is not None and head.previous_month <= filters.start and filters.end <= head.end:
        days = (d for d in head.days if filters.start <= d["date"] <= filters.end)
        return total_of({k: d[k] for k in MONEY} for d in days)
    qs = source(organization, filters)
    sums = qs.aggregate(**_sums(qs.model, MONEY))
    return Totals(**{k: v for k, v in sums.items() if v is not None})


# --- filter choices ----------------------------------------------------------------------


def choices_of(rows: Iterable[dict[str, Any]], filters: Filters) -> dict[str, list[str]]:
    """The product and SKU choices from rows with ``product`` and ``sku``."""
    pairs = {(r["product"], r["sku"]) for r in rows}
    return {
        "products": sorted({p for p, _ in pairs}),
        "skus": sorted({s for p, s in pairs if not filters.product or p == filters.product}),
    }


def filter_choices(organization: Organization, filters: Filters) -> dict[str, list[str]]:
    """Products and SKUs with usage in the range (ignoring the other filters)."""
    rows = (
        DailyUsage.objects.filter(
            organization=organization, date__gte=filters.start, date__lte=filters.end
        )
        .order_by()
        .values("product", "sku")
        .distinct()
    )
    return choices_of(rows, filters)


def net_by(rows: Iterable[dict[str, Any]], key: str) -> list[tuple[Any, Decimal]]:
    """Net per distinct `key` of rows with ``net_amount``, largest first (ties by key)."""
    totals: dict[Any, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[row[key]] += row["net_amount"] or ZERO
    return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))


def repository_options(rows: Iterable[dict[str, Any]], limit: int = 50) -> list[str]:
    """The repository filter's choices: the named repositories of rows with
    ``repository`` and ``net_amount``, largest net first."""
    return [name for name, _ in net_by(rows, "repository") if name][:limit]


def top_repositories(organization: Organization, filters: Filters, limit: int = 50) -> list[str]:
    rows = grouped(organization, replace(filters, repository=None), ("repository",), NET)
    return repository_options(rows, limit)


# --- the overview ------------------------------------------------------------------------


@dataclass
class OrgSpend:
    mtd_net: Decimal = ZERO
    days_elapsed: int = 0
    projection: Decimal | None = None
    last_30: list[Decimal] = field(default_factory=list)
    has_data: bool = False


def org_has_data(organization: Organization) -> bool:
    """Whether the org has any usage (a function of its data version)."""
    return organization.pk in orgs_with_data(organization_ids=[organization.pk])


def orgs_with_data(*, organization_ids: Collection[int]) -> set[int]:
    """The pks of the orgs (of those) that have any usage, in one query (none if no org)."""
    if not organization_ids:
        return set()
    usage = DailyUsage.objects.filter(organization=OuterRef("pk"))
    orgs = Organization.objects.filter(Exists(usage), pk__in=organization_ids)
    return set(orgs.values_list("pk", flat=True))


def orgs_spend(organization_ids: Sequence[int], today: date) -> dict[int, OrgSpend]:
    """Month to date, projection and the last 30 days of each organization (one query)."""
    month = periods.month_start(today)
    days_in_month = calendar.monthrange(month.year, month.month)[1]
    first = min(month, today - timedelta(days=29))
    rows = (
        DailyUsage.objects.filter(
            organization_id__in=list(organization_ids), date__gte=first, date__lte=today
        )
        .order_by()
        .values("organization_id", "date")
        .annotate(net=Sum("net_amount"))
    )
    per_day: dict[int, dict[date, Decimal]] = defaultdict(dict)
    for row in rows:
        per_day[row["organization_id"]][row["date"]] = row["net"]
    window = [today - timedelta(days=29 - i) for i in range(30)]
    result: dict[int, OrgSpend] = {}
    for org_id in organization_ids:
        days = per_day.get(org_id, {})
        mtd_days = [d for d in days if d >= month]
        spend = OrgSpend(
            mtd_net=sum((days[d] for d in mtd_days), ZERO),
            days_elapsed=max((d.day for d in mtd_days), default=0),
            last_30=[days.get(d, ZERO) for d in window],
            has_data=bool(days),
        )
        spend.projection = projection_of(spend.mtd_net, spend.days_elapsed, days_in_month)
        result[org_id] = spend
    return result
