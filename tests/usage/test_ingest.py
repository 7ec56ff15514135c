"""The bulk ingest (`usage.collection.ingest.month_replace`) on its own: exact decimals, unknown
fields, missing repositories, atomic replace, rollups. Items are given directly here;
the worker tests feed it from the simulator over HTTP."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import DataError, connection
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext

from billingdash.github import MalformedResponse
from tests.factories import OrganizationFactory
from usage.collection.ingest import month_replace
from usage.models import DailyUsage, MonthlyRepositoryUsage, UsageItem

pytestmark = pytest.mark.django_db
# SQLite sums decimals as floats: only PostgreSQL's grouping is an exact reference.
exact_sums = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the database's sums are floats"
)

OCT = date(2026, 10, 1)


def item(day: int = 1, **fields):
    base = {
        "date": f"2026-10-{day:02d}T00:00:00Z",
        "product": "actions",
        "sku": "Actions Linux",
        "quantity": 3,
        "unitType": "Minutes",
        "pricePerUnit": Decimal("0.006"),
        "grossAmount": Decimal("0.018"),
        "discountAmount": Decimal("0.0000000001"),
        "netAmount": Decimal("0.0179999999"),
        "organizationName": "acme-corp",
        "repositoryName": "acme-corp/api",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not ...}


def test_exact_decimals_unknown_fields_and_no_repository():
    org = OrganizationFactory()
    result = month_replace(
        organization_id=org.pk,
        period=OCT,
        items=[
            item(1, quantity=Decimal("1.5"), newField={"nested": Decimal("0.1")}),
            item(2, repositoryName=..., product="copilot", sku="Copilot Business"),
            item(2, repositoryName=None, date="2026-10-02"),  # null, plain date
        ],
    )
    assert result.items == 3
    first, seat, plain = UsageItem.objects.filter(organization=org).order_by("pk")
    assert first.quantity == Decimal("1.5")
    assert first.discount_amount == Decimal("0.0000000001")
    assert first.extra == {"newField": {"nested": "0.1"}}
    assert seat.repository == "" and seat.extra is None and seat.date == date(2026, 10, 2)
    assert plain.repository == "" and plain.date == date(2026, 10, 2)
    total = UsageItem.objects.filter(organization=org).aggregate(s=Sum("net_amount"))["s"]
    assert total == Decimal("0.0179999999") * 3


def test_rollups_match_the_items():
    org = OrganizationFactory()
    items = [item(d, repositoryName=f"acme-corp/r{d % 3}") for d in range(1, 29)]
    items += [item(5, sku="Actions Windows", netAmount=Decimal("1.25"))]
    month_replace(organization_id=org.pk, period=OCT, items=items)
    daily = DailyUsage.objects.filter(organization=org)
    repos = MonthlyRepositoryUsage.objects.filter(organization=org)
    assert daily.count() == 29 and repos.count() == 4
    for rows in (daily, repos):
        sums = rows.aggregate(n=Sum("net_amount"), items=Sum("items"))
        assert sums == {"n": Decimal("0.0179999999") * 28 + Decimal("1.25"), "items": 29}
    assert repos.get(repository="acme-corp/r1", sku="actions_linux").items == 10


def test_a_rerun_gives_the_same_rows_and_other_months_are_untouched():
    org = OrganizationFactory()
    month_replace(organization_id=org.pk, period=date(2026, 9, 1), items=[item(date="2026-09-30")])
    items = [item(d) for d in range(1, 11)]
    month_replace(organization_id=org.pk, period=OCT, items=items)
    before = list(UsageItem.objects.filter(organization=org).values_list("date", "net_amount"))
    month_replace(organization_id=org.pk, period=OCT, items=items)
    after = list(UsageItem.objects.filter(organization=org).values_list("date", "net_amount"))
    assert sorted(before) == sorted(after) and len(after) == 11
    assert DailyUsage.objects.filter(organization=org).count() == 11


def test_a_failure_midway_keeps_the_previous_month_exactly():
    org = OrganizationFactory()
    month_replace(organization_id=org.pk, period=OCT, items=[item(1), item(2)])
    snapshot = list(UsageItem.objects.filter(organization=org).order_by("pk").values())
    daily = list(DailyUsage.objects.filter(organization=org).order_by("pk").values())

    def stream():
        for d in range(1, 5000):
            yield item(1 + d % 28)
        raise MalformedResponse("usage report is invalid or truncated JSON after 4999 item(s)")

    for bad in (stream(), [item(3), item(4, quantity="lots")], [item(3), {"date": "x"}]):
        with pytest.raises(MalformedResponse):
            month_replace(organization_id=org.pk, period=OCT, items=bad)
        assert list(UsageItem.objects.filter(organization=org).order_by("pk").values()) == snapshot
        assert list(DailyUsage.objects.filter(organization=org).order_by("pk").values()) == daily


def test_an_item_outside_the_month_is_malformed():
    org = OrganizationFactory()
    with pytest.raises(MalformedResponse, match="not in the requested month"):
        month_replace(organization_id=org.pk, period=OCT, items=[item(date="2026-11-01")])


def test_strings_that_need_escaping_survive_copy():
    org = OrganizationFactory()
    odd = "tab\there\\back\nnew"
    month_replace(
        organization_id=org.pk, period=OCT, items=[item(sku=odd, repositoryName=odd, weird=odd)]
    )
    row = UsageItem.objects.get(organization=org)
    assert row.repository == odd and row.extra == {"weird": odd}
    assert row.sku == "tab_here_back_new"  # an unknown SKU, normalised, not dropped
    assert MonthlyRepositoryUsage.objects.get(organization=org).repository == odd


def _grouped(org, keys):
    """The month's sums straight from the items, by `keys`."""
    sums = dict(
        quantity=Sum("quantity"),
        gross_amount=Sum("gross_amount"),
        discount_amount=Sum("discount_amount"),
        net_amount=Sum("net_amount"),
        items=Count("id"),
    )
    rows = UsageItem.objects.filter(organization=org).values(*keys).annotate(**sums)
    return sorted(tuple(row.values()) for row in rows)


def _rollup_rows(model, org, keys):
    fields = (*keys, "quantity", "gross_amount", "discount_amount", "net_amount", "items")
    return sorted(model.objects.filter(organization=org).values_list(*fields))


def _assert_rollups_match_items(org):
    daily_keys = ("date", "product", "sku", "unit_type")
    assert _rollup_rows(DailyUsage, org, daily_keys) == _grouped(org, daily_keys)
    repo_keys = ("repository", "product", "sku")
    assert _rollup_rows(MonthlyRepositoryUsage, org, repo_keys) == _grouped(org, repo_keys)


@exact_sums
def test_rollups_equal_the_database_grouping_of_the_items():
    org = OrganizationFactory()
    items = [
        item(1),
        item(1, date="2026-10-01"),  # the same day as a timestamp and as a date
        item(1, quantity=Decimal("1.5E+3"), grossAmount=-2, netAmount=Decimal("-2.0000000001")),
        item(2, repositoryName=..., unitType="UserMonths", product="copilot"),
        item(2, repositoryName=None, quantity=0, discountAmount=...),
        item(3, sku="Actions Linux", unitType="Minutes\tweird", repositoryName="acme-corp/x\\y"),
        item(31, quantity=Decimal("99999999999999999.9999999999")),
        item(31, quantity=Decimal("99999999999999999.9999999999")),
    ]
    with CaptureQueriesContext(connection) as queries:
        month_replace(organization_id=org.pk, period=OCT, items=items)
    assert not any("GROUPING SETS" in q["sql"] for q in queries)  # summed while loading
    _assert_rollups_match_items(org)
    assert (
        DailyUsage.objects.get(organization=org, date=date(2026, 10, 1), quantity__gt=4).items == 3
    )


@exact_sums
def test_amounts_finer_than_the_columns_roll_up_as_stored():
    org = OrganizationFactory()
    # Each is stored rounded to 10 places (0); the rollups add what is stored.
    tiny = Decimal("0.00000000004")
    with CaptureQueriesContext(connection) as queries:
        month_replace(
            organization_id=org.pk,
            period=OCT,
            items=[item(1, netAmount=tiny, discountAmount=tiny) for _ in range(3)],
        )
    assert not any("GROUPING SETS" in q["sql"] for q in queries)  # rounded, then summed
    _assert_rollups_match_items(org)
    assert DailyUsage.objects.get(organization=org).net_amount == 0


@exact_sums
def test_long_floats_are_rounded_as_the_database_rounds_them():
    """GitHub's binary floats have more places than the columns: each is rounded as
    PostgreSQL stores it (half away from zero) before the rollups add it, ties included,
    so the rollups summed while loading are the stored items' sums."""
    org = OrganizationFactory()
    amounts = [
        Decimal("0.036000000000000004"),
        Decimal("0.00000000005"),  # a tie: up
        Decimal("-0.00000000005"),  # a tie below zero: down
        Decimal("1.23456789015E-3"),
        Decimal("2.5E-11"),
    ]
    with CaptureQueriesContext(connection) as queries:
        month_replace(
            organization_id=org.pk,
            period=OCT,
            items=[item(1, netAmount=a, grossAmount=a, quantity=a) for a in amounts],
        )
    assert not any("GROUPING SETS" in q["sql"] for q in queries)
    stored = sorted(UsageItem.objects.filter(organization=org).values_list("net_amount", flat=True))
    assert stored == sorted(
        Decimal(x) for x in ("0.0360000000", "0.0000000001", "-0.0000000001", "0.0012345679", "0")
    )
    _assert_rollups_match_items(org)


class _Batched:
    """An item source that hands its items over in lists, like `UsageStream.batches`."""

    def __init__(self, batches):
        self._batches = batches

    def __iter__(self):
        raise AssertionError("month_replace should take the batches")

    def batches(self):
        return iter(self._batches)


@exact_sums
def test_batched_items_are_loaded_and_checked_as_they_go():
    org = OrganizationFactory()
    checks = []
    batches = [[item(1 + i % 28, repositoryName=f"acme-corp/r{i % 7}") for i in range(3000)]] * 40
    result = month_replace(
        organization_id=org.pk,
        period=OCT,
        items=_Batched(batches),
        check=lambda: checks.append(1),
    )
    assert result.items == 120_000
    assert UsageItem.objects.filter(organization=org).count() == 120_000
    assert len(checks) == 120_000 // 50_000 + 1  # every 50,000 items, and before commit
    _assert_rollups_match_items(org)


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ({"quantity": True}, "quantity is not a number"),
        ({"pricePerUnit": "0.5"}, "pricePerUnit is not a number"),
        ({"netAmount": None}, "netAmount is not a number"),
        ({"product": ["x"]}, "product is not a string"),
        ({"repositoryName": 7}, "repositoryName is not a string"),
        ({"date": "2026-10-0x"}, "not an ISO 8601 date or time"),
        ({"date": "2026-02-30"}, "not an ISO 8601 date or time"),
        ({"date": "2026-10-31T23:00:00-02:00"}, "not in the requested month"),
        ({"date": 20261001}, "date is not a string"),
        ({"sku": ...}, "sku is missing"),
    ],
)
def test_each_bad_field_is_named(bad, why):
    org = OrganizationFactory()
    items = [item(1), item(2), item(3, **bad)]
    with pytest.raises(MalformedResponse, match=f"#3: .*{why}"):
        month_replace(organization_id=org.pk, period=OCT, items=items)
    assert not UsageItem.objects.filter(organization=org).exists()


@exact_sums
def test_an_amount_the_column_cannot_hold_is_a_data_error_and_keeps_the_month():
    org = OrganizationFactory()
    month_replace(organization_id=org.pk, period=OCT, items=[item(1)])
    with pytest.raises(DataError):
        month_replace(organization_id=org.pk, period=OCT, items=[item(2), item(3, quantity=10**30)])
    assert list(UsageItem.objects.filter(organization=org).values_list("date", flat=True)) == [
        date(2026, 10, 1)
    ]


# --- GitHub's answers as they really come (issue 12 §4) ------------------------------------


SPELLINGS = [
    # (product, sku, unitType) as the documented examples, real answers and the CSV spell them
    ("Actions", "Actions Linux", "minutes"),
    ("actions", "Actions Linux", "Minutes"),
    ("actions", "actions_linux", "minutes"),
    ("ACTIONS", "actions linux", "MINUTES"),
]


@pytest.mark.parametrize("finer", [False, True], ids=["summed-while-loading", "database-sums"])
def test_every_spelling_of_a_product_sku_and_unit_is_stored_as_one(finer):
    """ "Actions"/"actions", "Actions Linux"/"actions_linux", "Minutes"/"minutes" are one
    product, SKU and unit: one daily row, one repository row, items stored alike, whether
    the rollups are summed while loading or by the database (amounts finer than the
    columns)."""
    org = OrganizationFactory()
    net = Decimal("0.036000000000000004") if finer else Decimal("0.036")
    items = [
        item(1, product=p, sku=s, unitType=u, netAmount=net, date=d)
        for p, s, u in SPELLINGS
        for d in ("2026-10-01", "2026-10-01T00:00:00Z")
    ]
    items.append(item(1, product="Git LFS", sku="Git LFS storage", unitType="GigabyteHours"))
    items.append(item(1, product="copilot", sku="Copilot Business", unitType="UserMonths"))
    items.append(item(1, product="copilot", sku="Copilot AI Credits", unitType="credits"))
    month_replace(organization_id=org.pk, period=OCT, items=items)
    stored = UsageItem.objects.filter(organization=org)
    assert sorted(set(stored.values_list("product", "sku", "unit_type"))) == [
        ("actions", "actions_linux", "minutes"),
        ("copilot", "copilot_ai_credit", "ai-credits"),
        ("copilot", "copilot_for_business", "user-months"),
        ("git_lfs", "git_lfs_storage", "gigabyte-hours"),
    ]
    linux = DailyUsage.objects.get(organization=org, sku="actions_linux")
    assert linux.items == 8 and linux.date == date(2026, 10, 1)
    assert linux.net_amount == Decimal("0.0360000000") * 8  # each stored at 10 places
    repo = MonthlyRepositoryUsage.objects.get(organization=org, sku="actions_linux")
    assert (repo.items, repo.net_amount) == (8, linux.net_amount)
    _assert_rollups_match_items(org)


def test_dates_are_iso_days_or_times_counted_on_their_utc_day():
    org = OrganizationFactory()
    dates = {
        "2026-10-01": date(2026, 10, 1),
        "2026-10-02T00:00:00Z": date(2026, 10, 2),
        "2026-10-03T05:13:27.8766440Z": date(2026, 10, 3),  # seven digits, as one CSV has
        "2026-10-03T23:30:00-05:00": date(2026, 10, 4),  # 04:30 UTC the next day
        "2026-10-05T01:00:00+02:00": date(2026, 10, 4),  # 23:00 UTC the day before
        "2026-10-06 12:00:00": date(2026, 10, 6),  # no zone: taken as UTC
    }
    items = [item(date=text, repositoryName=text) for text in dates]
    month_replace(organization_id=org.pk, period=OCT, items=items)
    stored = dict(UsageItem.objects.filter(organization=org).values_list("repository", "date"))
    assert stored == dates
    days = DailyUsage.objects.filter(organization=org).values_list("date", "items")
    assert sorted(days) == [
        (date(2026, 10, 1), 1),
        (date(2026, 10, 2), 1),
        (date(2026, 10, 3), 1),
        (date(2026, 10, 4), 2),
        (date(2026, 10, 6), 1),
    ]


@exact_sums
def test_long_float_texts_are_the_decimals_of_their_text_stored_at_the_columns_precision():
    """A float GitHub printed with many digits is decoded from its text (never through a
    binary float) and stored rounded to the column's 10 places; the rollups add what
    was stored."""
    from billingdash.github import usage_stream

    body = (
        b'{"usageItems":[{"date":"2026-10-01T00:00:00Z","product":"actions",'
        b'"sku":"Actions storage","quantity":5.801260062,"unitType":"GigabyteHours",'
        b'"pricePerUnit":0.00033602,"grossAmount":0.0019493393940324001,'
        b'"discountAmount":9.4086E-05,"netAmount":0.036000000000000004,'
        b'"organizationName":"acme-corp","repositoryName":"acme-corp/api"}]}'
    )
    chunks = iter([body, b""])
    [batch] = list(usage_stream.decode_batches(lambda n: next(chunks)))
    assert batch[0]["quantity"] == Decimal("5.801260062")
    assert batch[0]["netAmount"] == Decimal("0.036000000000000004")
    month_replace(organization_id=org_id(), period=OCT, items=batch)
    row = UsageItem.objects.get(sku="actions_storage")
    assert row.quantity == Decimal("5.8012600620")
    assert row.gross_amount == Decimal("0.0019493394")  # ...3393|94 rounds up
    assert row.discount_amount == Decimal("0.0000940860")
    assert row.net_amount == Decimal("0.0360000000")
    assert row.unit_type == "gigabyte-hours"
    _assert_rollups_match_items(row.organization)


def org_id() -> int:
    return OrganizationFactory().pk
