"""Time buckets: days, ISO weeks (Monday to Sunday) and calendar months, cut to the range,
chosen from the span unless asked; summed in SQL on the daily rollup to the last decimal
(one query, whatever the number of days)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.factories import OrganizationFactory
from usage import periods
from usage.models import DailyUsage
from usage.reporting.buckets import buckets_of
from usage.reporting.filters import (
    DAY_BUCKETS_UP_TO,
    WEEK_BUCKETS_UP_TO,
    FilterError,
    auto_bucket,
    parse,
    parse_strict,
    preset_span,
)
from usage.reporting.reports import bucketed, month_split

pytestmark = pytest.mark.dates


def test_the_bucket_follows_the_span():
    assert auto_bucket(1) == auto_bucket(DAY_BUCKETS_UP_TO) == "day"
    assert auto_bucket(DAY_BUCKETS_UP_TO + 1) == auto_bucket(WEEK_BUCKETS_UP_TO) == "week"
    assert auto_bucket(WEEK_BUCKETS_UP_TO + 1) == auto_bucket(366) == "month"
    today = periods.today()
    for key, want in (("this_month", "day"), ("last_month", "day")):
        assert parse({"range": key}, today=today)[0].bucket == want, key
    # Two whole months and this one to date: weeks, but on the 1st (62 days at most).
    three = parse({"range": "3m"}, today=today)[0]
    assert three.bucket == ("day" if three.days <= DAY_BUCKETS_UP_TO else "week")
    assert parse({"range": "6m"}, today=today)[0].bucket == "week"
    assert parse({"range": "12m"}, today=today)[0].bucket == "month"
    assert parse({"range": "last_year"}, today=today)[0].bucket == "month"


def test_the_url_overrides_the_bucket_and_bad_values_are_refused():
    today = periods.today()
    filters, errors = parse({"range": "12m", "bucket": "week"}, today=today)
    assert (filters.bucket, filters.bucket_choice, errors) == ("week", "week", [])
    assert filters.params() == {"range": "12m", "bucket": "week"}
    assert "bucket" not in parse({"range": "12m"}, today=today)[0].params()
    filters, errors = parse({"range": "12m", "bucket": "fortnight"}, today=today)
    assert filters.bucket == "month" and errors == ["bucket must be one of auto, day, week, month"]
    with pytest.raises(FilterError, match="bucket must be one of"):
        parse_strict({"bucket": "year"}, today=today)


@pytest.mark.parametrize("key", ["this_month", "3m", "6m", "12m", "ytd", "last_year"])
def test_weeks_start_on_monday_and_cover_the_range_once(key):
    start, end = preset_span(key, periods.today())
    weeks = buckets_of(start, end, "week")
    assert all(w.key.weekday() == 0 for w in weeks)  # ISO: Monday
    assert weeks[0].first == start and weeks[-1].last == end
    for before, after in itertools.pairwise(weeks):
        assert after.first == before.last + timedelta(days=1)
        assert after.key - before.key == timedelta(days=7)
    inner = weeks[1:-1]
    assert all(not w.partial and (w.last - w.first).days == 6 for w in inner)
    for week in (weeks[0], weeks[-1]):
        assert week.partial == (week.first.weekday() != 0 or week.last.weekday() != 6)
    assert all(w.last <= periods.today() for w in weeks)


@pytest.mark.parametrize("key", ["12m", "last_year", "ytd"])
def test_twelve_months_are_at_most_thirteen_buckets(key):
    start, end = preset_span(key, periods.today())
    months = buckets_of(start, end, "month")
    assert len(months) <= 13
    assert all(m.key.day == 1 for m in months)
    assert months[0].first == start and months[-1].last == end
    # Calendar months: whole ones, but for the month that ends today.
    assert all(not m.partial for m in months[:-1])
    if months[-1].partial:
        assert months[-1].label.endswith("(partial)")


def test_labels_say_the_dates():
    weeks = buckets_of(date(2026, 11, 25), date(2026, 12, 6), "week")
    assert [w.label for w in weeks] == ["25–29 Nov 2026 (partial)", "30 Nov – 6 Dec 2026"]
    months = buckets_of(date(2025, 12, 7), date(2026, 2, 3), "month")
    assert [m.label for m in months] == [
        "7–31 Dec 2025 (partial)",
        "Jan 2026",
        "1–3 Feb 2026 (partial)",
    ]
    assert buckets_of(date(2028, 2, 29), date(2028, 2, 29), "day")[0].label == "2028-02-29"


def _rollup(org, days: int) -> dict[date, Decimal]:
    """`days` days of usage up to today, two products a day, amounts with 10 decimals."""
    today = periods.today()
    net: dict[date, Decimal] = {}
    rows = []
    for i in range(days):
        day = today - timedelta(days=i)
        for n, product in enumerate(("actions", "copilot")):
            amount = Decimal(f"{(i * 7 + n * 3) % 23}.{(i * 7919 + n) % 10**10:010d}")
            net[day] = net.get(day, Decimal(0)) + amount
            rows.append(
                DailyUsage(
                    organization=org,
                    date=day,
                    product=product,
                    sku=f"{product}_x",
                    unit_type="minutes",
                    quantity=Decimal(i + n),
                    gross_amount=amount,
                    discount_amount=Decimal(0),
                    net_amount=amount,
                    items=1 + n,
                )
            )
    DailyUsage.objects.bulk_create(rows)
    return net


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["day", "week", "month"])
def test_sql_buckets_sum_exactly_in_one_query(kind, django_assert_num_queries):
    org = OrganizationFactory()
    net = _rollup(org, 400)
    filters, _ = parse({"range": "12m", "bucket": kind})
    with django_assert_num_queries(1):
        rows = bucketed(org, filters, ("product",), ("net_amount", "items"))
    want: dict[date, Decimal] = defaultdict(Decimal)
    for day, amount in net.items():
        if filters.start <= day <= filters.end:
            key = {"day": day, "week": periods.week_start(day), "month": day.replace(day=1)}
            want[key[kind]] += amount
    got: dict[date, Decimal] = defaultdict(Decimal)
    for row in rows:
        got[row["bucket"]] += row["net_amount"]
    assert got == want  # Decimal equality: every one of the 10 decimals
    assert max(got) <= periods.today() and min(got) >= bucket_floor(filters.start, kind)
    if kind == "month":
        assert len(got) <= 13


def bucket_floor(day: date, kind: str) -> date:
    return {"day": day, "week": periods.week_start(day), "month": day.replace(day=1)}[kind]


def test_the_current_month_to_today_reads_the_monthly_rollup():
    """Ranges end today; the current month up to today is all its rollup holds, so the
    repository breakdown reads the rollup, not the raw items, for it."""
    today = periods.today()
    month = today.replace(day=1)
    assert month_split(month, today) == ([month], [])
    start, end = preset_span("12m", today)
    assert month_split(start, end) == (
        [periods.add_months(month, -i) for i in range(11, -1, -1)],
        [],
    )
