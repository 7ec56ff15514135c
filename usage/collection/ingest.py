"""The hot path: replace one month of one organization's usage, atomically.

Items stream in from `billingdash.github.iter_billing_usage` (exact `int`/`Decimal`
numbers, in batches of a few thousand when the stream offers ``batches()``) and go
straight to the database without ever becoming model objects: PostgreSQL gets a
``COPY usage_usageitem FROM STDIN`` (psycopg 3), SQLite an ``executemany`` in chunks;
a large month (`usage.collection.partitions`) is copied into a new table of its own by
two connections side by side, indexed in bulk there (`usage.collection.bulk_load`) and
swapped in for the old partition instead. The rollups the
dashboard reads (`DailyUsage`, `MonthlyRepositoryUsage`) are replaced for that month
in the same transaction, so the new month (items and rollups) appears at once, and
anything that fails, a malformed item halfway through included, leaves the previous
month exactly as it was.

On PostgreSQL the rollups are summed while the items stream (exact `Decimal` sums of
the amounts as stored, GitHub's long binary floats rounded to the columns' 10 decimal
places first) and copied in, so the database, the resource every worker shares, does
not scan the month again (measured: its GROUPING SETS over a million items cost more
than the index builds it ran beside). Were a sum not exact (more digits than its
context holds) they are computed with ``INSERT ... SELECT ... GROUP BY GROUPING SETS``
instead, as on SQLite. Validating the
items, formatting their rows and summing the rollups on the way is `usage.ingest_rows`;
this module is the database side (delete, COPY or INSERT, rollups) and the transaction
around it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from usage import periods
from usage.collection import bulk_load, partitions
from usage.collection.ingest_rows import ROW_COLUMNS, Rows, escape
from usage.collection.versions import org_data_version_bump
from usage.models import DailyUsage, MonthlyRepositoryUsage, UsageItem

# Items per batch when the caller's iterable has no `batches()`.
BATCH = 2_000
SQLITE_CHUNK = 5_000

ITEM_TABLE = UsageItem._meta.db_table
DAILY_TABLE = DailyUsage._meta.db_table
REPO_TABLE = MonthlyRepositoryUsage._meta.db_table
_SUM_COLUMNS = ("quantity", "gross_amount", "discount_amount", "net_amount", "items")
DAILY_COLUMNS = ("organization_id", "date", "product", "sku", "unit_type", *_SUM_COLUMNS)
REPO_COLUMNS = ("organization_id", "month", "repository", "product", "sku", *_SUM_COLUMNS)


def _item_columns() -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """The items table's columns as the model has them (its id aside): those a row
    holds (`ROW_COLUMNS`), then any other with its default (a column added to the
    model is filled without touching this module)."""
    fields = [f for f in UsageItem._meta.concrete_fields if not f.primary_key]
    others = [f for f in fields if f.column not in ROW_COLUMNS]
    missing = set(ROW_COLUMNS) - {f.column for f in fields}
    assert not missing, f"ROW_COLUMNS names columns UsageItem does not have: {missing}"
    return (*ROW_COLUMNS, *(f.column for f in others)), tuple(f.get_default() for f in others)


ITEM_COLUMNS, ITEM_DEFAULTS = _item_columns()


@dataclass(frozen=True)
class IngestResult:
    items: int


def month_bounds(period: date) -> tuple[date, date]:
    """First day of `period`'s month and of the next month."""
    start = periods.month_start(period)
    return start, periods.add_months(start, 1)


def _batches(items: Iterable[Any]) -> Iterator[list[Any]]:
    """The items in lists: the stream's own batches when it has them."""
    batches = getattr(items, "batches", None)
    if callable(batches):
        yield from batches()
        return
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, BATCH)):
        yield batch


def _copy(cursor: Any, table: str, columns: Iterable[str], chunks: Iterable[str]) -> None:
    # psycopg's own cursor: its errors made Django's (a refused value is a DataError).
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
        for chunk in chunks:
            copy.write(chunk)


def _replace_postgresql(
    rows: Rows, start: date, end: date, chunks: Iterable[str], staged: list[str]
) -> None:
    """Delete the month's items and rollups, COPY the items in (`chunks`, made by
    `rows`, which sums the rollups on the way) and then the rollups: into the items
    table, or, for a large month, into a table of its own loaded and indexed on other
    connections while the rollups are written here, then swapped in
    (`usage.collection.bulk_load`, `usage.collection.partitions`). The staging table's
    name is appended to `staged` (the caller drops it if its transaction does not
    commit)."""
    org = rows.org
    if not partitions.wanted(org, start, end):
        _delete_month(org, start, end)
        with connection.cursor() as cursor:
            _copy(cursor, ITEM_TABLE, ITEM_COLUMNS, chunks)
        _write_rollups(rows, start, end)
        return
    _delete_month(org, start, end, items=False)
    month = bulk_load.month_load(org, start, end, ITEM_COLUMNS, chunks)
    staged.append(month.table)
    try:  # the rollups while the indexes build (the new rows are committed: readable here)
        _write_rollups(rows, start, end, table=month.table)
        month.wait()
    finally:
        month.join()
    partitions.swap(org, start, end, month.table)


def _write_rollups(rows: Rows, start: date, end: date, table: str = ITEM_TABLE) -> None:
    """The month's rollups, as summed while streaming when exact, else from the items
    stored in `table`."""
    if rows.sums_exact():
        _copy_rollups(rows, start)
    else:
        _rollups(rows.org, start, end, table=table)


def _copy_rollups(rows: Rows, start: date) -> None:
    """Copy the rollups summed in `rows` into their tables (PostgreSQL)."""
    org, month = str(rows.org), start.isoformat()

    def lines(groups: Iterable[tuple[tuple[str, ...], list[Any]]], *lead: str) -> str:
        return "".join(
            "\t".join((*lead, *map(escape, key), *map(str, acc[:5]))) + "\n" for key, acc in groups
        )

    with connection.cursor() as cursor:
        daily = lines(rows.daily_rollup().items(), org)
        _copy(cursor, DAILY_TABLE, DAILY_COLUMNS, [daily])
        _copy(cursor, REPO_TABLE, REPO_COLUMNS, [lines(rows.repos.items(), org, month)])


def _load_sqlite(rows: Rows, items: Iterable[Any]) -> None:
    marks = ", ".join(["%s"] * len(ITEM_COLUMNS))
    sql = f"INSERT INTO {ITEM_TABLE} ({', '.join(ITEM_COLUMNS)}) VALUES ({marks})"  # noqa: S608
    chunk: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for row in rows.rows(_batches(items)):
            # SQLite has no decimal type: pass decimals as text, SQLite keeps numerics.
            chunk.append(tuple(str(v) if type(v) is Decimal else v for v in row))
            if len(chunk) >= SQLITE_CHUNK:
                cursor.executemany(sql, chunk)
                chunk.clear()
        if chunk:
            cursor.executemany(sql, chunk)


_SUMS = "SUM(quantity), SUM(gross_amount), SUM(discount_amount), SUM(net_amount), COUNT(*)"
_ROLLUP_COLUMNS = "quantity, gross_amount, discount_amount, net_amount, items"
_IN_MONTH = "organization_id = %s AND date >= %s AND date < %s"
_DAILY_SQL = (
    f"INSERT INTO {DAILY_TABLE} (organization_id, date, product, sku, unit_type, "  # noqa: S608
    f"{_ROLLUP_COLUMNS}) SELECT organization_id, date, product, sku, unit_type, {_SUMS} "
    f"FROM {ITEM_TABLE} WHERE {_IN_MONTH} GROUP BY organization_id, date, product, sku, unit_type"
)
_REPO_SQL = (
    f"INSERT INTO {REPO_TABLE} (organization_id, month, repository, product, sku, "  # noqa: S608
    f"{_ROLLUP_COLUMNS}) SELECT organization_id, %s, repository, product, sku, {_SUMS} "
    f"FROM {ITEM_TABLE} WHERE {_IN_MONTH} GROUP BY organization_id, repository, product, sku"
)


def _both_sql(table: str) -> str:
    """PostgreSQL: both rollups from one scan of the month in `table` (GROUPING SETS)."""
    return (
        "WITH g AS MATERIALIZED (SELECT GROUPING(date) AS by_repo, date, repository, "  # noqa: S608
        "product, sku, unit_type, SUM(quantity) AS q, SUM(gross_amount) AS ga, "
        f"SUM(discount_amount) AS da, SUM(net_amount) AS na, COUNT(*) AS c FROM {table} "
        f"WHERE {_IN_MONTH} GROUP BY GROUPING SETS ((date, product, sku, unit_type), "
        "(repository, product, sku))), "
        f"daily AS (INSERT INTO {DAILY_TABLE} (organization_id, date, product, sku, unit_type, "
        f"{_ROLLUP_COLUMNS}) SELECT %s, date, product, sku, unit_type, q, ga, da, na, c "
        "FROM g WHERE by_repo = 0) "
        f"INSERT INTO {REPO_TABLE} (organization_id, month, repository, product, sku, "
        f"{_ROLLUP_COLUMNS}) SELECT %s, %s, repository, product, sku, q, ga, da, na, c "
        "FROM g WHERE by_repo = 1"
    )


def _rollups(organization_id: int, start: date, end: date, table: str = ITEM_TABLE) -> None:
    """The month's rollups computed by the database from its stored items (in `table`:
    the items table, or a large month's new table before it is swapped in)."""
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(_DAILY_SQL, [organization_id, start, end])
            cursor.execute(_REPO_SQL, [start, organization_id, start, end])
            return
        # The planner's statistics predate the rows just loaded (it expects a handful and
        # would sort a million). The rollups have few groups: hash them.
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")
        params = [organization_id, start, end, organization_id, organization_id, start]
        cursor.execute(_both_sql(table), params)
        cursor.execute("SET LOCAL enable_sort TO DEFAULT")
        cursor.execute("SET LOCAL work_mem TO DEFAULT")


def _delete_month(organization_id: int, start: date, end: date, items: bool = True) -> None:
    # Plain DELETEs (nothing cascades from these tables: Django's fast path).
    in_month = {"organization_id": organization_id, "date__gte": start, "date__lt": end}
    if items:
        UsageItem.objects.filter(**in_month)._raw_delete(using=connection.alias)
    DailyUsage.objects.filter(**in_month)._raw_delete(using=connection.alias)
    MonthlyRepositoryUsage.objects.filter(organization_id=organization_id, month=start)._raw_delete(
        using=connection.alias
    )


def _noop() -> None:
    return None


def month_replace(
    *,
    organization_id: int,
    period: date,
    items: Iterable[Mapping[str, Any]],
    check: Callable[[], None] = _noop,
    before_commit: Callable[[IngestResult], None] | None = None,
) -> IngestResult:
    """Replace the org's items and rollups of `period`'s month with `items`, in one
    transaction. `check` runs every `CHECK_EVERY` items and once before commit (raise
    to abort, e.g. the lease was lost); `before_commit` runs inside the transaction
    (record the run as succeeded together with its data). Any exception rolls back."""
    start, end = month_bounds(period)
    rows = Rows(organization_id, start, check, ITEM_DEFAULTS)
    staged: list[str] = []
    try:
        with transaction.atomic():
            if connection.vendor != "postgresql":
                _delete_month(organization_id, start, end)
                _load_sqlite(rows, items)
                _rollups(organization_id, start, end)
            else:
                chunks = rows.copy_text(_batches(items))
                _replace_postgresql(rows, start, end, chunks, staged)
            org_data_version_bump(organization=organization_id)
            check()
            result = IngestResult(items=rows.count)
            if before_commit is not None:
                before_commit(result)
    except BaseException:
        # A large month's table was committed on its own connection: not attached now.
        for table in staged:
            bulk_load.staging_discard(table)
        raise
    return result
