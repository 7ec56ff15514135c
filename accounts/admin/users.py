"""Staff admin for accounts: users, tokens, organizations and memberships here;
installations, webhook deliveries, the audit log and third-party models in
`accounts.admin_github` (imported below).

Secrets never appear: `GitHubToken` shows its metadata only, social-auth's
`extra_data` shows its keys only, JSON documents are shown redacted, and the OpenID
tables of social-auth (which hold association secrets; GitHub sign-in uses none) are not
in the admin. Every staff change and action is appended to the audit log
(`admin_helpers.AuditedAdmin`). The Organization admin registered here is extended by
`usage.admin` with the collection actions (accounts never imports usage).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.db.models import Count
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join

from accounts.admin.actions import (
    organizations_set_paused,
    resync_org_memberships,
    resync_user_memberships,
)
from accounts.admin.helpers import (
    AgeFilter,
    AuditedAdmin,
    ObjectActionsAdmin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    audit_staff,
    changelist_link,
    finish_action,
    link,
)
from accounts.installations.retention import org_data_deletion_date
from accounts.models import AuditEvent, GitHubToken, Installation, Membership, Organization, User
from accounts.tokens import user_sign_out_everywhere

admin.site.site_header = "billingdash staff"
admin.site.site_title = "billingdash staff"
admin.site.index_title = "Run the service"

# Organizations whose last successful collection is older than this are stale.
STALE_COLLECTION = timedelta(hours=2)


# --- users and tokens -------------------------------------------------------------------


def _queue_user_resync(modeladmin, request, users):
    lines = []
    for user in users:
        resync_user_memberships.delay(user.pk)
        audit_staff(request, "memberships_resync", target=f"user {user}")
        lines.append(f"{user}: re-sync of their GitHub roles queued.")
    return finish_action(modeladmin, request, lines)


class GitHubTokenInline(ReadOnlyInline):
    model = GitHubToken
    fields = ("client", "scopes", "expires_at", "refresh_token_expires_at", "updated_at")


class UserMembershipInline(ReadOnlyInline):
    model = Membership
    fk_name = "user"
    fields = ("organization", "role", "state", "verified_at", "token_access")


@admin.register(User)
class BillingdashUserAdmin(ObjectActionsAdmin, UserAdmin):
    list_display = (
        "username",
        "github_login",
        "github_id",
        "is_staff",
        "is_superuser",
        "memberships_synced_at",
        "last_login",
    )
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("username", "github_login", "email", "=github_id")
    # The GitHub section: written from GitHub and by sign-outs, never by hand.
    readonly_fields = (
        "github_id",
        "github_login",
        "avatar_url",
        "memberships_synced_at",
        "sessions_revoked_at",
        "sessions_revoked_reason",
        "related",
    )
    fieldsets = (*UserAdmin.fieldsets, ("GitHub", {"fields": readonly_fields}))
    inlines = [GitHubTokenInline, UserMembershipInline]
    actions = ["resync_memberships", "sign_out_everywhere"]
    object_actions = {
        "resync_memberships": "Re-sync memberships",
        "sign_out_everywhere": "Sign out everywhere",
    }

    @admin.display(description="Related")
    def related(self, obj: User) -> str:
        if obj.pk is None:
            return "-"
        return format_html(
            "{} · {}",
            changelist_link(Membership, "Memberships", user__id__exact=obj.pk),
            changelist_link(AuditEvent, "Audit events", actor__id__exact=obj.pk),
        )

    @admin.action(description="Re-sync memberships from GitHub", permissions=["operate"])
    def resync_memberships(self, request, queryset):
        return _queue_user_resync(self, request, queryset)

    @admin.action(description="Sign out everywhere", permissions=["operate"])
    def sign_out_everywhere(self, request, queryset):
        lines = []
        for user in queryset:
            reason = "A staff member ended your sessions. Please sign in again."
            user_sign_out_everywhere(user=user, reason=reason)
            audit_staff(request, "signout_everywhere", target=f"user {user}")
            lines.append(f"{user}: every session ends on its next request.")
        return finish_action(self, request, lines)


@admin.register(GitHubToken)
class GitHubTokenAdmin(AuditedAdmin):
    """Metadata only: the encrypted token fields are neither shown nor editable."""

    list_display = ("user", "client", "expires_at", "refresh_token_expires_at", "updated_at")
    list_filter = ("client",)
    fields = ("user_link", "client", "scopes", "expires_at", "refresh_token_expires_at")
    readonly_fields = ("user_link", *fields[1:], "updated_at")
    search_fields = ("user__github_login", "user__username")
    list_select_related = ("user",)

    @admin.display(description="User")
    def user_link(self, obj: GitHubToken) -> str:
        return link(obj.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- organizations ----------------------------------------------------------------------


class CollectionFreshnessFilter(AgeFilter):
    title = "last collection"
    parameter_name = "collected"
    field = "last_collected_at"
    fresh_label = "Within 2 hours"
    stale_label = "Stale (older than 2 hours or never)"

    def max_age(self) -> timedelta:
        return STALE_COLLECTION


class OrgInstallationInline(ReadOnlyInline):
    model = Installation
    fields = ("installation", "state", "state_reason", "ratelimit_remaining", "updated_at")

    @admin.display(description="Installation")
    def installation(self, obj: Installation) -> str:
        return link(obj, obj.installation_id)


class OrgMembershipInline(ReadOnlyInline):
    model = Membership
    fields = ("member", "role", "state", "verified_at", "token_access", "token_checked_at")

    @admin.display(description="User")
    def member(self, obj: Membership) -> str:
        return link(obj.user)


PLATFORM_SHORT = {
    Organization.BillingPlatform.ENHANCED: "Enhanced",
    Organization.BillingPlatform.UNAVAILABLE: "Not enhanced",
    Organization.BillingPlatform.UNKNOWN: "Not checked yet",
}


class OrganizationAdmin(ObjectActionsAdmin):
    # Fits 1366 px with the navigation and filter sidebars open: the name under the login,
    # short labels, the GitHub id on the change page (and searchable) only.
    list_display = (
        "organization",
        "platform",
        "paused",
        "last_collected",
        "installation_state",
        "members",
    )
    list_display_links = ("organization",)
    list_filter = ("collection_paused", "billing_platform", CollectionFreshnessFilter)
    search_fields = ("login", "name", "=github_id", "=installations__installation_id")
    fields = (
        "login",
        "name",
        "github_id",
        "billing_platform",
        "collection_paused",
        "last_collected_at",
        "collection_source",
        "collection_source_detail",
        "data_deletion",
        "created_at",
        "updated_at",
        "related",
    )
    readonly_fields = tuple(f for f in fields if f != "collection_paused")
    inlines = [OrgInstallationInline, OrgMembershipInline]
    actions = ["resync_memberships", "pause_collection", "resume_collection"]
    object_actions = {
        "resync_memberships": "Re-sync memberships",
        "pause_collection": "Pause collection",
        "resume_collection": "Resume collection",
    }

    def object_action_applies(self, name: str, obj: Organization) -> bool:
        if name == "pause_collection":
            return not obj.collection_paused
        if name == "resume_collection":
            return obj.collection_paused
        return True

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(member_count=Count("memberships", distinct=True))
            .prefetch_related("installations")
        )

    def has_add_permission(self, request):
        return False  # organizations come from GitHub

    def has_delete_permission(self, request, obj=None):
        return False  # would drop its usage history; pause it instead

    @admin.display(description="Data deleted on")
    def data_deletion(self, obj: Organization) -> str:
        due = org_data_deletion_date(organization=obj) if obj.pk else None
        if due is None:
            return "- (the App is installed, or was never installed)"
        return f"{date_format(due, 'j F Y')}: uninstalled, unless the App is installed again"

    @admin.display(description="Organization", ordering="login")
    def organization(self, obj: Organization) -> str:
        if not obj.name or obj.name == obj.login:
            return obj.login
        return format_html('{}<div class="quiet small">{}</div>', obj.login, obj.name)

    @admin.display(description="Billing platform", ordering="billing_platform")
    def platform(self, obj: Organization) -> str:
        return PLATFORM_SHORT.get(obj.billing_platform, obj.get_billing_platform_display())

    @admin.display(description="Paused", boolean=True, ordering="collection_paused")
    def paused(self, obj: Organization) -> bool:
        return obj.collection_paused

    @admin.display(description="Last collected", ordering="last_collected_at")
    def last_collected(self, obj: Organization) -> str:
        if obj.last_collected_at is None:
            return "never"
        # The source in words ("from the App", "from Olivia's sign-in") under the time.
        return format_html(
            '<span title="{}">{}</span><br><span class="quiet">{}</span>',
            obj.last_collected_at.isoformat(timespec="seconds"),
            naturaltime(obj.last_collected_at),
            obj.collection_source_detail,
        )

    @admin.display(description="Members", ordering="member_count")
    def members(self, obj: Organization) -> str:
        return changelist_link(Membership, obj.member_count, organization__id__exact=obj.pk)

    @admin.display(description="App")
    def installation_state(self, obj: Organization) -> str:
        live = [i for i in obj.installations.all() if i.state != Installation.State.DELETED]
        if not live:
            return "not installed"
        return format_html_join(", ", "{}", ((link(i, i.get_state_display()),) for i in live))

    def related_links(self, obj: Organization) -> list[str]:
        return [
            changelist_link(Membership, "Memberships", organization__id__exact=obj.pk),
            changelist_link(Installation, "Installations", organization__id__exact=obj.pk),
            changelist_link(AuditEvent, "Audit events", organization__id__exact=obj.pk),
        ]

    @admin.display(description="Related")
    def related(self, obj: Organization) -> str:
        if obj.pk is None:
            return "-"
        return format_html_join(" · ", "{}", ((item,) for item in self.related_links(obj)))

    @admin.action(description="Re-sync memberships of every known member", permissions=["operate"])
    def resync_memberships(self, request, queryset):
        lines = []
        for org in queryset:
            resync_org_memberships.delay(org.pk)
            audit_staff(request, "memberships_resync", organization=org, target=f"org {org}")
            lines.append(
                f"{org}: re-sync queued (members with a GitHub sign-in are asked again, "
                "the others must be re-checked on their next visit)."
            )
        return finish_action(self, request, lines)

    def _set_paused(self, request, queryset, paused: bool):
        changed = organizations_set_paused(organizations=queryset, paused=paused)
        verb = "collection_paused" if paused else "collection_resumed"
        for org in changed:
            audit_staff(request, verb, organization=org, target=f"org {org}")
        if paused:
            what = "paused: the schedule skips them and their queued runs are skipped"
        else:
            what = "resumed: the hourly schedule collects them again (or use Collect now)"
        names = ", ".join(str(org) for org in changed) or "none changed"
        return finish_action(self, request, [f"Collection {what}. Changed: {names}."])

    @admin.action(description="Pause collection", permissions=["operate"])
    def pause_collection(self, request, queryset):
        return self._set_paused(request, queryset, True)

    @admin.action(description="Resume collection", permissions=["operate"])
    def resume_collection(self, request, queryset):
        return self._set_paused(request, queryset, False)


admin.site.register(Organization, OrganizationAdmin)


class MembershipFreshnessFilter(AgeFilter):
    title = "verification"
    parameter_name = "verified"
    field = "verified_at"
    fresh_label = "Verified recently"
    stale_label = "Stale (re-checked on next visit)"

    def max_age(self) -> timedelta:
        return timedelta(seconds=settings.MEMBERSHIP_TTL_SECONDS)


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    """Roles are GitHub's: re-sync them, never edit them by hand."""

    list_display = ("user_link", "org_link", "role", "state", "verified_at", "token_access")
    list_filter = ("role", "state", "token_access", MembershipFreshnessFilter)
    search_fields = ("user__github_login", "user__username", "organization__login")
    list_select_related = ("user", "organization")
    actions = ["resync_memberships"]

    @admin.display(description="User", ordering="user__github_login")
    def user_link(self, obj: Membership) -> str:
        return link(obj.user)

    @admin.display(description="Organization", ordering="organization__login")
    def org_link(self, obj: Membership) -> str:
        return link(obj.organization)

    @admin.action(description="Re-sync these users' memberships", permissions=["operate"])
    def resync_memberships(self, request, queryset):
        users = User.objects.filter(memberships__in=queryset).distinct()
        return _queue_user_resync(self, request, users)
