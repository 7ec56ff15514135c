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

Months with a bad row are kept as they were; the `Outcome` says which.
"""

from __future__ import annotations

import csv
import pickle
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import IO, Any

from django.db import connection, transaction
from django.db.models import Sum

from usage.collection.ingest import month_bounds, month_replace
from usage.collection.ingest_rows import escape
from usage.collection.locks import (
    LeaseKeeper,
    lease_acquire,
    lease_confirm,
    lease_release,
    new_holder,
)
from usage.imports.kinds import Outcome, ReportKind, register_kind
from usage.imports.parse import BadRow, CsvSource, MeteredReader
from usage.imports.selectors import month_source
from usage.models import ReportImport, ReportItem

MAX_ERRORS = 100
PROGRESS_EVERY = 20_000
COPY_CHUNK = 1 << 20
ITEM_TABLE = ReportItem._meta.db_table
COLUMNS = (
    "organization_id",
    "workspace_id",
    "report_import_id",
    "date",
    "product",
    "sku",
    "unit_type",
    "quantity",
    "price_per_unit",
    "gross_amount",
    "discount_amount",
    "net_amount",
    "repository",
    "user_login",
    "workflow",
    "cost_center",
)


def _text(value: str) -> str:
    """Free text as a COPY field (escaped only when it must be: the common case is fast)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return escape(value)
    return value


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _months_between(first: date, last: date) -> list[str]:
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


class _Spool:
    """Per month: a temporary file of COPY lines, its row count and its bad rows."""

    def __init__(self) -> None:
        self.files: dict[str, IO[str]] = {}
        self.rows: dict[str, int] = {}
        self.bad: dict[str, int] = {}

    def file(self, month: str) -> IO[str]:
        handle = self.files.get(month)
        if handle is None:
            handle = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
            self.files[month] = handle
        return handle

    def close(self) -> None:
        for handle in self.files.values():
            handle.close()


def _read(
    report_import: ReportImport, path: str, progress: Callable[[int], None]
) -> tuple[_Spool, Outcome]:
    organization = report_import.organization
    login = organization.login
    source = CsvSource(path)
    spool, outcome = _Spool(), Outcome()
    try:
        header = source.header()
        reader = MeteredReader(header, login)
        lead = "\t".join(
            (
                str(organization.pk),
                str(report_import.workspace_id) if report_import.workspace_id else "\\N",
                str(report_import.pk),
            )
        )
        last_month: str | None = None
        orphans = 0  # bad rows before any good date
        others: dict[str, int] = {}
        count = 0
        rows = source.reader
        while True:
            try:
                row = next(rows)
            except StopIteration:
                break
            except csv.Error as exc:
                row, error = None, BadRow(f"not CSV: {exc}")
            else:
                error = None
            count += 1
            line = rows.line_num
            if row is not None:
                try:
                    parsed = reader.parse(row)
                    org = parsed[13]
                    if org and org.lower() != login.lower():
                        others[org] = others.get(org, 0) + 1
                        last_month = month_key(parsed[0])
                        raise BadRow(
                            f"this row is for the organization {org!r}, not {login!r}: "
                            f"upload {org}'s reports on {org}'s imports page"
                        )
                except BadRow as exc:
                    error = exc
            if error is None:
                day = parsed[0]
                month = last_month = month_key(day)
                if outcome.first_day is None or day < outcome.first_day:
                    outcome.first_day = day
                if outcome.last_day is None or day > outcome.last_day:
                    outcome.last_day = day
                # Numbers were checked (digits, point, sign, exponent): no escaping.
                _, product, sku, unit, q, p, g, d, n, repo, user, workflow, cost, _ = parsed
                spool.file(month).write(
                    f"{lead}\t{day.isoformat()}\t{_text(product)}\t{_text(sku)}\t{_text(unit)}\t"
                    f"{q}\t{p}\t{g}\t"
                    f"{d}\t{n}\t{_text(repo)}\t{_text(user)}\t{_text(workflow)}\t{_text(cost)}\n"
                )
                spool.rows[month] = spool.rows.get(month, 0) + 1
            else:
                if row is not None and not any(c.strip() for c in row) and len(row) <= 1:
                    count -= 1  # a blank line (some tools end files with one)
                    continue
                outcome.error_count += 1
                if len(outcome.errors) < MAX_ERRORS:
                    outcome.errors.append({"line": line, "message": str(error)})
                if last_month is None:
                    orphans += 1
                else:
                    spool.bad[last_month] = spool.bad.get(last_month, 0) + 1
            if count % PROGRESS_EVERY == 0:
                progress(min(90, source.bytes_read * 90 // source.size))
        if orphans:
            # Bad rows before the first readable date: blame the first month.
            first_month = month_key(outcome.first_day) if outcome.first_day else "?"
            spool.bad[first_month] = spool.bad.get(first_month, 0) + orphans
        outcome.rows_read = count
        if others:
            names = ", ".join(sorted(others))
            outcome.message = (
                f"{sum(others.values())} row(s) are for another organization ({names}) and "
                f"were refused: this page imports {login}'s usage only."
            )
    except BaseException:
        spool.close()
        raise
    finally:
        source.close()
    return spool, outcome


_UNESCAPES = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}


def _unescape(field: str) -> Any:
    if field == "\\N":
        return None
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        ch = field[i]
        if ch == "\\" and i + 1 < len(field):
            out.append(
                {"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}.get(field[i + 1], field[i + 1])
            )
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _copy_in(handle: IO[str]) -> None:
    handle.seek(0)
    if connection.vendor == "postgresql":
        sql = f"COPY {ITEM_TABLE} ({', '.join(COLUMNS)}) FROM STDIN"
        with (
            connection.cursor() as cursor,
            connection.wrap_database_errors,
            cursor.cursor.copy(sql) as copy,
        ):
            while chunk := handle.read(COPY_CHUNK):
                copy.write(chunk)
        return
    marks = ", ".join(["%s"] * len(COLUMNS))
    sql = f"INSERT INTO {ITEM_TABLE} ({', '.join(COLUMNS)}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        batch: list[tuple[Any, ...]] = []
        for text in handle:
            batch.append(tuple(_unescape(f) for f in text.rstrip("\n").split("\t")))
            if len(batch) >= 5000:
                cursor.executemany(sql, batch)
                batch.clear()
        if batch:
            cursor.executemany(sql, batch)


def month_rebuild(*, organization_id: int, month: date) -> int:
    """The org's `UsageItem` rows and rollups of `month` from its imported report rows
    (summed by day, SKU, unit, price and repository: the user and workflow stay in
    `ReportItem`), through `month_replace`. Returns the items written."""
    start, end = month_bounds(month)
    sums = (
        ReportItem.objects.filter(
            organization_id=organization_id,
            workspace__isnull=True,
            date__gte=start,
            date__lt=end,
        )
        .values("date", "product", "sku", "unit_type", "price_per_unit", "repository")
        .annotate(
            q=Sum("quantity"), g=Sum("gross_amount"), d=Sum("discount_amount"), n=Sum("net_amount")
        )
        .order_by()
    )
    with tempfile.TemporaryFile() as spool:
        _spool_sums(sums, spool)  # read in full first: the COPY will hold the connection
        return month_replace(
            organization_id=organization_id, period=start, items=_spooled_items(spool)
        ).items


def _spool_sums(sums: Any, spool: IO[bytes]) -> None:
    """The month's sums into a temporary file, in batches from a server-side cursor.
    The planner's statistics predate the rows just copied (it expects a handful and
    would sort them on disk): hash them, as `usage.collection.ingest` does."""
    postgres = connection.vendor == "postgresql"
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("SET LOCAL work_mem = '64MB'")
    try:
        _spool_rows(sums, spool)
    finally:
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_sort TO DEFAULT")
                cursor.execute("SET LOCAL work_mem TO DEFAULT")


def _spool_rows(sums: Any, spool: IO[bytes]) -> None:
    batch: list[tuple[Any, ...]] = []
    fields = ("date", "product", "sku", "unit_type", "price_per_unit", "repository")
    for row in sums.values_list(*fields, "q", "g", "d", "n").iterator(chunk_size=5000):
        batch.append(row)
        if len(batch) >= 5000:
            pickle.dump(batch, spool, protocol=pickle.HIGHEST_PROTOCOL)
            batch = []
    if batch:
        pickle.dump(batch, spool, protocol=pickle.HIGHEST_PROTOCOL)
    spool.seek(0)


def _spooled_items(spool: IO[bytes]) -> Iterator[dict[str, Any]]:
    """The spooled sums back as API-shaped items, in constant memory."""
    while True:
        try:
            rows = pickle.load(spool)  # noqa: S301 (our own file, just written)
        except EOFError:
            return
        for day, product, sku, unit, price, repo, q, g, d, n in rows:
            yield {
                "date": day.isoformat(),
                "product": product,
                "sku": sku,
                "unitType": unit,
                "quantity": q,
                "pricePerUnit": price,
                "grossAmount": g,
                "discountAmount": d,
                "netAmount": n,
                "repositoryName": repo,
            }


class OrgBusy(Exception):
    """The organization's lease stayed taken (a long collection or import)."""


LEASE_WAIT_SECONDS = 600


@contextmanager
def org_lease(organization_id: int, prefix: str, wait: float | None = None):
    """Hold the org's collection lease (`usage.collection.locks`) while writing its usage:
    an import never interleaves with a collection or another import of the same org
    (both replace days and months: interleaved, they could double rows). Waits up to
    `wait` seconds for it; yields the `LeaseKeeper` (its `holder` fences the commit)."""
    holder = new_holder(prefix)
    wait = LEASE_WAIT_SECONDS if wait is None else wait
    deadline = time.monotonic() + wait
    while not lease_acquire(organization_id=organization_id, holder=holder):
        if time.monotonic() > deadline:
            raise OrgBusy(f"organization {organization_id} stayed busy for {wait:.0f} s")
        time.sleep(1)
    try:
        with LeaseKeeper(organization_id=organization_id, holder=holder) as keeper:
            yield keeper
    finally:
        lease_release(organization_id=organization_id, holder=holder)


def _apply(
    report_import: ReportImport,
    spool: _Spool,
    outcome: Outcome,
    progress: Callable[[int], None],
) -> None:
    if outcome.first_day is None:
        outcome.months_kept = sorted(spool.bad)
        return
    first, last = outcome.first_day, outcome.last_day
    covered = _months_between(first, last)
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
                _copy_in(spool.files[month])
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
    spool, outcome = _read(report_import, path, progress)
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
