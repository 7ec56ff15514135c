"""The Organization admin with its collection actions.

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
from django.template.response import TemplateResponse

from accounts.admin.helpers import audit_staff, changelist_link, finish_action
from accounts.admin.users import OrganizationAdmin
from accounts.models import Organization
from usage.admin.actions import MAX_BACKFILL_MONTHS, Queued, org_backfill, org_collect_now
from usage.admin.ops import failing_org_ids
from usage.models import CollectionRun, UsageItem


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
