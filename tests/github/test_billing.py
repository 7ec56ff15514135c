"""Billing endpoints against the simulator: the streamed usage report (exact numbers,
bounded memory, broken streams), the summary, budgets pagination, the access probe."""

import tracemalloc
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from billingdash import github

pytestmark = [pytest.mark.django_db, pytest.mark.dates]

# The last day of the previous month: a whole month of usage exists in the simulator.
LAST_MONTH = datetime.now(UTC).date().replace(day=1) - timedelta(days=1)


def _no_floats(value):
    if isinstance(value, dict):
        return all(_no_floats(v) for v in value.values())
    if isinstance(value, list):
        return all(_no_floats(v) for v in value)
    return not isinstance(value, float)


def _at(value: Decimal, dialect: str, decimals: int) -> Decimal:
    """The "documented" dialect prints exact decimals; the "observed" one prints float
    texts a hair above them (ghsim/numbers.py): rounded to the simulator's precision,
    their sum is exact."""
    return value if dialect == "documented" else value.quantize(Decimal(1).scaleb(-decimals))


@pytest.mark.parametrize("dialect", ["documented", "observed"])
def test_usage_stream_is_exact(gh, user_token, dialect):
    gh.control.set_dialect("acme-corp", dialect)
    token = user_token("olivia")
    y, m = LAST_MONTH.year, LAST_MONTH.month
    items = list(github.iter_billing_usage(token, "acme-corp", year=y, month=m))
    assert items
    assert all(_no_floats(i) for i in items)
    assert all(isinstance(i["netAmount"], Decimal | int) for i in items)
    net = sum((Decimal(i["netAmount"]) for i in items), Decimal(0))
    quantity = sum((Decimal(i["quantity"]) for i in items), Decimal(0))
    start = LAST_MONTH.replace(day=1).isoformat()
    expected = gh.control.totals("acme-corp", start, LAST_MONTH.isoformat())["total"]
    assert len(items) == expected["items"]
    assert _at(net, dialect, 10) == Decimal(expected["net"])
    assert _at(quantity, dialect, 4) == Decimal(expected["quantity"])
    assert {i["organizationName"] for i in items} == {"acme-corp"}


def test_usage_stream_one_day_and_case_insensitive_org(gh, user_token):
    token = user_token("olivia")
    day = LAST_MONTH.replace(day=3)
    items = list(
        github.iter_billing_usage(token, "ACME-Corp", year=day.year, month=day.month, day=3)
    )
    assert items
    assert {i["date"][:10] for i in items} == {day.isoformat()}


def test_usage_stream_is_lazy_and_counts_one_call(gh, user_token, api_log):
    token = user_token("olivia")
    stream = github.iter_billing_usage(
        token, "acme-corp", year=LAST_MONTH.year, month=LAST_MONTH.month
    )
    assert api_log() == []  # nothing sent until iterated
    with github.track_calls() as stats:
        next(stream)
        stream.close()
    assert stats.calls == 1


def test_usage_stream_with_installation_token(gh):
    installation = github.get_org_installation("acme-corp")
    token = github.installation_token(installation["id"])
    y, m = LAST_MONTH.year, LAST_MONTH.month
    assert next(iter(github.iter_billing_usage(token, "acme-corp", year=y, month=m)))


def test_empty_month_yields_nothing(gh, user_token):
    token = user_token("olivia")
    future = date.today().year + 1
    assert list(github.iter_billing_usage(token, "acme-corp", year=future, month=1)) == []


def test_truncated_usage_stream_raises_malformed(gh, user_token):
    token = user_token("olivia")
    gh.control.fault("truncated", r"/settings/billing/usage$")
    y, m = LAST_MONTH.year, LAST_MONTH.month
    with pytest.raises(github.MalformedResponse) as info:
        for _ in github.iter_billing_usage(token, "acme-corp", year=y, month=m):
            pass
    assert "item(s)" in str(info.value)


def test_invalid_json_usage_stream_raises_malformed(gh, user_token, api_log):
    token = user_token("olivia")
    gh.control.fault("malformed_json", r"/settings/billing/usage$")
    y, m = LAST_MONTH.year, LAST_MONTH.month
    with pytest.raises(github.MalformedResponse) as info:
        list(github.iter_billing_usage(token, "acme-corp", year=y, month=m))
    assert "html" not in str(info.value).lower()  # the parser's echo of the body is dropped
    assert len(api_log()) == 1  # a broken stream is not retried midway


def test_usage_5xx_before_the_body_is_retried(gh, user_token, api_log):
    token = user_token("olivia")
    gh.control.fault("status", r"/settings/billing/usage$", status=500, count=1)
    y, m = LAST_MONTH.year, LAST_MONTH.month
    assert list(github.iter_billing_usage(token, "acme-corp", year=y, month=m))
    assert [r["status"] for r in api_log()] == [500, 200]


def test_large_month_streams_in_bounded_memory(gh, user_token):
    gh.control.create_org(
        "bigcorp", members={"olivia": "admin"}, repos=80, skus_per_repo=10, installed=True
    )
    token = user_token("olivia")
    y, m = LAST_MONTH.year, LAST_MONTH.month
    # The simulator runs in this process: count only what the client side holds.
    server_side = [
        tracemalloc.Filter(False, f"*{name}*")
        for name in ("ghsim", "werkzeug", "flask", "socketserver", "threading", "tracemalloc")
    ]
    count, body_bytes, held = 0, 0, 0
    tracemalloc.start()
    try:
        for item in github.iter_billing_usage(token, "bigcorp", year=y, month=m):
            count += 1
            body_bytes += len(repr(item))
            if count % 10_000 == 0:
                snapshot = tracemalloc.take_snapshot().filter_traces(server_side)
                held = max(held, sum(s.size for s in snapshot.statistics("filename")))
    finally:
        tracemalloc.stop()
    assert count > 20_000
    # ~7 MB of JSON went through (~30 MB as Python objects); the client held a batch or
    # two (a megabyte of JSON each, ~4 MB decoded) and a few buffers at a time.
    assert body_bytes > 5 * 1024 * 1024
    assert 0 < held < 12 * 1024 * 1024, held


@pytest.mark.parametrize("dialect", ["documented", "observed"])
def test_usage_summary_has_decimals(gh, user_token, dialect):
    gh.control.set_dialect("acme-corp", dialect)
    token = user_token("olivia")
    y, m = LAST_MONTH.year, LAST_MONTH.month
    summary = github.get_billing_usage_summary(token, "acme-corp", year=y, month=m)
    assert summary["timePeriod"] == {"year": y, "month": m}
    assert summary["usageItems"]
    assert _no_floats(summary)
    net = sum((Decimal(i["netAmount"]) for i in summary["usageItems"]), Decimal(0))
    start = LAST_MONTH.replace(day=1).isoformat()
    expected = gh.control.totals("acme-corp", start, LAST_MONTH.isoformat())["total"]
    assert _at(net, dialect, 10) == Decimal(expected["net"])


def test_budgets_follow_has_next_page(gh, user_token, api_log):
    gh.control.create_org("budgetco", members={"bill": "billing_manager"}, budgets=150)
    gh.control.install("budgetco")
    budgets = github.list_billing_budgets(user_token("bill"), "budgetco")
    assert len(budgets) == 150
    assert len({b["id"] for b in budgets}) == 150
    assert _no_floats(budgets)
    pages = [(r["query"]["page"], r["query"]["per_page"]) for r in api_log()]
    assert pages == [("1", "100"), ("2", "100")]


def test_check_billing_access(gh, user_token):
    assert github.check_billing_access(user_token("olivia"), "acme-corp") == (True, None)
    assert github.check_billing_access(user_token("bill"), "acme-corp") == (
        False,
        "organization_administration=read",
    )
    assert github.check_billing_access(user_token("mia"), "acme-corp")[0] is False
    with pytest.raises(github.NotFound):
        github.check_billing_access(user_token("charlie"), "acme-corp")


def test_check_billing_access_probes_today(gh, user_token, api_log):
    github.check_billing_access(user_token("olivia"), "acme-corp")
    today = datetime.now(UTC).date()
    (entry,) = api_log()
    assert entry["query"] == {
        "year": str(today.year),
        "month": str(today.month),
        "day": str(today.day),
    }
