"""Large months of the items table in partitions of their own (PostgreSQL only).

`usage_usageitem` is partitioned by organization (LIST, migration 0011). Most orgs' items
are in its default partition, `usage_usageitem_rest`, and a month replace deletes and
copies them there. An org with a month of `PARTITION_MIN_ITEMS` items or more gets a
partition of its own, `usage_usageitem_o<id>`, itself partitioned by month (RANGE on
date: `usage_usageitem_o<id>_<yyyymm>`, plus a default for rows written otherwise).

A month replace of such an org copies the items into a new table that has no index yet
(COPY at a bare table's speed), with a CHECK constraint that is the partition's bounds
(so attaching it scans nothing), builds its indexes in bulk (both outside the caller's
transaction, on connections of their own: `usage.collection.bulk_load`), then, in the
caller's transaction, drops the month's old partition and attaches the new one: a
failure leaves the old partition as it was; readers of the org see the old month until
the commit (from the swap on they wait for it, a few milliseconds), never half of one.

Promoting an org (its first large month) moves its rows out of the default partition,
and attaching its partition scans the default partition once (PostgreSQL checks it
holds none of the org's rows), under a lock that holds that partition's readers until
the commit: a cost paid once per large org.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import connection
from django.db.models import Sum

from usage.models import DailyUsage, UsageItem

# A month with this many items (stored, before the replace) gets its org a partition.
PARTITION_MIN_ITEMS = 100_000
ITEM_TABLE = UsageItem._meta.db_table
REST = f"{ITEM_TABLE}_rest"
# Enough to sort a million-row month's index entries in memory.
INDEX_MEMORY = "256MB"


def org_table(organization_id: int) -> str:
    return f"{ITEM_TABLE}_o{int(organization_id)}"


def month_table(organization_id: int, start: date) -> str:
    return f"{org_table(organization_id)}_{start.year:04d}{start.month:02d}"


def _exists(cursor: Any, table: str) -> bool:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
    return bool(cursor.fetchone()[0])


def is_partitioned() -> bool:
    """Is the items table partitioned here (PostgreSQL, migrated)?"""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = %s::regclass)",
            [ITEM_TABLE],
        )
        return bool(cursor.fetchone()[0])


def wanted(organization_id: int, start: date, end: date) -> bool:
    """Should this month be replaced as a partition? Yes once the org has a partition,
    or when the month already holds `PARTITION_MIN_ITEMS` items (its rollups say so)."""
    if not is_partitioned():
        return False
    with connection.cursor() as cursor:
        if _exists(cursor, org_table(organization_id)):
            return True
    stored = DailyUsage.objects.filter(
        organization_id=organization_id, date__gte=start, date__lt=end
    ).aggregate(n=Sum("items"))["n"]
    return (stored or 0) >= PARTITION_MIN_ITEMS


# The parent's indexes (migration 0011), built on a month's table before it is attached
# so that attaching adopts them. The (organization, repository, date) index costs about
# as much as the other two together.
INDEXES = (
    "(organization_id, repository, date)",
    "(organization_id, date)",
    "(id)",
)


def index_groups(connections: int) -> list[tuple[str, ...]]:
    """`INDEXES` shared out among `connections` that build them side by side: the
    costliest alone, the rest together."""
    if connections <= 1:
        return [INDEXES]
    return [INDEXES[:1], INDEXES[1:], *([()] * (connections - 2))]


def staging_ddl(organization_id: int, start: date, end: date, table: str) -> str:
    """CREATE TABLE for a new month's table: the items' columns, no index, constrained
    to the month's bounds (so attaching it scans nothing)."""
    org, first, after = int(organization_id), start.isoformat(), end.isoformat()
    return (
        f"CREATE TABLE {table} (LIKE {ITEM_TABLE} INCLUDING DEFAULTS, "
        f"CHECK (organization_id = {org} AND date >= '{first}' AND date < '{after}'))"
    )


def swap(organization_id: int, start: date, end: date, staging: str) -> None:
    """Put the loaded and indexed `staging` table in place of the month (in the
    caller's transaction)."""
    org, first, after = int(organization_id), start.isoformat(), end.isoformat()
    parent, final = org_table(org), month_table(org, start)
    with connection.cursor() as cursor:
        if not _exists(cursor, parent):
            _promote(cursor, org, first, after)
        if _exists(cursor, final):
            cursor.execute(f"DROP TABLE {final}")
        # Rows of the month written around the partitions (attaching checks there are none).
        cursor.execute(f"DELETE FROM {parent}_rest WHERE date >= %s AND date < %s", [start, end])  # noqa: S608
        cursor.execute(
            f"ALTER TABLE {parent} ATTACH PARTITION {staging} "
            f"FOR VALUES FROM ('{first}') TO ('{after}')"
        )
        cursor.execute(f"ALTER TABLE {staging} RENAME TO {final}")


def _promote(cursor: Any, org: int, first: str, after: str) -> None:
    """Give the org a partition of its own (by month), its rows moved out of the
    default partition except the month being replaced."""
    parent = org_table(org)
    columns = ", ".join(f.column for f in UsageItem._meta.concrete_fields)
    cursor.execute(
        f"CREATE TABLE {parent} (LIKE {ITEM_TABLE} INCLUDING DEFAULTS) PARTITION BY RANGE (date)"
    )
    cursor.execute(f"CREATE TABLE {parent}_rest PARTITION OF {parent} DEFAULT")
    cursor.execute(
        f"INSERT INTO {parent} ({columns}) SELECT {columns} FROM {REST} "  # noqa: S608
        "WHERE organization_id = %s AND NOT (date >= %s AND date < %s)",
        [org, first, after],
    )
    cursor.execute(f"DELETE FROM {REST} WHERE organization_id = %s", [org])  # noqa: S608
    cursor.execute(f"ALTER TABLE {ITEM_TABLE} ATTACH PARTITION {parent} FOR VALUES IN ({org})")


def drop_org(organization_id: int) -> None:
    """Drop the org's partitions, if it has any, and their rows."""
    if not is_partitioned():
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {org_table(organization_id)}")


def org_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """`post_delete` of an organization: its (emptied) partitions go too."""
    drop_org(instance.pk)
