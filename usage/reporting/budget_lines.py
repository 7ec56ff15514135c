"""GitHub's budgets of an organization against this month's spend in each budget's scope
(the dashboard's budget chart). Budgets are monthly; GitHub names SKUs by identifier in
budgets (``actions_linux``) and by display name in usage (``Actions Linux``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from accounts.models import Organization
from usage.models import Budget, DailyUsage, MonthlyRepositoryUsage, UsageSummary
from usage.reporting.filters import month_end
from usage.reporting.reports import ZERO, Headline, projection_of


@dataclass
class BudgetLine:
    """One GitHub budget against this month's spend in its scope."""

    budget: Budget
    label: str
    product: str  # for the colour ("" when unknown)
    spend: Decimal | None  # None: the scope is not one we can measure
    projection: Decimal | None
    note: str = ""

    @property
    def percent(self) -> Decimal | None:
        if self.spend is None or not self.budget.budget_amount:
            return None
        return self.spend / self.budget.budget_amount * 100


def sku_slug(name: str) -> str:
    """GitHub's SKU identifier from its display name ("Actions Linux" -> actions_linux);
    budgets name SKUs by identifier, usage items by display name."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _matches(budget: Budget, product: str, sku: str) -> bool:
    targets = [t.lower() for t in budget.product_skus]
    if budget.budget_type == "SkuPricing":
        return sku_slug(sku) in targets
    return product.lower() in targets


def _repo_name(organization: Organization, entity: str) -> str:
    return entity if "/" in entity else f"{organization.login}/{entity}"


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
    names = {sku_slug(r["sku"]): r["sku"] for r in org_rows}
    for budget in budgets:
        # "Actions Linux" for a SKU budget (GitHub names SKUs by identifier there).
        shown = [names.get(t.lower(), t) for t in budget.product_skus]
        target = ", ".join(shown) or "all usage"
        scope = budget.budget_scope or "organization"
        rows: list[dict[str, Any]] | None = None
        if scope == "organization":
            rows, label = org_rows, f"{target} · whole organization"
        elif scope == "repository":
            name = _repo_name(organization, budget.budget_entity_name)
            rows = [r for r in repo_rows if r["repository"] == name]
            label = f"{name} · {target}"
        else:
            label = f"{budget.budget_entity_name or scope} · {target}"
        line = BudgetLine(budget=budget, label=label, product="", spend=None, projection=None)
        if rows is None:
            line.note = f"{scope} budgets cover more than this organization: not measured here"
        else:
            hits = [r for r in rows if _matches(budget, r["product"], r["sku"])]
            line.spend = sum((r["net"] for r in hits), ZERO)
            line.product = hits[0]["product"] if hits else ""
            if not hits and budget.budget_type == "SkuPricing" and scope == "organization":
                # GitHub's summary names SKUs by identifier: use it when names differ.
                wanted = {t.lower() for t in budget.product_skus}
                found = [i for i in summary_items if str(i.get("sku", "")).lower() in wanted]
                if found:
                    line.spend = sum((Decimal(str(i.get("netAmount", 0))) for i in found), ZERO)
                    line.product = str(found[0].get("product", ""))
                    line.note = "spend from GitHub's usage summary"
            if budget.budget_type == "ProductPricing" and budget.product_skus:
                line.product = line.product or budget.product_skus[0].lower()
            line.projection = projection_of(line.spend, head.days_elapsed, head.days_in_month)
        lines.append(line)
    return lines
