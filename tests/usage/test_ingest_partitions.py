"""Large months as partitions of their own (`usage.collection.partitions`, PostgreSQL):
an org is promoted once a month is large, its months are then loaded as tables and
swapped in; a failure keeps the old partition, other orgs are untouched, and a reader in
another connection sees the old month or the new one, never part of one."""

from __future__ import annotations

import importlib
import threading
import time
from datetime import date
from decimal import Decimal

import psycopg
import pytest
from django.db import connection
from django.db.models import Sum

from billingdash.github import MalformedResponse
from tests.factories import OrganizationFactory
from usage.admin.tables import CappedCountPaginator
from usage.collection import partitions
from usage.collection.ingest import month_bounds, month_replace
from usage.models import DailyUsage, MonthlyRepositoryUsage, UsageItem

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="partitions are PostgreSQL's"
)

SEP, OCT = date(2026, 9, 1), date(2026, 10, 1)


def item(day: int, n: int = 1, month: int = 10, repo: str = "acme/api") -> dict:
    return {
        "date": f"2026-{month:02d}-{day:02d}",
        "product": "actions",
        "sku": "actions_linux",
        "unitType": "minutes",
        "quantity": n,
        "pricePerUnit": Decimal("0.008"),
        "grossAmount": Decimal("0.008") * n,
        "discountAmount": 0,
        "netAmount": Decimal("0.008") * n,
        "organizationName": "acme",
        "repositoryName": repo,
    }


def month_items(count: int, month: int = 10, repo: str = "acme/api") -> list[dict]:
    return [item(1 + i % 28, i + 1, month, repo) for i in range(count)]


@pytest.fixture
def small_threshold(monkeypatch):
    monkeypatch.setattr(partitions, "PARTITION_MIN_ITEMS", 3)


def stored(org, month: date = OCT) -> dict:
    start, end = month_bounds(month)
    items = UsageItem.objects.filter(organization=org, date__gte=start, date__lt=end)
    return {
        "items": sorted(items.values_list("id", "quantity")),
        "daily": DailyUsage.objects.filter(
            organization=org, date__gte=start, date__lt=end
        ).aggregate(n=Sum("items"), q=Sum("quantity")),
        "repos": MonthlyRepositoryUsage.objects.filter(organization=org, month=month).count(),
    }


def exists(table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
        return cursor.fetchone()[0]


def staging_tables(org_id: int) -> list[str]:
    """The org's tables that are not partitions: staging tables left behind."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND NOT relispartition "
            "AND relname LIKE %s",
            [partitions.org_table(org_id) + "%"],
        )
        return [name for (name,) in cursor.fetchall()]


@pytest.mark.django_db
def test_a_large_month_promotes_its_org_then_months_are_swapped(small_threshold):
    org, other = OrganizationFactory(), OrganizationFactory()
    month_replace(organization_id=org.pk, period=SEP, items=month_items(2, month=9))
    month_replace(organization_id=other.pk, period=OCT, items=month_items(5))
    month_replace(organization_id=org.pk, period=OCT, items=month_items(5))
    assert not exists(partitions.org_table(org.pk))  # nothing stored was large yet
    others_before = stored(other)

    month_replace(organization_id=org.pk, period=OCT, items=month_items(4))  # promotes
    assert exists(partitions.month_table(org.pk, OCT))
    assert UsageItem.objects.filter(organization=org, date__gte=OCT).count() == 4
    # The org's earlier (small) month moved with it, readable as before.
    assert UsageItem.objects.filter(organization=org, date__lt=OCT).count() == 2
    assert stored(other) == others_before

    result = month_replace(organization_id=org.pk, period=OCT, items=month_items(7))
    assert result.items == 7
    after = stored(org)
    assert [q for _, q in after["items"]] == [Decimal(n) for n in range(1, 8)]
    assert after["daily"] == {"n": 7, "q": Decimal(28)}
    assert after["repos"] == 1
    assert UsageItem.objects.filter(organization=org, date__lt=OCT).count() == 2
    assert stored(other) == others_before
    # Readers by id (the admin, the line items' cursor) find the partition's rows.
    first_id = after["items"][0][0]
    assert UsageItem.objects.get(pk=first_id).organization_id == org.pk
    assert UsageItem.objects.order_by("-id").first().organization_id == org.pk


@pytest.mark.django_db
def test_a_malformed_item_halfway_leaves_the_old_partition(small_threshold):
    org = OrganizationFactory()
    month_replace(organization_id=org.pk, period=OCT, items=month_items(5))
    month_replace(organization_id=org.pk, period=OCT, items=month_items(6))  # promotes
    before = stored(org)
    bad = [*month_items(3), {**item(4), "quantity": "lots"}, *month_items(3)]
    with pytest.raises(MalformedResponse):
        month_replace(organization_id=org.pk, period=OCT, items=bad)
    assert stored(org) == before
    assert exists(partitions.month_table(org.pk, OCT))
    assert staging_tables(org.pk) == []


@pytest.mark.django_db
def test_partitions_of_two_orgs_do_not_interfere(small_threshold):
    one, two = OrganizationFactory(), OrganizationFactory()
    for org in (one, two):
        month_replace(organization_id=org.pk, period=OCT, items=month_items(4, repo="x/a"))
        month_replace(organization_id=org.pk, period=OCT, items=month_items(5, repo="x/a"))
    two_before = stored(two)
    month_replace(organization_id=one.pk, period=OCT, items=month_items(3, repo="x/b"))
    month_replace(organization_id=one.pk, period=SEP, items=month_items(6, month=9))
    assert stored(two) == two_before
    assert UsageItem.objects.filter(organization=one, repository="x/b").count() == 3
    assert UsageItem.objects.filter(organization=two, repository="x/b").count() == 0
    assert UsageItem.objects.filter(organization=one, date__lt=OCT).count() == 6


def _count(org_id: int) -> int:
    """The org's October items, counted by another connection (another session)."""
    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        password=settings["PASSWORD"] or None,
        autocommit=True,
    ) as other:
        row = other.execute(
            "SELECT count(*) FROM usage_usageitem WHERE organization_id = %s "
            "AND date >= '2026-10-01' AND date < '2026-11-01'",
            [org_id],
        ).fetchone()
        return row[0]


@pytest.mark.django_db(transaction=True)
def test_a_reader_sees_the_old_month_or_the_new_one(small_threshold):
    org = OrganizationFactory()
    month_replace(organization_id=org.pk, period=OCT, items=month_items(5))
    month_replace(organization_id=org.pk, period=OCT, items=month_items(6))  # promotes
    seen: list[int] = []

    def streamed():
        yield from month_items(4)
        seen.append(_count(org.pk))  # mid-stream: the old month, whole
        yield from month_items(4)

    results: list[int] = []
    reader = threading.Thread(target=lambda: results.append(_count(org.pk)))

    def before_commit(result):
        reader.start()  # after the swap, before the commit: waits for the commit
        time.sleep(0.3)
        seen.append(reader.is_alive())

    try:
        month_replace(
            organization_id=org.pk, period=OCT, items=streamed(), before_commit=before_commit
        )
        reader.join(10)
        assert seen == [6, True]
        assert results == [8]
    finally:
        partitions.drop_org(org.pk)


@pytest.mark.django_db
def test_deleting_an_org_drops_its_partitions(small_threshold):
    org, other = OrganizationFactory(), OrganizationFactory()
    for _ in range(2):
        month_replace(organization_id=org.pk, period=OCT, items=month_items(4))
    month_replace(organization_id=other.pk, period=OCT, items=month_items(4))
    table = partitions.org_table(org.pk)
    assert exists(table)
    org.delete()
    assert not exists(table)
    assert UsageItem.objects.filter(organization_id=other.pk).count() == 4


@pytest.mark.django_db
def test_the_admin_estimates_the_items_from_their_partitions(small_threshold):
    org = OrganizationFactory()
    for count in (4, 30):  # the second replace promotes the org: 30 rows in its partition
        month_replace(organization_id=org.pk, period=OCT, items=month_items(count))
    month_replace(organization_id=OrganizationFactory().pk, period=OCT, items=month_items(3))
    with connection.cursor() as cursor:  # as autovacuum does: the tables, not the parent
        cursor.execute(f"ANALYZE {partitions.month_table(org.pk, OCT)}, {partitions.REST}")
    assert CappedCountPaginator(UsageItem.objects.order_by("-id"), 10)._estimate() == 33


def collation_of(table: str) -> str | None:
    """The collation of `table`'s repository column."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.collname FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation "
            "WHERE a.attrelid = %s::regclass AND a.attname = 'repository'",
            [table],
        )
        row = cursor.fetchone()
        return row[0] if row else None


@pytest.mark.django_db
def test_repository_names_are_compared_byte_by_byte_in_every_partition(small_threshold):
    """Migration 0012: "C" is what makes the repository index cheap to build; a month's
    table must have it too (attaching refuses another), and the one-repository query
    must still be answered from that index (the query and the index agree on it)."""
    org = OrganizationFactory()
    month_replace(organization_id=org.pk, period=OCT, items=month_items(4, repo="acme/API"))
    rows = [*month_items(3, repo="acme/API"), *month_items(2, repo="acme/api")]
    month_replace(organization_id=org.pk, period=OCT, items=rows)  # promotes
    month = partitions.month_table(org.pk, OCT)
    tables = ["usage_usageitem", partitions.REST, month, "usage_monthlyrepositoryusage"]
    assert {table: collation_of(table) for table in tables} == dict.fromkeys(tables, "C")
    # Case matters, as on GitHub's side of the name.
    assert UsageItem.objects.filter(organization=org, repository="acme/API").count() == 3
    assert UsageItem.objects.filter(organization=org, repository="acme/api").count() == 2

    one_repo = UsageItem.objects.filter(
        organization=org, repository="acme/api", date__gte=OCT, date__lt=date(2026, 11, 1)
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = one_repo.explain()
        cursor.execute("SET LOCAL enable_seqscan TO DEFAULT")
    assert month in plan and "Seq Scan" not in plan, plan


@pytest.mark.django_db
def test_the_collation_migration_goes_back_and_forth_keeping_the_rows(small_threshold):
    migration = importlib.import_module("usage.migrations.0012_repository_bytewise")
    org = OrganizationFactory()
    month_replace(organization_id=org.pk, period=OCT, items=month_items(4))
    month_replace(organization_id=org.pk, period=OCT, items=month_items(5))  # promotes
    before = stored(org)
    month = partitions.month_table(org.pk, OCT)
    with connection.cursor() as cursor:  # the test's transaction: its FK checks now
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for collation, expected in (("pg_catalog.default", "default"), ('"C"', "C")):
        with connection.schema_editor() as editor:
            migration._collate(collation)(None, editor)
        assert collation_of(month) == collation_of(partitions.REST) == expected
        assert stored(org) == before
