"""Staff admin, continued (`accounts.admin` imports this): GitHub's records about us
(installations, install requests, webhook deliveries), the audit log, and the
third-party models (social-auth, groups) adjusted so no secret shows."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group
from social_django.models import Association, Nonce, UserSocialAuth

from accounts.admin.actions import recheck_installation, webhook_delivery_rearm
from accounts.admin.helpers import (
    AuditedAdmin,
    ObjectActionsAdmin,
    ReadOnlyAdmin,
    audit_staff,
    changelist_link,
    finish_action,
    link,
    pretty_json,
    shorten,
)
from accounts.models import (
    AuditEvent,
    Installation,
    InstallRequest,
    OrgAccessToken,
    WebhookDelivery,
)

# --- installations ----------------------------------------------------------------------


@admin.register(Installation)
class InstallationAdmin(ReadOnlyAdmin, ObjectActionsAdmin):
    """Written from GitHub's data (webhooks, reconciliation): re-check, never edit."""

    list_display = (
        "installation_id",
        "account_login",
        "org_link",
        "state",
        "reason",
        "ratelimit_remaining",
        "ratelimit_reset_at",
        "updated_at",
    )
    list_filter = ("state", "account_type", "repository_selection")
    search_fields = ("=installation_id", "account_login", "organization__login")
    list_select_related = ("organization",)
    exclude = ("permissions", "events")
    readonly_fields = ("org_link", "permissions_json", "events_json")
    actions = ["recheck"]
    object_actions = {"recheck": "Re-check with GitHub"}

    @admin.display(description="Organization", ordering="organization__login")
    def org_link(self, obj: Installation) -> str:
        return link(obj.organization)

    @admin.display(description="Reason")
    def reason(self, obj: Installation) -> str:
        return shorten(obj.state_reason, 80)

    @admin.display(description="Permissions")
    def permissions_json(self, obj: Installation) -> str:
        return pretty_json(obj.permissions)

    @admin.display(description="Events")
    def events_json(self, obj: Installation) -> str:
        return pretty_json(obj.events)

    @admin.action(description="Re-check with GitHub", permissions=["operate"])
    def recheck(self, request, queryset):
        lines = []
        for inst in queryset.select_related("organization"):
            recheck_installation.delay(inst.installation_id)
            audit_staff(
                request,
                "installation_recheck",
                organization=inst.organization,
                target=str(inst),
            )
            lines.append(f"{inst}: re-check with GitHub queued.")
        return finish_action(self, request, lines)


@admin.register(OrgAccessToken)
class OrgAccessTokenAdmin(ReadOnlyAdmin):
    """Tokens owners added (the source ladder's third rung): never the token itself, only
    its last four characters. Owners add and remove them on the org's sources page."""

    list_display = (
        "organization",
        "github_login",
        "kind",
        "last4",
        "expires_at",
        "last_used_at",
        "refused_reason",
    )
    search_fields = ("organization__login", "github_login")
    fields = (
        "organization",
        "github_login",
        "github_id",
        "kind",
        "last4",
        "expires_at",
        "added_by",
        "created_at",
        "last_used_at",
        "refused_at",
        "refused_reason",
    )
    readonly_fields = fields


@admin.register(InstallRequest)
class InstallRequestAdmin(ReadOnlyAdmin):
    list_display = ("user", "account_login", "organization", "created_at", "fulfilled_at")
    list_filter = (("fulfilled_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__github_login", "account_login", "organization__login")
    list_select_related = ("user", "organization")


# --- webhooks ---------------------------------------------------------------------------


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin, ObjectActionsAdmin):
    list_display = (
        "delivery_id",
        "event_action",
        "installation",
        "state",
        "attempts",
        "redeliveries",
        "received_at",
        "short_error",
    )
    list_filter = ("state", "event", "received_at")
    search_fields = ("=delivery_id", "=installation_id", "event", "action")
    exclude = ("payload",)
    readonly_fields = ("payload_json",)
    actions = ["reprocess"]
    object_actions = {"reprocess": "Reprocess"}

    def object_action_applies(self, name: str, obj: WebhookDelivery) -> bool:
        return obj.state in (WebhookDelivery.State.FAILED, WebhookDelivery.State.PENDING)

    @admin.display(description="Event", ordering="event")
    def event_action(self, obj: WebhookDelivery) -> str:
        return f"{obj.event}.{obj.action}" if obj.action else obj.event

    @admin.display(description="Installation", ordering="installation_id")
    def installation(self, obj: WebhookDelivery) -> str:
        if obj.installation_id is None:
            return "-"
        return changelist_link(
            Installation, obj.installation_id, installation_id=obj.installation_id
        )

    @admin.display(description="Error")
    def short_error(self, obj: WebhookDelivery) -> str:
        return shorten(obj.error, 80)

    @admin.display(description="Payload (secret-looking values redacted)")
    def payload_json(self, obj: WebhookDelivery) -> str:
        return pretty_json(obj.payload)

    @admin.action(description="Reprocess (failed or stuck deliveries)", permissions=["operate"])
    def reprocess(self, request, queryset):
        lines, level = [], messages.SUCCESS
        for delivery in queryset:
            previous = delivery.error
            if webhook_delivery_rearm(delivery=delivery):
                audit_staff(
                    request,
                    "webhook_reprocess",
                    target=f"delivery {delivery.delivery_id}",
                    details={"event": str(delivery), "previous_error": previous[:500]},
                )
                lines.append(f"{delivery}: queued for processing again.")
            else:
                level = messages.WARNING
                lines.append(f"{delivery}: not reprocessed, it is {delivery.state}.")
        return finish_action(self, request, lines, level)


# --- the audit log ----------------------------------------------------------------------


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Append-only: readable by staff, never added, changed or deleted (not even by a
    superuser; the model refuses updates and deletes too)."""

    list_display = ("at", "actor_link", "action", "org_link", "target", "ip_address")
    list_filter = (
        "action",
        ("actor", admin.RelatedOnlyFieldListFilter),
        ("organization", admin.RelatedOnlyFieldListFilter),
        "at",
    )
    date_hierarchy = "at"
    search_fields = ("actor_label", "action", "target", "organization__login")
    list_select_related = ("actor", "organization")
    exclude = ("details",)
    readonly_fields = ("details_json",)

    @admin.display(description="Who", ordering="actor_label")
    def actor_link(self, obj: AuditEvent) -> str:
        return link(obj.actor, obj.actor_label) if obj.actor else obj.actor_label

    @admin.display(description="Organization", ordering="organization__login")
    def org_link(self, obj: AuditEvent) -> str:
        return link(obj.organization)

    @admin.display(description="Details")
    def details_json(self, obj: AuditEvent) -> str:
        return pretty_json(obj.details)


# --- third-party models -----------------------------------------------------------------

# social-auth's OpenID tables (association secrets, nonces): GitHub sign-in is OAuth and
# never fills them; they have no place in the admin.
for _model in (Association, Nonce, UserSocialAuth):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(UserSocialAuth)
class UserSocialAuthAdmin(ReadOnlyAdmin):
    """Which GitHub account signs a user in. `extra_data` shows its keys only."""

    list_display = ("user", "provider", "uid", "created", "modified")
    list_filter = ("provider",)
    search_fields = ("=uid", "user__github_login", "user__username")
    exclude = ("extra_data",)
    readonly_fields = ("extra_data_keys",)
    list_select_related = ("user",)

    @admin.display(description="Extra data (keys only)")
    def extra_data_keys(self, obj: UserSocialAuth) -> str:
        return ", ".join(sorted(obj.extra_data or {})) or "-"


admin.site.unregister(Group)


@admin.register(Group)
class AuditedGroupAdmin(AuditedAdmin, GroupAdmin):
    pass
