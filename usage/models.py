"""Billing usage as GitHub reports it, the rollups the dashboard reads, and the record
of every collection run. Money and quantities are exact decimals, never floats."""

from django.db import models

from accounts.models import Organization


def money_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=28, decimal_places=10, **kwargs)


class UsageItem(models.Model):
    """One line of `GET /organizations/{org}/settings/billing/usage`.

    `repository` is "" for usage GitHub reports without `repositoryName` (Copilot
    seats, org-wide storage...). Fields GitHub may add later are kept in `extra`.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
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

    class Meta:
        indexes = [
            models.Index(fields=["organization", "state", "finished_at"], name="run_org_state"),
            models.Index(fields=["state", "queued_at"], name="run_state_queued"),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.period:%Y-%m} {self.trigger} {self.state}"
