"""Staff admin for usage: collection runs, usage (read-only) and the collection
machinery, and the Organization admin with its collection actions.

The Organization admin is registered by `accounts.admin` (accounts never imports usage)
and re-registered here as a subclass that adds "Collect now", "Backfill…", the
"failing" filter and links to the org's runs: one admin page per organization, each
app contributing what it owns.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.paginator import Paginator
from django.db import connection
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.functional import cached_property

from accounts.admin.helpers import (
    ReadOnlyAdmin,
    audit_staff,
    changelist_link,
    finish_action,
    link,
    pretty_json,
    shorten,
)
from accounts.admin.users import OrganizationAdmin
from accounts.models import Organization
from billingdash.heartbeat import ServiceHeartbeat
from usage import vocabulary
from usage.admin.actions import (
    MAX_BACKFILL_MONTHS,
    Queued,
    org_backfill,
    org_collect_months,
    org_collect_now,
)
from usage.admin.display import UsageColumns
from usage.admin.ops import failing_org_ids, retrying_runs, unresolved_failures
from usage.models import (
    Budget,
    CollectionRun,
    DailyUsage,
    EndpointAvailability,
    MonthlyRepositoryUsage,
    OrgCollectionState,
    OrgLock,
    UsageItem,
    UsageSummary,
)
from usage.reporting import formatting


class FailingFilter(admin.SimpleListFilter):
    title = "collection failing"
    parameter_name = "failing"

    def lookups(self, request, model_admin):
        return (("yes", "Failing (last 24 h, unresolved, or retrying)"), ("no", "Not failing"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(pk__in=failing_org_ids())
        if self.value() == "no":
            return queryset.exclude(pk__in=failing_org_ids())
        return queryset


class BackfillForm(forms.Form):
    months = forms.IntegerField(
        min_value=1,
        max_value=MAX_BACKFILL_MONTHS,
        help_text="How many months to collect, this month included (1–24).",
    )
    include_final = forms.BooleanField(
        required=False,
        label="Also months already final",
        help_text="Months collected after their late-adjustment window are skipped unless "
        "this is ticked (tick it to repair data).",
    )


def _describe(queued: Queued) -> tuple[str, int]:
    org = queued.organization
    if queued.refused:
        return f"{org}: nothing queued, {queued.refused}.", messages.WARNING
    if not queued.runs and not queued.made_due:
        return (
            f"{org}: nothing queued, the {queued.skipped_final} month(s) asked for are final "
            "(tick “Also months already final” to collect them again).",
            messages.WARNING,
        )
    months = ", ".join(f"{p:%Y-%m}" for p in queued.periods)
    text = f"{org}: {months} queued ({queued.new} new run(s)"
    if queued.made_due:
        text += f", {queued.made_due} waiting run(s) made due now"
    if queued.skipped_final:
        text += f", {queued.skipped_final} final month(s) skipped"
    if not queued.sent:
        text += "). The task queue is unavailable: the sweeper sends it once it is back."
        return text, messages.WARNING
    return text + "). A worker collects it now.", messages.SUCCESS


def report_queued(modeladmin, request, results: list[Queued], action: str, **details):
    """Tell staff what was queued, and append one audit event per organization."""
    level = messages.SUCCESS
    lines = []
    for queued in results:
        text, line_level = _describe(queued)
        level = max(level, line_level)
        lines.append(text)
        audit_staff(
            request,
            action,
            organization=queued.organization,
            target=f"org {queued.organization}",
            details={
                **details,
                "runs": [run.pk for run in queued.runs],
                "months": [f"{p:%Y-%m}" for p in queued.periods],
                "refused": queued.refused,
                "sent": queued.sent,
            },
        )
    return finish_action(modeladmin, request, lines, level)


class CollectingOrganizationAdmin(OrganizationAdmin):
    list_filter = (*OrganizationAdmin.list_filter, FailingFilter)
    actions = ["collect_now", "backfill", *OrganizationAdmin.actions]
    object_actions = {
        "collect_now": "Collect now",
        "backfill": "Backfill…",
        **OrganizationAdmin.object_actions,
    }

    def related_links(self, obj: Organization) -> list[str]:
        return [
            changelist_link(CollectionRun, "Collection runs", organization__id__exact=obj.pk),
            changelist_link(UsageItem, "Usage items", q=f"{obj.login}"),
            *super().related_links(obj),
        ]

    @admin.action(description="Collect now (current month)", permissions=["operate"])
    def collect_now(self, request, queryset):
        results = [org_collect_now(organization=org) for org in queryset]
        return report_queued(self, request, results, "collect_now")

    @admin.action(description="Backfill… (choose how many months)", permissions=["operate"])
    def backfill(self, request, queryset):
        form = BackfillForm(
            request.POST if "apply" in request.POST else None,
            initial={"months": min(settings.BACKFILL_MONTHS, MAX_BACKFILL_MONTHS)},
        )
        if "apply" in request.POST and form.is_valid():
            months = form.cleaned_data["months"]
            include_final = form.cleaned_data["include_final"]
            results = [
                org_backfill(organization=org, months=months, include_final=include_final)
                for org in queryset
            ]
            return report_queued(
                self, request, results, "backfill", months_asked=months, include_final=include_final
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Backfill usage",
            "opts": self.opts,
            "form": form,
            "organizations": queryset,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "next": request.POST.get("next", ""),
        }
        return TemplateResponse(request, "admin/usage/backfill.html", context)


admin.site.unregister(Organization)
admin.site.register(Organization, CollectingOrganizationAdmin)


# --- collection runs --------------------------------------------------------------------


class RecentFailureFilter(admin.SimpleListFilter):
    title = "failures"
    parameter_name = "failing"

    def lookups(self, request, model_admin):
        return (
            ("unresolved", "Failed in the last 24 h, not collected since"),
            ("retrying", "Retrying after an error"),
        )

    def queryset(self, request, queryset):
        if self.value() == "unresolved":
            return queryset.filter(pk__in=unresolved_failures().values("pk"))
        if self.value() == "retrying":
            return queryset.filter(pk__in=retrying_runs().values("pk"))
        return queryset


@admin.register(CollectionRun)
class CollectionRunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "org_link",
        "month",
        "trigger",
        "state",
        "queued_at",
        "finished_at",
        "attempts",
        "items",
        "api_calls",
        "ratelimit_remaining",
        "short_error",
    )
    list_filter = ("state", "trigger", "error_kind", RecentFailureFilter, "queued_at")
    search_fields = ("=organization__login",)
    list_select_related = ("organization",)
    readonly_fields = ("org_link",)
    exclude = ("organization",)
    actions = ["collect_again"]
    show_full_result_count = False

    @admin.display(description="Organization", ordering="organization__login")
    def org_link(self, obj: CollectionRun) -> str:
        return link(obj.organization)

    @admin.display(description="Month", ordering="period")
    def month(self, obj: CollectionRun) -> str:
        return f"{obj.period:%Y-%m}"

    @admin.display(description="Error")
    def short_error(self, obj: CollectionRun) -> str:
        return shorten(obj.error, 100)

    @admin.action(description="Collect these months again", permissions=["operate"])
    def collect_again(self, request, queryset):
        by_org: dict[int, set] = {}
        for org_id, period in queryset.values_list("organization_id", "period"):
            by_org.setdefault(org_id, set()).add(period)
        results = [
            org_collect_months(organization=org, months=sorted(by_org[org.pk], reverse=True))
            for org in Organization.objects.filter(pk__in=by_org)
        ]
        return report_queued(self, request, results, "collect_again")


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


# --- collection machinery ---------------------------------------------------------------


@admin.register(OrgLock)
class OrgLockAdmin(ReadOnlyAdmin):
    list_display = ("organization", "holder", "acquired_at", "expires_at", "live")
    list_select_related = ("organization",)
    search_fields = ("=organization__login",)

    @admin.display(boolean=True, description="Held now")
    def live(self, obj: OrgLock) -> bool:
        return bool(obj.holder) and obj.expires_at is not None and obj.expires_at > timezone.now()


@admin.register(OrgCollectionState)
class OrgCollectionStateAdmin(ReadOnlyAdmin):
    list_display = (
        "organization",
        "refresh_requested_at",
        "backfill_started_at",
        "backfill_months",
        "extras_collected_at",
    )
    list_select_related = ("organization",)
    search_fields = ("=organization__login",)


@admin.register(EndpointAvailability)
class EndpointAvailabilityAdmin(ReadOnlyAdmin):
    list_display = ("organization", "endpoint", "available", "checked_at", "next_check_at")
    list_filter = ("endpoint", "available")
    list_select_related = ("organization",)
    search_fields = ("=organization__login",)


@admin.register(ServiceHeartbeat)
class ServiceHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ("name", "beat_seen_at", "worker_seen_at", "worker_hostname")
