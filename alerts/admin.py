"""Staff admin of alert channels (secrets hidden: the hint only; staff may rename a
channel or turn it off, audited), and, read-only: deliveries, rules, fired alerts (every
organization's, so staff see the "data stopped" ones too) and digests."""

from __future__ import annotations

from django.contrib import admin

from accounts.admin.helpers import AuditedAdmin, ReadOnlyAdmin, changelist_link, link, shorten

from .models import Channel, Delivery, Digest, FiredAlert, Rule


@admin.register(Channel)
class ChannelAdmin(AuditedAdmin):
    """The destination and the signing secret are neither shown nor editable."""

    list_display = ("name", "organization", "kind", "destination_hint", "enabled", "created_at")
    list_filter = ("kind", "enabled")
    search_fields = ("name", "organization__login", "destination_hint")
    list_select_related = ("organization",)
    fields = (
        "organization_link",
        "kind",
        "name",
        "destination_hint",
        "enabled",
        "created_by",
        "created_at",
        "deliveries",
    )
    readonly_fields = (
        "organization_link",
        "kind",
        "destination_hint",
        "created_by",
        "created_at",
        "deliveries",
    )

    @admin.display(description="Organization")
    def organization_link(self, obj: Channel) -> str:
        return link(obj.organization)

    @admin.display(description="Deliveries")
    def deliveries(self, obj: Channel) -> str:
        return changelist_link(Delivery, "Deliveries of this channel", channel__id__exact=obj.pk)

    def has_add_permission(self, request):
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("delivery_id", "channel", "event", "status", "attempts", "created_at")
    list_filter = ("status", "event", "channel__kind")
    search_fields = ("delivery_id", "channel__organization__login", "channel__name")
    list_select_related = ("channel",)
    fields = (
        "delivery_id",
        "channel_link",
        "event",
        "summary",
        "status",
        "attempts",
        "max_attempts",
        "next_attempt_at",
        "last_status_code",
        "error_text",
        "created_at",
        "sent_at",
    )
    readonly_fields = fields

    @admin.display(description="Channel")
    def channel_link(self, obj: Delivery) -> str:
        return link(obj.channel)

    @admin.display(description="Error")
    def error_text(self, obj: Delivery) -> str:
        return shorten(obj.error, 2000) or "-"


@admin.register(Rule)
class RuleAdmin(ReadOnlyAdmin):
    list_display = ("pk", "organization", "kind", "name", "enabled", "muted_until", "created_at")
    list_filter = ("kind", "enabled")
    search_fields = ("organization__login", "name")
    list_select_related = ("organization",)
    fields = ("organization", "kind", "name", "params", "enabled", "muted_until", "created_by")
    readonly_fields = fields


@admin.register(FiredAlert)
class FiredAlertAdmin(ReadOnlyAdmin):
    list_display = ("fired_at", "organization", "kind", "title", "muted", "acknowledged_at")
    list_filter = ("kind", "muted", ("acknowledged_at", admin.EmptyFieldListFilter))
    search_fields = ("organization__login", "title", "message")
    list_select_related = ("organization",)
    fields = (
        "organization",
        "rule",
        "kind",
        "period",
        "key",
        "title",
        "message",
        "facts",
        "fired_at",
        "muted",
        "acknowledged_at",
        "acknowledged_by",
        "deliveries_link",
    )
    readonly_fields = fields

    @admin.display(description="Deliveries")
    def deliveries_link(self, obj: FiredAlert) -> str:
        return changelist_link(Delivery, "Deliveries of this alert", alert__id__exact=obj.pk)


@admin.register(Digest)
class DigestAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "organization", "kind", "period_start", "channel", "on_demand")
    list_filter = ("kind", "on_demand")
    search_fields = ("organization__login",)
    list_select_related = ("organization", "channel")
    fields = ("organization", "channel", "kind", "period_start", "period_end", "on_demand")
    readonly_fields = fields
