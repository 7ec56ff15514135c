"""Users, organizations (the tenant), memberships, installations of our App, tokens,
webhook deliveries and the audit log."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from billingdash.crypto import EncryptedTextField


class User(AbstractUser):
    """A person. People who sign in with GitHub are keyed by GitHub's numeric id (logins
    can be renamed and reused); staff created with createsuperuser have none."""

    github_id = models.BigIntegerField(unique=True, null=True, blank=True)
    github_login = models.CharField(max_length=39, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)
    memberships_synced_at = models.DateTimeField(null=True, blank=True)
    # Sessions that started before this moment are ended on their next request
    # ("signed out everywhere" after a revoked token or a refused refresh).
    sessions_revoked_at = models.DateTimeField(null=True, blank=True)
    sessions_revoked_reason = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.github_login or self.username


class GitHubToken(models.Model):
    """A user's access token from sign-in, encrypted at rest. One per user and client."""

    class Client(models.TextChoices):
        APP = "app", "GitHub App"
        OAUTH = "oauth", "OAuth App"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="github_tokens")
    client = models.CharField(max_length=10, choices=Client.choices)
    access_token = EncryptedTextField()
    refresh_token = EncryptedTextField(blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    refresh_token_expires_at = models.DateTimeField(null=True, blank=True)
    scopes = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "client"], name="one_token_per_user_client")
        ]
        verbose_name = "GitHub token"

    def __str__(self) -> str:
        return f"{self.get_client_display()} token of {self.user}"


class Organization(models.Model):
    """A GitHub organization: the tenant. GitHub's id is the identity; the login is kept
    current (organizations can be renamed) and compared case-insensitively."""

    class BillingPlatform(models.TextChoices):
        UNKNOWN = "unknown", "Unknown"
        ENHANCED = "enhanced", "Enhanced billing platform"
        UNAVAILABLE = "unavailable", "Not on the enhanced billing platform"

    github_id = models.BigIntegerField(unique=True)
    login = models.CharField(max_length=39)
    name = models.CharField(max_length=200, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)
    billing_platform = models.CharField(
        max_length=20, choices=BillingPlatform.choices, default=BillingPlatform.UNKNOWN
    )
    collection_paused = models.BooleanField(default=False)
    # Written by the usage app after each successful collection (accounts never imports
    # usage, so the org list reads freshness from here).
    last_collected_at = models.DateTimeField(null=True, blank=True)
    # Written by the usage app's source ladder (`usage.collection.sources`): which source
    # the last collection used (app, user_token, owner_token, reports; "" none yet) and
    # that source in words ("from the App", "from Olivia's sign-in"...).
    collection_source = models.CharField(max_length=20, blank=True)
    collection_source_detail = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(Lower("login"), name="org_login_ci_unique")]

    def __str__(self) -> str:
        return self.login


class Membership(models.Model):
    """A user's role in an organization, as GitHub last told us, and whether the user's
    own token can read the organization's billing usage."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        BILLING_MANAGER = "billing_manager", "Billing manager"
        MEMBER = "member", "Member"

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        PENDING = "pending", "Pending"

    class TokenAccess(models.TextChoices):
        UNKNOWN = "unknown", "Not checked"
        ALLOWED = "allowed", "Can read billing"
        DENIED = "denied", "Refused"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    verified_at = models.DateTimeField(default=timezone.now)
    token_access = models.CharField(
        max_length=10, choices=TokenAccess.choices, default=TokenAccess.UNKNOWN
    )
    token_missing_permission = models.CharField(max_length=200, blank=True)
    token_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_membership")
        ]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} of {self.organization}"


# The organization permission ("Administration") GitHub's billing usage endpoints need,
# and the levels of it that can read.
BILLING_PERMISSION = "organization_administration"
BILLING_READABLE = ("read", "write")


def grants_billing(permissions: dict | None) -> bool:
    """Whether an installation's permissions (GitHub's object) can read billing usage."""
    return (permissions or {}).get(BILLING_PERMISSION) in BILLING_READABLE


class Installation(models.Model):
    """An installation of our GitHub App on an organization."""

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        MISSING_PERMISSION = "missing_permission", "Missing permission"
        NEEDS_ATTENTION = "needs_attention", "Needs attention"
        DELETED = "deleted", "Uninstalled"

    installation_id = models.BigIntegerField(unique=True)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="installations",
    )
    account_id = models.BigIntegerField()
    account_login = models.CharField(max_length=39)
    account_type = models.CharField(max_length=20, default="Organization")
    permissions = models.JSONField(default=dict, blank=True)
    events = models.JSONField(default=list, blank=True)
    repository_selection = models.CharField(max_length=20, blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.ACTIVE)
    state_reason = models.CharField(max_length=300, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    installed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Rate-limit budget GitHub reported on the installation token's last call.
    ratelimit_remaining = models.IntegerField(null=True, blank=True)
    ratelimit_reset_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"installation {self.installation_id} on {self.account_login}"

    @property
    def can_read_billing(self) -> bool:
        return self.state == self.State.ACTIVE and grants_billing(self.permissions)


class InstallRequest(models.Model):
    """Someone who is waiting for an owner to install the App on an organization."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="install_requests")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    account_login = models.CharField(max_length=39, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    installation = models.ForeignKey(
        Installation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.user} asked for {self.account_login or self.organization}"


class WebhookDelivery(models.Model):
    """One webhook delivery, stored before any work is queued (keyed by X-GitHub-Delivery)."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    delivery_id = models.CharField(max_length=100, unique=True)
    event = models.CharField(max_length=100)
    action = models.CharField(max_length=100, blank=True)
    installation_id = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    redeliveries = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["state", "received_at"])]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event}.{self.action} {self.delivery_id}"


class AuditEvent(models.Model):
    """An append-only record of a sensitive event: who did what, when."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=100, db_index=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    target = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only.")


class OrgAccessToken(models.Model):
    """A personal access token an owner added for one organization (the source ladder's
    third rung): encrypted at rest, never shown again (only its last four characters),
    used for that organization only. Its user was an owner of the org when it was added."""

    class Kind(models.TextChoices):
        CLASSIC = "classic_pat", "Classic personal access token"
        FINE_GRAINED = "fine_grained_pat", "Fine-grained personal access token"

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="access_token"
    )
    token = EncryptedTextField()
    last4 = models.CharField(max_length=4)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    github_id = models.BigIntegerField()
    github_login = models.CharField(max_length=39)
    # From GitHub's ``github-authentication-token-expiration`` header (None: no expiry).
    expires_at = models.DateTimeField(null=True, blank=True)
    added_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # What GitHub answered the last time it refused the token ("" while it works).
    refused_at = models.DateTimeField(null=True, blank=True)
    refused_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = "owner-added access token"

    def __str__(self) -> str:
        return f"token …{self.last4} of {self.github_login} for {self.organization}"
