"""Import of an AI usage / premium-request usage report file into `CopilotReportRow`.

`copilot_report_import(*, organization, path, uploaded_by=None, start=None, end=None)`
reads the file twice from disk (streamed, never whole in memory): once to check every
row and find the days it covers, then, in one transaction, it deletes the org's report
rows of exactly those days (``start``..``end`` when given, else the first to the last
date in the file) and inserts the file's rows in batches. A file that fails the check
changes nothing. Rows of another organization (an enterprise's report) are skipped and
counted. Months with imported rows take their per-user figures from them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from accounts.models import Organization
from copilot.collection.report_parser import ReportError, ReportRow, parse_report
from copilot.collection.totals import user_totals_write
from copilot.models import CopilotReportRow
from usage import periods

log = logging.getLogger(__name__)
BATCH = 5000


@dataclass
class ImportResult:
    rows: int = 0
    skipped_other_org: int = 0
    start: date | None = None
    end: date | None = None
    users: int = 0
    totals: dict[str, Decimal] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "skipped_other_org": self.skipped_other_org,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "users": self.users,
            "totals": {k: str(v) for k, v in self.totals.items()},
        }


def _ours(row: ReportRow, login: str) -> bool:
    return not row.organization or row.organization.lower() == login.lower()


def copilot_report_import(
    *,
    organization: Organization,
    path: str,
    uploaded_by: Any = None,
    start: date | None = None,
    end: date | None = None,
) -> ImportResult:
    """Raises `ReportError` (a message for the uploader) when the file cannot be read."""
    result = ImportResult()
    users: set[str] = set()
    sums = dict.fromkeys(("quantity", "gross_amount", "discount_amount", "net_amount"), Decimal(0))
    first = last = None
    for row in parse_report(path):
        if not _ours(row, organization.login):
            result.skipped_other_org += 1
            continue
        if (start and row.date < start) or (end and row.date > end):
            raise ReportError(f"the file has rows outside {start}..{end}")
        first = row.date if first is None or row.date < first else first
        last = row.date if last is None or row.date > last else last
        result.rows += 1
        users.add(row.login)
        for name in sums:
            sums[name] += getattr(row, name)
    result.start, result.end = start or first, end or last
    result.users = len(users - {""})
    result.totals = sums
    if result.start is None or result.end is None:
        return result  # nothing of this organization's: nothing replaced
    with transaction.atomic():
        CopilotReportRow.objects.filter(
            organization=organization, date__gte=result.start, date__lte=result.end
        ).delete()
        batch: list[CopilotReportRow] = []
        for row in parse_report(path):
            if not _ours(row, organization.login):
                continue
            batch.append(_model(organization, row))
            if len(batch) >= BATCH:
                CopilotReportRow.objects.bulk_create(batch)
                batch = []
        CopilotReportRow.objects.bulk_create(batch)
        for month in periods.months_between(result.start, result.end):
            user_totals_write(organization=organization, period=month)
    log.info(
        "Copilot report imported for org %s: %d rows, %s..%s (by user id %s)",
        organization.pk,
        result.rows,
        result.start,
        result.end,
        getattr(uploaded_by, "pk", None),
    )
    return result


def _model(organization: Organization, row: ReportRow) -> CopilotReportRow:
    return CopilotReportRow(
        organization=organization,
        date=row.date,
        period=periods.month_start(row.date),
        login=row.login,
        sku=row.sku,
        unit_type=row.unit_type,
        model=row.model,
        quantity=row.quantity,
        gross_amount=row.gross_amount,
        discount_amount=row.discount_amount,
        net_amount=row.net_amount,
        total_monthly_quota=row.total_monthly_quota,
        exceeds_quota=row.exceeds_quota,
    )


__all__ = ["ImportResult", "ReportError", "copilot_report_import"]
