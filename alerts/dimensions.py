"""What rules and digests break spend down by: product, SKU, repository, and users once
usage has them. Each `Dimension` reads two things:

- `daily(organization, start, end)`: net spend per subject and day (the anomaly rule's
  series): per SKU org-wide (``sku``), per SKU in each repository (``repository``);
- `totals(organization, start, end)`: net spend per subject over a span (the digest's
  movers): per SKU, per repository.

User data is not collected yet. When it is, its reader registers a ``user`` dimension
(`register_dimension`) with the same two functions, and the anomaly rule, the budget
scope ``user`` and the digests' movers take it without other changes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Sum

from accounts.models import Organization
from usage.models import UsageItem
from usage.reporting.filters import Filters
from usage.reporting.reports import NET, grouped
from usage.vocabulary import product_label, sku_label

ZERO = Decimal(0)


@dataclass(frozen=True, order=True)
class Subject:
    """What a series or a total is about; empty parts are not part of it."""

    product: str = ""
    sku: str = ""
    repository: str = ""
    user: str = ""

    def words(self) -> str:
        """ "Actions Linux in acme/api", "acme/api", "Copilot by mona"."""
        name = sku_label(self.sku) if self.sku else product_label(self.product)
        if self.repository:
            name = f"{name} in {self.repository}" if name else self.repository
        if self.user:
            name = f"{name} by {self.user}" if name else self.user
        return name or "(no repository)"

    def key(self) -> str:
        parts = (("product", self.product), ("sku", self.sku), ("repository", self.repository))
        parts += (("user", self.user),)
        return ";".join(f"{k}={v}" for k, v in parts if v)[:300]

    def as_json(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v}


Series = dict[Subject, dict[date, Decimal]]
Reader = Callable[[Organization, date, date], Series]
TotalsReader = Callable[[Organization, date, date], dict[Subject, Decimal]]


@dataclass(frozen=True)
class Dimension:
    name: str
    label: str  # "SKU", "repository": how a page names one subject
    daily: Reader
    totals: TotalsReader


def _span(start: date, end: date) -> Filters:
    return Filters(range="custom", start=start, end=end)


def _sku_daily(organization: Organization, start: date, end: date) -> Series:
    series: Series = defaultdict(dict)
    for row in grouped(organization, _span(start, end), ("date", "product", "sku"), NET):
        subject = Subject(product=row["product"], sku=row["sku"])
        series[subject][row["date"]] = row["net_amount"] or ZERO
    return dict(series)


def _repository_daily(organization: Organization, start: date, end: date) -> Series:
    # The rollups have no day per repository: the line items, through the
    # (organization, date) index.
    rows = (
        UsageItem.objects.filter(organization=organization, date__gte=start, date__lte=end)
        .exclude(repository="")
        .order_by()
        .values("date", "repository", "product", "sku")
        .annotate(net=Sum("net_amount"))
    )
    series: Series = defaultdict(dict)
    for row in rows:
        subject = Subject(product=row["product"], sku=row["sku"], repository=row["repository"])
        series[subject][row["date"]] = row["net"] or ZERO
    return dict(series)


def _sku_totals(organization: Organization, start: date, end: date) -> dict[Subject, Decimal]:
    rows = grouped(organization, _span(start, end), ("product", "sku"), NET)
    return {Subject(product=r["product"], sku=r["sku"]): r["net_amount"] or ZERO for r in rows}


def _repository_totals(
    organization: Organization, start: date, end: date
) -> dict[Subject, Decimal]:
    rows = grouped(organization, _span(start, end), ("repository",), NET)
    return {
        Subject(repository=r["repository"]): r["net_amount"] or ZERO
        for r in rows
        if r["repository"]
    }


_DIMENSIONS: dict[str, Dimension] = {
    "sku": Dimension("sku", "SKU", _sku_daily, _sku_totals),
    "repository": Dimension("repository", "repository", _repository_daily, _repository_totals),
}


def register_dimension(dimension: Dimension) -> None:
    """Add a dimension (the ``user`` one, once usage collects users)."""
    _DIMENSIONS[dimension.name] = dimension


def get_dimension(name: str) -> Dimension | None:
    return _DIMENSIONS.get(name)


def dimension_names() -> list[str]:
    return list(_DIMENSIONS)
