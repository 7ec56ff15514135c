"""Staff admin of usage (read-only, large tables): usage items, daily and monthly
rollups, summaries and budgets, listed newest first with capped counts."""

from __future__ import annotations

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.utils.functional import cached_property

from accounts.admin.helpers import ReadOnlyAdmin, link, pretty_json
from usage import vocabulary
from usage.admin.display import UsageColumns
from usage.models import Budget, DailyUsage, MonthlyRepositoryUsage, UsageItem, UsageSummary
from usage.reporting import formatting

# --- usage (read-only, large tables) ----------------------------------------------------


class CappedCountPaginator(Paginator):
    """Counts at most CAP rows: ``COUNT(*)`` of a million-row table on every list page
    would cost more than the page itself. Past the cap the count is not exact, and the
    list says so (`count_text`): "about N" from PostgreSQL's planner statistics
    (``pg_class.reltuples``, kept by ANALYZE/autovacuum) when the list is not filtered,
    else "more than 10,000"."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.CAP + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.CAP

    @cached_property
    def count_text(self) -> str:
        """What the list says about its size ("" when the count is exact)."""
        if not self.capped:
            return ""
        estimate = self._estimate()
        if estimate is not None and estimate > self.CAP:
            return f"about {round_estimate(estimate):,} (estimate)"
        return f"more than {self.CAP:,}"

    def _estimate(self) -> int | None:
        query = getattr(self.object_list, "query", None)
        if query is None or query.where or connection.vendor != "postgresql":
            return None  # filtered or searched: the table's size says nothing
        table = self.object_list.model._meta.db_table
        with connection.cursor() as cursor:
            # A partitioned table (the items) has its statistics in its partitions:
            # autovacuum never analyzes the parent.
            cursor.execute(
                "SELECT COALESCE((SELECT sum(GREATEST(c.reltuples, 0)) "
                "FROM pg_partition_tree(%s::regclass) t JOIN pg_class c ON c.oid = t.relid "
                "WHERE t.isleaf), (SELECT reltuples FROM pg_class WHERE oid = %s::regclass)"
                ")::bigint",
                [table, table],
            )
            row = cursor.fetchone()
        return int(row[0]) if row and row[0] and row[0] > 0 else None


def round_estimate(value: int) -> int:
    """Three significant figures: an estimate should not look exact (123,456 → 123,000)."""
    digits = len(str(value))
    step = 10 ** max(0, digits - 3)
    return round(value / step) * step


class LargeTableAdmin(UsageColumns, ReadOnlyAdmin):
    """Index-friendly lists: newest rows first (primary key), no date hierarchy, no
    distinct-value filters, exact search by org login only, capped counts."""

    paginator = CappedCountPaginator
    show_full_result_count = False
    ordering = ("-id",)
    search_fields = ("=organization__login",)
    search_help_text = "Exact organization login."
    list_select_related = ("organization",)
    readonly_fields = ("org_link",)
    exclude = ("organization",)

    @admin.display(description="Organization")
    def org_link(self, obj) -> str:
        return link(obj.organization)


@admin.register(UsageItem)
class UsageItemAdmin(LargeTableAdmin):
    list_display = (
        "date",
        "org_link",
        "product_name",
        "sku_name",
        "quantity_shown",
        "unit_price_shown",
        "net",
        "repository",
    )


@admin.register(DailyUsage)
class DailyUsageAdmin(LargeTableAdmin):
    list_display = (
        "date",
        "org_link",
        "product_name",
        "sku_name",
        "quantity_shown",
        "net",
        "item_count",
    )


@admin.register(MonthlyRepositoryUsage)
class MonthlyRepositoryUsageAdmin(LargeTableAdmin):
    list_display = (
        "month",
        "org_link",
        "repository",
        "product_name",
        "sku_name",
        "net",
        "item_count",
    )


@admin.register(UsageSummary)
class UsageSummaryAdmin(LargeTableAdmin):
    list_display = ("month", "org_link", "gross", "net", "fetched_at")
    exclude = ("organization", "items")
    readonly_fields = ("org_link", "items_json")

    @admin.display(description="Items")
    def items_json(self, obj: UsageSummary) -> str:
        return pretty_json(obj.items)


@admin.register(Budget)
class BudgetAdmin(LargeTableAdmin):
    """GitHub's budgets as last listed: scope, what they cover (product or SKU, by the
    vocabulary's labels), the amount as money, and whether GitHub stops usage there."""

    list_display = (
        "org_link",
        "scope",
        "covers",
        "amount",
        "prevent_further_usage",
        "fetched_at",
    )

    @admin.display(description="Scope", ordering="budget_scope")
    def scope(self, obj: Budget) -> str:
        scope = obj.budget_scope or "organization"
        if scope == "organization":
            return "Whole organization"
        return f"{scope.capitalize()} {obj.budget_entity_name}".strip()

    @admin.display(description="Product / SKU")
    def covers(self, obj: Budget) -> str:
        if not obj.product_skus:
            return "All usage"
        if obj.budget_type == "SkuPricing":
            return "SKU " + ", ".join(vocabulary.sku_label(t) for t in obj.product_skus)
        return "Product " + ", ".join(vocabulary.product_label(t) for t in obj.product_skus)

    @admin.display(description="Amount", ordering="budget_amount")
    def amount(self, obj: Budget) -> str:
        return formatting.money(obj.budget_amount)
