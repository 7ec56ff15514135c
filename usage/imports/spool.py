"""Reading a metered usage report (summarized or detailed) into per-month spools.

One pass over the file: each row is parsed (`usage.imports.parse`) and written, as a
line of COPY text, to a spool file of its month; bad rows are counted against their
month (a row whose date cannot be read, against the month of the row before it: files
are in date order) and the first 100 are kept with their line numbers. `copy_in` then
copies one month's spool into `ReportItem` (COPY on PostgreSQL).
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable
from datetime import date
from typing import IO, Any

from django.db import connection

from usage.collection.ingest_rows import escape
from usage.imports.kinds import Outcome
from usage.imports.parse import BadRow, CsvSource, MeteredReader
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


class Spool:
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


def read_report(
    report_import: ReportImport, path: str, progress: Callable[[int], None]
) -> tuple[Spool, Outcome]:
    organization = report_import.organization
    login = organization.login
    source = CsvSource(path)
    spool, outcome = Spool(), Outcome()
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


def copy_in(handle: IO[str]) -> None:
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
