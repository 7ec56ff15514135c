"""A large month loaded beside the live table (`usage.collection.bulk_load`, PostgreSQL):
several connections COPY and index the month's new table, committed on its own, and
only the swap is in the caller's transaction. Every row arrives once whichever
connection wrote it; whatever fails (a malformed item, a value the database refuses,
the caller's transaction after the swap) leaves the old month as it was and no table
behind; a table left by a worker that died is dropped by a later load once it is old."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

import psycopg
import pytest
from django.db import DataError, OperationalError, connection
from django.db.models import Count, Sum

from billingdash.github import MalformedResponse
from tests.factories import OrganizationFactory
from tests.usage.test_ingest_partitions import OCT, item, month_items, staging_tables, stored
from usage.collection import bulk_load, partitions
from usage.collection.ingest import month_replace
from usage.models import DailyUsage, MonthlyRepositoryUsage, UsageItem

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="partitions are PostgreSQL's"
)


@pytest.fixture
def small_threshold(monkeypatch):
    monkeypatch.setattr(partitions, "PARTITION_MIN_ITEMS", 3)


@pytest.fixture
def large_org(small_threshold):
    """An org whose October is already a partition of its own."""
    org = OrganizationFactory()
    month_replace(organization_id=org.pk, period=OCT, items=month_items(5))
    month_replace(organization_id=org.pk, period=OCT, items=month_items(6))  # promotes
    assert partitions.month_table(org.pk, OCT) in _partitions(org.pk)
    return org


class Batched(list):
    """Items with GitHub's stream's `batches()`: many small chunks, so that every
    writer connection gets some."""

    def batches(self):
        for start in range(0, len(self), 7):
            yield self[start : start + 7]


def _partitions(org_id: int) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [partitions.org_table(org_id)],
        )
        return sorted(name for (name,) in cursor.fetchall())


@pytest.mark.django_db
def test_every_row_arrives_once_whichever_connection_wrote_it(large_org):
    assert bulk_load.WRITERS >= 2
    items = Batched(
        item(1 + i % 31, i + 1, repo=f"acme/r{i % 13}") for i in range(700)
    )  # 100 chunks
    result = month_replace(organization_id=large_org.pk, period=OCT, items=items)
    assert result.items == 700
    rows = UsageItem.objects.filter(organization=large_org, date__gte=OCT)
    quantities = sorted(rows.values_list("quantity", flat=True))
    assert quantities == [Decimal(n) for n in range(1, 701)]
    assert rows.aggregate(ids=Count("id", distinct=True))["ids"] == 700
    with connection.cursor() as cursor:  # each connection's rows bear its transaction id
        cursor.execute(
            f"SELECT count(DISTINCT xmin::text) FROM {partitions.month_table(large_org.pk, OCT)}"
        )
        assert cursor.fetchone()[0] == bulk_load.WRITERS
    # The rollups, written while the indexes were built, are the items' sums.
    daily = DailyUsage.objects.filter(organization=large_org, date__gte=OCT)
    assert daily.aggregate(n=Sum("items"), q=Sum("quantity")) == {
        "n": 700,
        "q": Decimal(700 * 701 // 2),
    }
    assert MonthlyRepositoryUsage.objects.filter(organization=large_org, month=OCT).count() == 13
    # The new month is the org's partition, with the parent's three indexes.
    assert _partitions(large_org.pk) == [
        partitions.month_table(large_org.pk, OCT),
        partitions.org_table(large_org.pk) + "_rest",
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_index WHERE indrelid = to_regclass(%s)",
            [partitions.month_table(large_org.pk, OCT)],
        )
        assert cursor.fetchone()[0] == len(partitions.INDEXES)
    assert staging_tables(large_org.pk) == []


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        # A repository name longer than the column's 300 characters: refused by the
        # database in the middle of one loader's COPY.
        (item(3, repo="acme/" + "x" * 400), DataError),
        # An amount that is not a number: refused by the worker between two chunks.
        ({**item(4), "netAmount": "lots"}, MalformedResponse),
    ],
    ids=["refused-by-the-database", "malformed"],
)
@pytest.mark.django_db
def test_a_bad_item_after_many_chunks_leaves_the_old_month_and_no_table(large_org, bad, error):
    before = stored(large_org)
    items = Batched([*month_items(60), bad, *month_items(60)])
    with pytest.raises(error):
        month_replace(organization_id=large_org.pk, period=OCT, items=items)
    assert stored(large_org) == before
    assert staging_tables(large_org.pk) == []


@pytest.mark.django_db
def test_a_failure_after_the_swap_keeps_the_old_month_and_drops_the_new_table(large_org):
    before = stored(large_org)

    def before_commit(result):
        assert stored(large_org)["daily"]["n"] == 9  # swapped in, not committed
        raise RuntimeError("the run could not be recorded")

    with pytest.raises(RuntimeError):
        month_replace(
            organization_id=large_org.pk,
            period=OCT,
            items=month_items(9),
            before_commit=before_commit,
        )
    assert stored(large_org) == before
    assert staging_tables(large_org.pk) == []


@pytest.mark.django_db(transaction=True)
def test_the_sweep_drops_a_dead_workers_table_once_it_is_old(small_threshold):
    org = OrganizationFactory()
    now = int(time.time())
    month = partitions.month_table(org.pk, OCT)
    old = f"{month}_n{now - bulk_load.STAGING_MAX_AGE - 60}_aaaaaa"
    recent = f"{month}_n{now - 60}_bbbbbb"  # maybe another worker's load in progress
    with connection.cursor() as cursor:
        for name in (old, recent):
            cursor.execute(partitions.staging_ddl(org.pk, OCT, date(2026, 11, 1), name))
    try:
        month_replace(organization_id=org.pk, period=OCT, items=month_items(5))
        month_replace(organization_id=org.pk, period=OCT, items=month_items(6))  # large
        assert staging_tables(org.pk) == [recent]
        assert bulk_load.staging_sweep(org.pk) == []
    finally:
        bulk_load.staging_discard(recent)
        partitions.drop_org(org.pk)
    assert staging_tables(org.pk) == []


@pytest.mark.django_db
def test_amounts_finer_than_stored_are_summed_as_stored_while_the_indexes_build(large_org):
    # GitHub's long floats: more decimal places than the columns keep. Each item is
    # stored rounded; the rollups must be the sums of what is stored.
    items = Batched(
        {
            **item(1 + i % 28, 1),
            "netAmount": Decimal("0.00800000000004"),
            "quantity": Decimal("1.00000000006"),
        }
        for i in range(70)
    )
    month_replace(organization_id=large_org.pk, period=OCT, items=items)
    stored_items = UsageItem.objects.filter(organization=large_org, date__gte=OCT)
    assert stored_items.aggregate(n=Sum("net_amount"))["n"] == Decimal("0.5600000000")
    assert set(stored_items.values_list("quantity", flat=True)) == {Decimal("1.0000000001")}
    daily = DailyUsage.objects.filter(organization=large_org, date__gte=OCT)
    assert daily.aggregate(n=Sum("net_amount"), q=Sum("quantity"), i=Sum("items")) == {
        "n": Decimal("0.5600000000"),
        "q": Decimal("70.0000000070"),
        "i": 70,
    }
    repos = MonthlyRepositoryUsage.objects.get(organization=large_org, month=OCT)
    assert (repos.net_amount, repos.quantity, repos.items) == (
        Decimal("0.5600000000"),
        Decimal("70.0000000070"),
        70,
    )
    assert staging_tables(large_org.pk) == []


@pytest.mark.django_db(transaction=True)
def test_a_load_kept_waiting_for_a_lock_gives_up_and_keeps_the_old_month(
    small_threshold, monkeypatch
):
    org = OrganizationFactory()
    month_replace(organization_id=org.pk, period=OCT, items=month_items(5))
    month_replace(organization_id=org.pk, period=OCT, items=month_items(6))  # promotes
    before = stored(org)
    monkeypatch.setattr(bulk_load, "LOCK_TIMEOUT", "200ms")
    try:
        with psycopg.connect(**connection.get_connection_params()) as other:
            other.execute("LOCK TABLE usage_usageitem IN ACCESS EXCLUSIVE MODE")
            started = time.monotonic()
            with pytest.raises(OperationalError, match="lock timeout"):
                month_replace(organization_id=org.pk, period=OCT, items=month_items(7))
            assert time.monotonic() - started < 10
        assert stored(org) == before
        assert staging_tables(org.pk) == []
    finally:
        partitions.drop_org(org.pk)
