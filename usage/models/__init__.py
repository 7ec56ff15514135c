"""Billing usage as GitHub reports it, the rollups the dashboard reads, and the record
of every collection run. Money and quantities are exact decimals, never floats. The
imported usage reports' models are in `usage.models.imports` (re-exported at the end)."""

from django.db import models

from accounts.models import Organization
from usage.models.fields import money_field


class UsageItem(models.Model):
    """One line of `GET /organizations/{org}/settings/billing/usage`.

    `repository` is "" for usage GitHub reports without `repositoryName` (Copilot
    seats, org-wide storage...). Fields GitHub may add later are kept in `extra`.

    The hot table: a large org has a million rows a month, bulk-loaded by
    `usage.ingest`. Its organization key has no database-level foreign key (the
    deferred check of a million rows doubled the commit) and no index of its own (the
    (organization, date) index serves it); Django still cascades deletes itself. On
    PostgreSQL the table is partitioned by organization, and an org with a large month
    by month too (migration 0011, `usage.collection.partitions`): `id` comes from a
    sequence and has a plain index there, not a primary key.
    """

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    date = models.DateField()
    product = models.CharField(max_length=100)
    sku = models.CharField(max_length=200)
    unit_type = models.CharField(max_length=100)
    quantity = money_field()
    price_per_unit = money_field()
    gross_amount = money_field()
    discount_amount = money_field()
    net_amount = money_field()
    repository = models.CharField(max_length=300, blank=True, default="")
    extra = models.JSONField(null=True, blank=True)

    class Meta:
        # (organization, repository, date) serves the dashboard's one-repository daily
        # view (usage.reports); it costs about a quarter of a large month's ingest time.
        indexes = [
            models.Index(fields=["organization", "date"], name="usage_item_org_date"),
            models.Index(
                fields=["organization", "repository", "date"], name="usage_item_org_repo_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.sku} {self.net_amount}"


class DailyUsage(models.Model):
    """Rollup: one row per organization, day, product, SKU and unit type."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    product = models.CharField(max_length=100)
    sku = models.CharField(max_length=200)
    unit_type = models.CharField(max_length=100)
    quantity = money_field()
    gross_amount = money_field()
    discount_amount = money_field()
    net_amount = money_field()
    items = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "date", "product", "sku", "unit_type"],
                name="daily_usage_unique",
            )
        ]
        indexes = [models.Index(fields=["organization", "date"], name="daily_usage_org_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.sku} {self.net_amount}"


class MonthlyRepositoryUsage(models.Model):
    """Rollup: one row per organization, month, repository, product and SKU."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="First day of the month.")
    repository = models.CharField(max_length=300, blank=True, default="")
    product = models.CharField(max_length=100)
    sku = models.CharField(max_length=200)
    quantity = money_field()
    gross_amount = money_field()
    discount_amount = money_field()
    net_amount = money_field()
    items = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "month", "repository", "product", "sku"],
                name="monthly_repo_usage_unique",
            )
        ]
        indexes = [models.Index(fields=["organization", "month"], name="monthly_repo_org_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.repository or '(no repository)'} {self.net_amount}"


class CollectionRun(models.Model):
    """One collection of one month of one organization's usage."""

    class Trigger(models.TextChoices):
        BACKFILL = "backfill", "Backfill after install"
        SCHEDULE = "schedule", "Schedule"
        LATE = "late", "Late adjustments (previous month)"
        MANUAL = "manual", "Refresh now"
        ADMIN = "admin", "Staff"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="collection_runs"
    )
    period = models.DateField(help_text="First day of the collected month.")
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    state = models.CharField(max_length=20, choices=State.choices, default=State.QUEUED)
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    items = models.PositiveIntegerField(default=0)
    api_calls = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    ratelimit_remaining = models.IntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    # Earliest moment of the next attempt (after a rate limit or a 5xx backoff).
    not_before = models.DateTimeField(null=True, blank=True)

    class ErrorKind(models.TextChoices):
        NONE = "", "No error"
        GITHUB_UNAVAILABLE = "github_unavailable", "GitHub not answering (5xx, timeout)"
        RATE_LIMITED = "rate_limited", "GitHub's rate limit"

    # What kind of error `error` is, when the org's status must say it in plain words
    # (usage.reporting.status): set on a 5xx/timeout retry and when giving up after them.
    error_kind = models.CharField(max_length=20, choices=ErrorKind.choices, blank=True, default="")

    ACTIVE_STATES = ("queued", "running")

    class Meta:
        indexes = [
            models.Index(fields=["organization", "state", "finished_at"], name="run_org_state"),
            models.Index(fields=["state", "queued_at"], name="run_state_queued"),
        ]
        constraints = [
            # At most one queued or running collection of a month of an org: a second
            # beat, a double click or a redelivered message find the existing run.
            models.UniqueConstraint(
                fields=["organization", "period"],
                condition=models.Q(state__in=["queued", "running"]),
                name="one_active_run_per_org_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.period:%Y-%m} {self.trigger} {self.state}"


# --- Collection machinery (issue 5) ---------------------------------------------------


class OrgLock(models.Model):
    """A lease: the one collection of this organization that may run right now.

    Claimed with a compare-and-swap ``filter(...).update(...)`` (works on SQLite too),
    renewed by a heartbeat while the holder works, and free again once `expires_at`
    passes, so a worker that was killed blocks the organization only for one lease.
    """

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    holder = models.CharField(max_length=100, blank=True, help_text='"" when free.')
    acquired_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"lock of {self.organization_id} held by {self.holder or 'nobody'}"


class OrgCollectionState(models.Model):
    """Per-organization bookkeeping of collection: refresh cool-down and backfill."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    refresh_requested_at = models.DateTimeField(null=True, blank=True)
    backfill_started_at = models.DateTimeField(null=True, blank=True)
    # Months the last backfill covers, and how many of them were already final then.
    backfill_months = models.PositiveIntegerField(default=0)
    backfill_months_skipped = models.PositiveIntegerField(default=0)
    extras_collected_at = models.DateTimeField(
        null=True, blank=True, help_text="Last time the summary and budgets were read."
    )
    # The source ladder (`usage.collection.sources`): what GitHub answered each source it
    # refused on the last collection ([{"source", "who", "status", "message", "permission",
    # "at", "unlock"}, ...]), and when the ladder last ran. The source used is on the org.
    source_refusals = models.JSONField(default=list, blank=True)
    source_checked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"collection state of {self.organization_id}"


class EndpointAvailability(models.Model):
    """Whether a billing endpoint answers for an organization. An endpoint that does not
    (400/404: not available to this org; 403: a permission is missing) is recorded with
    GitHub's answer and asked again only after `next_check_at`. ``usage`` is the usage
    report itself: an org GitHub refuses it to is not on the enhanced billing platform
    (or the endpoint is not available to it)."""

    class Endpoint(models.TextChoices):
        USAGE = "usage", "Usage report"
        SUMMARY = "summary", "Usage summary"
        BUDGETS = "budgets", "Budgets"

    class Reason(models.TextChoices):
        NONE = "", "Available"
        NOT_AVAILABLE = "not_available", "Not available to this organization (400/404)"
        MISSING_PERMISSION = "missing_permission", "A permission is missing (403)"
        REFUSED = "refused", "Refused for another reason"
        ORG_DELETED = "org_deleted", "The organization no longer exists on GitHub"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    endpoint = models.CharField(max_length=20, choices=Endpoint.choices)
    available = models.BooleanField()
    reason = models.CharField(max_length=30, choices=Reason.choices, blank=True, default="")
    checked_at = models.DateTimeField()
    next_check_at = models.DateTimeField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    status = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The HTTP status GitHub answered (None: available)."
    )
    missing_permission = models.CharField(
        max_length=200,
        blank=True,
        help_text="On a 403, GitHub's x-accepted-github-permissions (e.g. "
        "organization_administration=read).",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "endpoint"], name="endpoint_availability_unique"
            )
        ]
        verbose_name_plural = "endpoint availability"

    def __str__(self) -> str:
        return f"{self.endpoint} {'available' if self.available else 'unavailable'}"


class UsageSummary(models.Model):
    """GitHub's own totals for a month (`.../usage/summary`), per product and SKU in
    `items` (amounts as strings, exact), and their sums."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="First day of the month.")
    gross_amount = money_field()
    discount_amount = money_field()
    net_amount = money_field()
    items = models.JSONField(default=list, blank=True)
    fetched_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "month"], name="usage_summary_unique")
        ]
        verbose_name_plural = "usage summaries"

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.net_amount}"


class Budget(models.Model):
    """One budget of the organization, as GitHub last listed it."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    github_id = models.CharField(max_length=100)
    budget_type = models.CharField(max_length=50, blank=True)
    budget_scope = models.CharField(max_length=50, blank=True)
    budget_entity_name = models.CharField(max_length=300, blank=True)
    budget_amount = money_field()
    prevent_further_usage = models.BooleanField(default=False)
    # GitHub's schema says `budget_product_sku` (a string), its examples send
    # `budget_product_skus` (a list): both are folded into this list.
    product_skus = models.JSONField(default=list, blank=True)
    alerting = models.JSONField(default=dict, blank=True)
    extra = models.JSONField(null=True, blank=True)
    fetched_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "github_id"], name="budget_unique")
        ]

    def __str__(self) -> str:
        return f"budget {self.budget_entity_name or self.budget_scope} {self.budget_amount}"


class OrgDataVersion(models.Model):
    """The version of an organization's usage data: bumped in the same transaction as
    every change of its items, rollups, budgets or summary (a month replace, an import,
    a purge), so that anything derived from them (a view's aggregates, figures, API
    bodies, ETags) can be cached under (org, version) and is never stale. No row:
    version 0. `token` is a random number drawn at each bump: a database restored
    from a backup, or a test database made again, counts the same versions again, and
    the caches must not take them for the ones they saw."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    version = models.PositiveBigIntegerField(default=0)
    token = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"data version {self.version} of {self.organization_id}"


# The imported usage reports' models, registered after the ones above (as when they were
# defined here), importable from `usage.models` as Django expects of an app's models.
from usage.models.imports import ReportImport as ReportImport  # noqa: E402
from usage.models.imports import ReportItem as ReportItem  # noqa: E402
