"""Copilot's tables. Amounts are Decimal(28,10) like usage's; SKUs and units are
GitHub's identifiers (`usage.vocabulary`), models as GitHub prints them.

- `CopilotMonth`: one collection of a month's Copilot usage per org (queued → running →
  succeeded | failed), like usage's `CollectionRun` but one row per month.
- `CopilotModelMonth`: the org's month per SKU and model, from GitHub's endpoints.
- `CopilotUserMonth`: one user's month per SKU and model, from the endpoint's `user`
  filter (one call per user and month).
- `CopilotUserTotal`: a user's month (all models) with its quota, as the page reads it.
- `CopilotUserFetch`: that a user's month was asked for (also when they used nothing).
- `CopilotReportRow`: rows of an imported AI / premium-request usage report, per day,
  user, SKU and model; where a month has them they are its per-user truth.
- `CopilotSeat`: the seat list (`GET /orgs/{org}/copilot/billing/seats`) as last read.
- `CopilotOrgState`: per org: the daily budget of per-user calls (staff set it in the
  admin), the calls spent today, what GitHub last said about the seat list.
- `CopilotLock`: the lease of the org's Copilot collection (`usage.collection.locks`),
  separate from usage's so it never holds usage's collection up.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.models import Organization


def default_user_calls_per_day() -> int:
    return int(settings.COPILOT_USER_CALLS_PER_DAY)


def _amount(**kw) -> models.DecimalField:
    return models.DecimalField(max_digits=28, decimal_places=10, default=0, **kw)


class CopilotMonth(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    period = models.DateField(help_text="The month's first day.")
    endpoint = models.CharField(max_length=20, help_text="premium_request or ai_credit")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    not_before = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    api_calls = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    queued_at = models.DateTimeField(auto_now_add=True)
    collected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "period"], name="copilot_month_once")
        ]

    def __str__(self) -> str:
        return f"Copilot {self.period:%Y-%m} of {self.organization_id}: {self.state}"


class _Usage(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    sku = models.CharField(max_length=100)
    unit_type = models.CharField(max_length=50)
    model = models.CharField(max_length=200)
    quantity = _amount()
    gross_amount = _amount()
    discount_amount = _amount()
    net_amount = _amount()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.sku} {self.model} of {self.organization_id}"


class CopilotModelMonth(_Usage):
    period = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["organization", "period"])]


class CopilotUserMonth(_Usage):
    period = models.DateField()
    login = models.CharField(max_length=100)

    class Meta:
        indexes = [models.Index(fields=["organization", "period", "login"])]


class CopilotUserTotal(models.Model):
    """One user's month in one unit (all models), what the page reads: from the imported
    report where the month has one, else from the per-user calls; the included quota
    and whether the user is over it are worked out when it is written."""

    class Source(models.TextChoices):
        REPORT = "report"
        API = "api"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    period = models.DateField()
    login = models.CharField(max_length=100)
    unit_type = models.CharField(max_length=50)
    quantity = _amount()
    gross_amount = _amount()
    discount_amount = _amount()
    net_amount = _amount()
    quota = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    over = models.BooleanField(default=False)
    source = models.CharField(max_length=10, choices=Source.choices)

    class Meta:
        indexes = [models.Index(fields=["organization", "period", "login"])]

    def __str__(self) -> str:
        return f"Copilot user total of {self.organization_id} for {self.period:%Y-%m}"


class CopilotUserFetch(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    period = models.DateField()
    login = models.CharField(max_length=100)
    fetched_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "period", "login"], name="copilot_user_fetch_once"
            )
        ]

    def __str__(self) -> str:
        return f"per-user call of {self.organization_id} for {self.period:%Y-%m}"


class CopilotReportRow(_Usage):
    date = models.DateField()
    period = models.DateField(help_text="The month's first day (for the monthly reads).")
    login = models.CharField(max_length=100)
    total_monthly_quota = models.BigIntegerField(null=True, blank=True)
    exceeds_quota = models.BooleanField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "date"]),
            models.Index(fields=["organization", "period", "login"]),
        ]


class CopilotSeat(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    login = models.CharField(max_length=100)
    plan_type = models.CharField(max_length=30, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    last_activity_editor = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "login"])]

    def __str__(self) -> str:
        return f"Copilot seat of {self.organization_id}"


class CopilotOrgState(models.Model):
    class Seats(models.TextChoices):
        UNKNOWN = "unknown", "not asked yet"
        OK = "ok", "readable"
        MISSING_PERMISSION = "missing_permission", "the App lacks Copilot Business (read)"
        REFUSED = "refused", "refused by GitHub"

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    user_calls_per_day = models.PositiveIntegerField(
        default=default_user_calls_per_day,
        help_text="Per-user Copilot calls (one user, one month) allowed per UTC day.",
    )
    calls_day = models.DateField(null=True, blank=True)
    calls_used = models.PositiveIntegerField(default=0, help_text="Spent on calls_day.")
    seats = models.CharField(max_length=20, choices=Seats.choices, default=Seats.UNKNOWN)
    seats_detail = models.CharField(max_length=500, blank=True)
    seats_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "Copilot collection budget"

    def __str__(self) -> str:
        return f"Copilot budget of {self.organization_id}"


class CopilotLock(models.Model):
    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    holder = models.CharField(max_length=100, blank=True)
    acquired_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Copilot lease of {self.organization_id} held by {self.holder or 'nobody'}"
