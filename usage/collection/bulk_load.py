"""A large month's items loaded into a table of their own, on connections of their own
(PostgreSQL; the month is then swapped in by `usage.collection.partitions.swap`).

The new month's table is no part of the items table until it is attached, so it need
not be written inside the caller's transaction, and loading it outside lets PostgreSQL
use more than one core: `WRITERS` connections COPY the chunks side by side (each a
backend parsing its share of the rows), then build the table's indexes side by side
while the caller's connection replaces the month's rollups. Only the swap (drop the old
month, attach the new) is in the caller's transaction: readers see the old month or the
new one, never part of one, exactly as when everything ran in that transaction.

The table is committed before it is attached, so a failure must drop it: `month_load`
does when the load itself fails, the caller (`usage.collection.ingest`) with
`staging_discard` when its transaction does not commit, and one left by a worker that
died is dropped by the org's next large load once older than `STAGING_MAX_AGE`.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import psycopg
from django.db import connection

from usage.collection import partitions

logger = logging.getLogger(__name__)

# Connections that COPY (and then index) side by side: one per core of a 2-core server.
WRITERS = 2
# A staging table older than this is a leftover (a load takes seconds): dropped.
STAGING_MAX_AGE = 3600
# How long a loader's statement may wait for a lock, and dropping a leftover table.
LOCK_TIMEOUT = "60s"
DROP_LOCK_TIMEOUT = "2s"


@dataclass
class StagedMonth:
    """A month's rows committed in `table`, its indexes being built in the background."""

    table: str
    _threads: list[threading.Thread] = field(default_factory=list)
    _errors: list[BaseException] = field(default_factory=list)

    def join(self) -> None:
        """Wait for the indexes to be built (or to fail)."""
        for thread in self._threads:
            thread.join()

    def wait(self) -> None:
        """Wait for the indexes; raise (as Django's database errors) if one failed."""
        self.join()
        _raise_first(self._errors)


def _connect() -> psycopg.Connection:
    """A new connection to the same database as Django's (tests: the test database).
    It never waits for a lock longer than `LOCK_TIMEOUT`: a load that cannot proceed
    fails (and its run is retried) rather than holding a worker."""
    conn = psycopg.connect(**connection.get_connection_params())
    conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
    # Its commits need not wait for the disk: the table is of use only once the
    # collection's transaction attaches it, and that commit, written after this one's,
    # waits for the log up to itself, this connection's writes included.
    conn.execute("SET synchronous_commit = off")
    conn.commit()  # the session's settings from now on
    return conn


def _raise_first(errors: list[BaseException]) -> None:
    if errors:
        with connection.wrap_database_errors:  # psycopg's errors -> Django's
            raise errors[0]


def staging_name(organization_id: int, start: date) -> str:
    """The month's table name plus when it was made and a random tag (two loads of the
    same month never share one; the sweep reads the age from the name)."""
    made = int(time.time())
    return f"{partitions.month_table(organization_id, start)}_n{made}_{secrets.token_hex(3)}"


def staging_sweep(organization_id: int) -> list[str]:
    """Drop the org's staging tables older than `STAGING_MAX_AGE`; returns their names."""
    pattern = partitions.org_table(organization_id).replace("_", r"\_") + r"\_%\_n%"
    dropped = []
    with _connect() as conn:
        conn.autocommit = True
        rows = conn.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND NOT relispartition "
            "AND relname LIKE %s",
            [pattern],
        ).fetchall()
        for (name,) in rows:
            made = name.rsplit("_n", 1)[-1].split("_")[0]
            old = made.isdigit() and time.time() - int(made) > STAGING_MAX_AGE
            if old and _drop(conn, name):
                dropped.append(name)
    return dropped


def staging_discard(table: str) -> None:
    """Drop a staging table that will not be attached (never raises: a table that
    cannot be dropped now is left to the sweep)."""
    try:
        with _connect() as conn:
            conn.autocommit = True
            _drop(conn, table)
    except psycopg.Error:
        logger.warning("staging table %s not dropped: left to the next sweep", table)


def _drop(conn: psycopg.Connection, table: str) -> bool:
    try:
        conn.execute(f"SET lock_timeout = '{DROP_LOCK_TIMEOUT}'")
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        return True
    except psycopg.errors.LockNotAvailable:
        return False


def _indexer(
    conn: psycopg.Connection, table: str, indexes: Iterable[str], errors: list[BaseException]
) -> None:
    try:
        with conn:  # commits, then closes
            conn.execute(f"SET maintenance_work_mem = '{partitions.INDEX_MEMORY}'")
            # Side by side already: no parallel workers on top (2 cores, not 6 processes).
            conn.execute("SET max_parallel_maintenance_workers = 0")
            for columns in indexes:
                conn.execute(f"CREATE INDEX ON {table} {columns}")
    except BaseException as exc:  # raised by StagedMonth.wait
        errors.append(exc)


def month_load(
    organization_id: int, start: date, end: date, columns: Iterable[str], chunks: Iterable[str]
) -> StagedMonth:
    """COPY `chunks` (text-format rows of `columns`) into a new staging table for the
    month, committed, and start building its indexes; returns when the rows are in.
    Any failure (an exception from `chunks`, a refused row) drops the table and raises."""
    staging_sweep(organization_id)
    table = staging_name(organization_id, start)
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    conns: list[psycopg.Connection] = []
    # psycopg's errors (a refused row is a DataError) raised as Django's.
    with connection.wrap_database_errors:
        with _connect() as conn:
            conn.execute(partitions.staging_ddl(organization_id, start, end, table))
        try:
            conns.extend(_connect() for _ in range(WRITERS))
            with contextlib.ExitStack() as stack:
                copies = [stack.enter_context(c.cursor().copy(sql)) for c in conns]
                # Dealt in turn from this thread: a write returns once the chunk is in
                # the socket's buffer, so each backend parses its share while the next
                # chunk is made (no writer threads: their hand-offs of the GIL cost more).
                for chunk, copy in zip(chunks, itertools.cycle(copies)):
                    copy.write(chunk)
            for conn in conns:
                conn.commit()
        except BaseException:
            for conn in conns:
                conn.close()
            staging_discard(table)
            raise
    staged = StagedMonth(table)
    for conn, indexes in zip(conns, partitions.index_groups(WRITERS), strict=True):
        thread = threading.Thread(
            target=_indexer, args=(conn, table, indexes, staged._errors), daemon=True
        )
        staged._threads.append(thread)
        thread.start()
    return staged
