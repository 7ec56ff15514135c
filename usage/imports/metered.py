"""Importing the metered usage reports (summarized and detailed) into `ReportItem`.

One pass over the file: each row is parsed (`usage.imports.parse`) and written, as a
line of COPY text, to a spool file of its month; bad rows are counted against their
month (a row whose date cannot be read, against the month of the row before it: files
are in date order) and the first 100 are kept with their line numbers. Then, in one
transaction, for each month whose rows all parsed:

- the file's days in that month (first to last date of the file: a day of the period
  without rows had no usage) are deleted from the import's scope (the org's data, or
  the uploader's workspace) and the month's spooled rows are copied in, so the days
  around the file's period stay as they were and the same file twice gives the same
  rows;
- for the org's data, the month's `UsageItem` rows and rollups are rebuilt from the
  report through the collection's fast path (`month_replace`) unless the API already
  delivered that month (`usage.imports.selectors.month_source`).

Months with a bad row are kept as they were; the `Outcome` says which. The reading and
the COPY are in `spool`, the month's rebuild in `rebuild`, the org's lease in `lease`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.db import connection, transaction

from usage import periods
from usage.collection.ingest import month_bounds
from usage.collection.locks import lease_confirm
from usage.imports.kinds import Outcome, ReportKind, register_kind
from usage.imports.lease import org_lease
from usage.imports.rebuild import month_rebuild
from usage.imports.selectors import month_source
from usage.imports.spool import Spool, copy_in, month_key, read_report
from usage.models import ReportImport, ReportItem


def _apply(
    report_import: ReportImport,
    spool: Spool,
    outcome: Outcome,
    progress: Callable[[int], None],
) -> None:
    if outcome.first_day is None:
        outcome.months_kept = sorted(spool.bad)
        return
    first, last = outcome.first_day, outcome.last_day
    covered = [month_key(m) for m in periods.months_between(first, last)]
    good = [m for m in covered if not spool.bad.get(m)]
    outcome.months = good
    outcome.months_kept = sorted({*spool.bad} - set(good))
    scope: dict[str, Any] = {"organization_id": report_import.organization_id}
    if report_import.workspace_id:
        scope["workspace_id"] = report_import.workspace_id
    else:
        scope["workspace__isnull"] = True
    with (
        org_lease(report_import.organization_id, f"import-{report_import.pk}") as keeper,
        transaction.atomic(),
    ):
        for month in good:
            start, end = month_bounds(date.fromisoformat(f"{month}-01"))
            low, high = max(first, start), min(last, date.fromordinal(end.toordinal() - 1))
            ReportItem.objects.filter(**scope, date__gte=low, date__lte=high)._raw_delete(
                using=connection.alias
            )
            if month in spool.files:
                copy_in(spool.files[month])
                outcome.rows += spool.rows[month]
        progress(96)  # the rows are in; the months' items and rollups follow
        if report_import.workspace_id is None:
            organization = report_import.organization
            for month in good:
                period = date.fromisoformat(f"{month}-01")
                if month_source(organization, period, report_rows=True) == "reports":
                    month_rebuild(organization_id=organization.pk, month=period)
        keeper.check()
        lease_confirm(organization_id=report_import.organization_id, holder=keeper.holder)


def metered_import(
    *, report_import: ReportImport, path: str, progress: Callable[[int], None]
) -> Outcome:
    """Read and apply a summarized or detailed usage report (see the module)."""
    spool, outcome = read_report(report_import, path, progress)
    try:
        progress(92)
        ReportImport.objects.filter(pk=report_import.pk).update(status=ReportImport.Status.APPLYING)
        _apply(report_import, spool, outcome, progress)
    finally:
        spool.close()
    return outcome


def _detailed(header: frozenset[str]) -> bool:
    return "model" not in header and bool({"workflow_path", "workflow_name", "usage_at"} & header)


def _summarized(header: frozenset[str]) -> bool:
    return (
        {"product", "sku", "quantity"} <= header
        and "model" not in header
        and "username" not in header
    )


register_kind(
    ReportKind("detailed", "Detailed usage report", _detailed, metered_import, priority=10)
)
register_kind(
    ReportKind("summarized", "Summarized usage report", _summarized, metered_import, priority=20)
)
