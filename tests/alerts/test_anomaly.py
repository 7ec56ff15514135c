"""The anomaly statistic on its own: median and MAD over the same weekdays, the limit, the
minimum amount, and properties that must hold for any series (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from alerts.anomaly import baseline, is_anomalous, median, weekday_samples

D = Decimal
money = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False)
samples = st.lists(money, min_size=3, max_size=26)


def test_the_issue_example():
    """Usual Tuesdays of $9 to $14: $182 is far above; $20 is not."""
    tuesdays = [D(9), D(11), D(14), D(12), D(10), D(13), D(11), D(12)]
    base = baseline(tuesdays)
    assert (base.median, base.mad) == (D("11.5"), D("1.0"))
    assert (base.low, base.high) == (D("10.5"), D("12.5"))
    assert is_anomalous(D(182), base, sensitivity=D(4), min_amount=D(25))
    assert not is_anomalous(D(20), base, sensitivity=D(4), min_amount=D(25))
    # Far above the usual, but under the minimum amount: small noise never alerts.
    assert not is_anomalous(D(24), base, sensitivity=D(4), min_amount=D(25))


def test_steady_spend_needs_a_real_jump():
    """A series with no spread (MAD 0) alerts only past 25 % of the median per unit of
    sensitivity, never on a few cents more."""
    base = baseline([D(100)] * 8)
    assert base.mad == 0 and base.limit(D(4)) == D(200)
    assert not is_anomalous(D("100.01"), base, sensitivity=D(4), min_amount=D(0))
    assert not is_anomalous(D(200), base, sensitivity=D(4), min_amount=D(0))
    assert is_anomalous(D("200.01"), base, sensitivity=D(4), min_amount=D(0))


def test_new_spend_on_a_quiet_series():
    base = baseline([D(0)] * 8)
    assert base.limit(D(4)) == D(4)  # the $1 floor
    assert is_anomalous(D(30), base, sensitivity=D(4), min_amount=D(25))


def test_too_little_history_gives_no_verdict():
    assert baseline([D(1), D(2)]) is None
    assert baseline([D(1), D(2), D(3)]) is not None


def test_weekday_samples_take_the_same_weekday_and_count_missing_days_as_zero():
    day = date(2030, 6, 11)  # the function is pure: any day will do
    series = {day - timedelta(days=7): D(5), day - timedelta(days=1): D(999)}
    got = weekday_samples(series, day, weeks=4, since=day - timedelta(days=365))
    assert got == [D(5), D(0), D(0), D(0)]
    # Before the organization's first data: unknown, not zero.
    assert weekday_samples(series, day, weeks=4, since=day - timedelta(days=14)) == [D(5), D(0)]


@given(samples)
def test_the_median_splits_the_samples(values):
    m = median(values)
    assert sum(v <= m for v in values) * 2 >= len(values)
    assert sum(v >= m for v in values) * 2 >= len(values)


@given(samples)
def test_the_usual_range_holds_at_least_half_the_samples(values):
    base = baseline(values)
    inside = [v for v in values if base.median - base.mad <= v <= base.high]
    assert len(inside) * 2 >= len(values)


@given(samples, money, money)
def test_more_spend_is_never_less_anomalous(values, a, b):
    base = baseline(values)
    low, high = sorted((a, b))
    options = {"sensitivity": D(4), "min_amount": D(25)}
    if is_anomalous(low, base, **options):
        assert is_anomalous(high, base, **options)


@given(samples, money)
def test_nothing_at_or_below_the_median_or_the_minimum_alerts(values, value):
    base = baseline(values)
    if value <= base.median or value < 25:
        assert not is_anomalous(value, base, sensitivity=D(1), min_amount=D(25))


@given(st.lists(money, min_size=4, max_size=26), st.integers(0, 10**6), st.integers(0, 10**6))
def test_one_earlier_spike_does_not_move_the_baseline(values, huge1, huge2):
    """Robustness: with four or more other samples, one outlier's size does not matter
    (a single past spike can neither hide a new one nor excuse it)."""
    top = max(values)
    far = top + (top - min(values))  # beyond every other sample's deviation
    one = baseline([*values, far + huge1])
    two = baseline([*values, far + huge2])
    assert (one.median, one.mad) == (two.median, two.mad)


@given(samples, st.decimals(min_value=D("0.5"), max_value=100, places=1), money)
def test_the_verdict_does_not_depend_on_the_currency_scale(values, factor, value):
    """Scaling every amount (and the minimum) scales the verdict away, above the $1
    floor (which is absolute on purpose)."""
    base = baseline(values)
    scaled = baseline([v * factor for v in values])

    def spread(b):
        return max(D("1.4826") * b.mad, D("0.25") * b.median)

    if spread(base) > 1 and spread(scaled) > 1:
        plain = is_anomalous(value, base, sensitivity=D(4), min_amount=D(0))
        assert plain == is_anomalous(value * factor, scaled, sensitivity=D(4), min_amount=D(0))


def test_amounts_and_ranges_in_words():
    from alerts.words import amount, amount_range

    assert (amount(D(182)), amount(D("1204.4")), amount(D("9.6")), amount(D(2))) == (
        "$182",
        "$1,204",
        "$9.60",
        "$2",
    )
    assert amount_range(D("9.4"), D("14.2")) == "$9–$14"
    assert amount_range(D("4.97"), D(6)) == "$4.97–$6.00"
    assert amount_range(D(2), D(3)) == "$2–$3"
    assert amount_range(D(10), D("10.2")) == "$10"
