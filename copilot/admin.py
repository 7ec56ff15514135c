"""Staff: each organization's budget of per-user Copilot calls (seen and set here), what
GitHub said about the seat list, and the Copilot collection of each month."""

from __future__ import annotations

from django.contrib import admin

from copilot.models import CopilotMonth, CopilotOrgState


@admin.register(CopilotOrgState)
class CopilotOrgStateAdmin(admin.ModelAdmin):
    list_display = (
        "organization",
        "user_calls_per_day",
        "calls_day",
        "calls_used",
        "seats",
        "seats_checked_at",
    )
    list_editable = ("user_calls_per_day",)
    fields = (
        "organization",
        "user_calls_per_day",
        "calls_day",
        "calls_used",
        "seats",
        "seats_detail",
        "seats_checked_at",
    )
    readonly_fields = (
        "organization",
        "calls_day",
        "calls_used",
        "seats",
        "seats_detail",
        "seats_checked_at",
    )
    search_fields = ("organization__login",)

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(CopilotMonth)
class CopilotMonthAdmin(admin.ModelAdmin):
    list_display = (
        "organization",
        "period",
        "endpoint",
        "state",
        "attempts",
        "api_calls",
        "collected_at",
    )
    list_filter = ("state", "endpoint")
    search_fields = ("organization__login",)
    readonly_fields = [f.name for f in CopilotMonth._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
