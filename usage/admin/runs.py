"""Staff admin of collection: the runs (with "collect these months again") and the
machinery behind them (per-org leases, collection state, endpoint availability, the
services' heartbeat)."""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone

from accounts.admin.helpers import ReadOnlyAdmin, link, shorten
from accounts.models import Organization
from billingdash.heartbeat import ServiceHeartbeat
from usage.admin.actions import org_collect_months
from usage.admin.ops import retrying_runs, unresolved_failures
from usage.admin.organizations import report_queued
from usage.models import CollectionRun, EndpointAvailability, OrgCollectionState, OrgLock

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
