"""GitHub's budgets of an organization against this month's spend in each budget's scope
(the dashboard's budgets panel, the alerts and the digests).

Budgets are monthly: they are always measured on the current month to date, whatever
dates the page shows, and the panel says so. Each `BudgetLine` knows, once, whether it is
used up (`over`) or projected to run over by month end (`projected_over`); everything
that counts or lists them reads those. Products and SKUs are stored as GitHub's
identifiers (`usage.vocabulary`), and shown by their labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from accounts.models import Organization
from usage import vocabulary
from usage.models import Budget, DailyUsage, MonthlyRepositoryUsage, UsageSummary
from usage.periods import month_end
from usage.reporting.filters import Filters
from usage.reporting.reports import ZERO, Headline, projection_of


@dataclass
class BudgetLine:
    """One GitHub budget against this month's spend in its scope."""

    budget: Budget
    label: str  # "Actions · whole organization"
    product: str  # product id, for the colour ("" when unknown)
    spend: Decimal | None  # None: the scope is not one we can measure
    projection: Decimal | None
    note: str = ""
    scope: str = ""  # "Whole organization", "Repository acme/web", "Enterprise x"
    target_kind: str = ""  # "product", "SKU" or "all usage"
    target: str = ""  # "Actions", "Actions Linux", "all usage"
    skus: tuple[str, ...] = ()  # SKU ids a SKU budget covers

    @property
    def amount(self) -> Decimal:
        return self.budget.budget_amount

    @property
    def stops_usage(self) -> bool:
        return self.budget.prevent_further_usage

    @property
    def percent(self) -> Decimal | None:
        if self.spend is None or not self.amount:
            return None
        return self.spend / self.amount * 100

    @property
    def over(self) -> bool:
        """Used up: this month's spend reached the budget."""
        return self.spend is not None and self.amount > 0 and self.spend >= self.amount

    @property
    def projected_over(self) -> bool:
        """Not used up yet, but projected past the budget by month end."""
        return (
            not self.over
            and self.projection is not None
            and self.amount > 0
            and self.projection > self.amount
        )

    @property
    def verdict(self) -> str:
        if self.spend is None:
            return "not measured here"
        if self.over:
            return "used up" + (": GitHub stops usage" if self.stops_usage else "")
        if self.projected_over:
            return "projected to run over"
        return "within"


def sku_slug(name: str) -> str:
    """GitHub's SKU identifier from any spelling ("Actions Linux" -> actions_linux)."""
    return vocabulary.sku_id(name)


def _matches(budget: Budget, product: str, sku: str) -> bool:
    targets = [t.lower() for t in budget.product_skus]
    if not targets:
        return True
    if budget.budget_type == "SkuPricing":
        return vocabulary.sku_id(sku) in {vocabulary.sku_id(t) for t in targets}
    return vocabulary.product_id(product) in {vocabulary.product_id(t) for t in targets}


def _repo_name(organization: Organization, entity: str) -> str:
    return entity if "/" in entity else f"{organization.login}/{entity}"


def _target(budget: Budget) -> tuple[str, str]:
    if not budget.product_skus:
        return "all usage", "all usage"
    if budget.budget_type == "SkuPricing":
        return "SKU", ", ".join(vocabulary.sku_label(t) for t in budget.product_skus)
    return "product", ", ".join(vocabulary.product_label(t) for t in budget.product_skus)


def budget_lines(organization: Organization, head: Headline) -> list[BudgetLine]:
    """The org's budgets (as GitHub last listed them) with this month's spend in each
    budget's scope and its projection at the month's run rate."""
    budgets = list(
        Budget.objects.filter(organization=organization).order_by(
            "budget_scope", "budget_entity_name", "github_id"
        )
    )
    if not budgets:
        return []
    month = head.month
    org_rows = list(
        DailyUsage.objects.filter(
            organization=organization, date__gte=month, date__lte=month_end(month)
        )
        .order_by()
        .values("product", "sku")
        .annotate(net=Sum("net_amount"))
    )
    repos = {
        _repo_name(organization, b.budget_entity_name)
        for b in budgets
        if b.budget_scope == "repository"
    }
    repo_rows = list(
        MonthlyRepositoryUsage.objects.filter(
            organization=organization, month=month, repository__in=repos
        )
        .order_by()
        .values("repository", "product", "sku")
        .annotate(net=Sum("net_amount"))
    )
    summary = UsageSummary.objects.filter(organization=organization, month=month).first()
    summary_items = summary.items if summary else []
    lines = []
    for budget in budgets:
        kind, target = _target(budget)
        scope_id = budget.budget_scope or "organization"
        rows: list[dict[str, Any]] | None = None
        if scope_id == "organization":
            rows, scope = org_rows, "Whole organization"
        elif scope_id == "repository":
            name = _repo_name(organization, budget.budget_entity_name)
            rows = [r for r in repo_rows if r["repository"] == name]
            scope = f"Repository {name}"
        else:
            scope = f"{scope_id.capitalize()} {budget.budget_entity_name}".strip()
        label = f"{target} · {scope[0].lower()}{scope[1:]}"
        line = BudgetLine(
            budget=budget,
            label=label,
            product="",
            spend=None,
            projection=None,
            scope=scope,
            target_kind=kind,
            target=target,
            skus=tuple(vocabulary.sku_id(t) for t in budget.product_skus)
            if budget.budget_type == "SkuPricing"
            else (),
        )
        if rows is None:
            line.note = f"{scope_id} budgets cover more than this organization: not measured here"
        else:
            hits = [r for r in rows if _matches(budget, r["product"], r["sku"])]
            line.spend = sum((r["net"] for r in hits), ZERO)
            line.product = hits[0]["product"] if hits else ""
            if not hits and budget.budget_type == "SkuPricing" and scope_id == "organization":
                # GitHub's summary names SKUs by identifier: use it when names differ.
                wanted = set(line.skus)
                found = [
                    i for i in summary_items if vocabulary.sku_id(str(i.get("sku", ""))) in wanted
                ]
                if found:
                    line.spend = sum((Decimal(str(i.get("netAmount", 0))) for i in found), ZERO)
                    line.product = vocabulary.product_id(str(found[0].get("product", "")))
                    line.note = "spend from GitHub's usage summary"
            if budget.budget_type == "ProductPricing" and budget.product_skus:
                line.product = line.product or vocabulary.product_id(budget.product_skus[0])
            line.projection = projection_of(line.spend, head.days_elapsed, head.days_in_month)
        lines.append(line)
    return lines


def budgets_for_filters(
    organization: Organization,
    lines: list[BudgetLine],
    filters: Filters,
    sku_products: dict[str, str],
) -> list[BudgetLine]:
    """The budgets that cover what the page's product/SKU/repository filters keep (all
    of them unfiltered). `sku_products`: SKU id -> product id, from the month's usage."""
    if not filters.is_filtered:
        return lines
    wanted_product = vocabulary.product_id(filters.product) if filters.product else ""
    wanted_sku = vocabulary.sku_id(filters.sku) if filters.sku else ""
    if wanted_sku and not wanted_product:
        wanted_product = sku_products.get(wanted_sku, "")
    kept = []
    for line in lines:
        b = line.budget
        if (
            filters.repository is not None
            and b.budget_scope == "repository"
            and _repo_name(organization, b.budget_entity_name) != filters.repository
        ):
            continue
        if b.product_skus and b.budget_type == "SkuPricing":
            if wanted_sku and wanted_sku not in line.skus:
                continue
            if wanted_product and not any(
                sku_products.get(s, "") == wanted_product for s in line.skus
            ):
                continue
        elif b.product_skus:
            products = {vocabulary.product_id(t) for t in b.product_skus}
            if wanted_product and wanted_product not in products:
                continue
        kept.append(line)
    return kept


def sku_products_of(organization: Organization, head: Headline) -> dict[str, str]:
    """SKU id -> product id, as the month's usage pairs them."""
    rows = (
        DailyUsage.objects.filter(
            organization=organization, date__gte=head.month, date__lte=month_end(head.month)
        )
        .order_by()
        .values_list("sku", "product")
        .distinct()
    )
    return {sku: product for sku, product in rows}
