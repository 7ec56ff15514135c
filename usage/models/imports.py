"""Imported usage reports (issue 15): the uploaded files and their rows (`usage.imports`)."""

from django.db import models

from accounts.models import Organization
from usage.models.fields import money_field


class ReportImport(models.Model):
    """One usage report file someone uploaded (`usage.imports`).

    ``workspace`` is the uploader when billingdash could not verify their role (GitHub
    App sign-in, App not installed): the import's rows then live in a workspace only the
    uploader sees, never in the org's data, until `usage.imports.workspace` merges them
    once the role is verified. ``verified`` says which of the two it is."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Reading the file"
        APPLYING = "applying", "Applying"
        DONE = "done", "Imported"
        PARTIAL = "partial", "Partly imported"
        FAILED = "failed", "Failed"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40, help_text="summarized, detailed, copilot...")
    uploaded_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    workspace = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Set while the uploader's role is unverified: only they see it.",
    )
    verified = models.BooleanField(default=False)
    file_name = models.CharField(max_length=300)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    path = models.CharField(max_length=500, blank=True, help_text="Stored file, until done.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent.")
    rows = models.PositiveIntegerField(default=0, help_text="Rows applied.")
    rows_read = models.PositiveIntegerField(default=0)
    months = models.JSONField(default=list, blank=True, help_text='Applied: ["2026-11"].')
    months_kept = models.JSONField(default=list, blank=True, help_text="Not applied.")
    first_day = models.DateField(null=True, blank=True)
    last_day = models.DateField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True, help_text="First 100: line, message.")
    error_count = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    merged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "created_at"], name="report_import_org")]

    def __str__(self) -> str:
        return f"{self.kind} report {self.file_name} ({self.status})"

    @property
    def in_progress(self) -> bool:
        """Queued, being read or being applied: no result to show yet."""
        return self.status in (self.Status.QUEUED, self.Status.RUNNING, self.Status.APPLYING)


class ReportItem(models.Model):
    """One row of an imported usage report, with the dimensions only reports have:
    ``user_login`` (GitHub's `username`) and ``workflow`` (`workflow_path`, with
    ``repository`` as ``owner/repo``). A table of its own rather than columns of
    `UsageItem`: the API's items and a report's rows for the same month live side by
    side (the dashboard takes its totals from one, the user and workflow dimensions from
    the other), and the API's hot table and its ingest stay as they are.

    ``workspace`` NULL: the organization's data; else an unverified uploader's own."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    workspace = models.ForeignKey(
        "accounts.User",
        null=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    report_import = models.ForeignKey(
        ReportImport,
        on_delete=models.DO_NOTHING,
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
    user_login = models.CharField(max_length=100, blank=True, default="")
    workflow = models.CharField(max_length=500, blank=True, default="")
    cost_center = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["organization", "date"], name="report_item_org_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.sku} {self.user_login} {self.net_amount}"
