"""The anomaly statistic: one day's spend of one subject (a SKU, a SKU in a repository, a
user) against the same weekday of the trailing weeks.

Spend has a weekly rhythm (CI runs on workdays, little at weekends), so a Tuesday is
compared with the Tuesdays before it. The baseline is robust: the median of those days
and their median absolute deviation (MAD), so one earlier spike in the window neither
hides the next one nor makes an ordinary day look odd. A day is anomalous when it is at
least `min_amount` (small noise never alerts) and above

    median + sensitivity * max(1.4826 * MAD, 25 % of the median, $1)

(1.4826 * MAD estimates the standard deviation of normal data; the floors stop a very
steady series, whose MAD is 0, from alerting on a few cents or a few per cent more).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

MAD_TO_SIGMA = Decimal("1.4826")
RELATIVE_FLOOR = Decimal("0.25")
ABSOLUTE_FLOOR = Decimal(1)
MIN_SAMPLES = 3  # fewer same weekdays of history than this: no verdict
ZERO = Decimal(0)


def median(values: Sequence[Decimal]) -> Decimal:
    ordered = sorted(values)
    if not ordered:
        raise ValueError("the median of nothing")
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


@dataclass(frozen=True)
class Baseline:
    samples: tuple[Decimal, ...]
    median: Decimal
    mad: Decimal

    @property
    def low(self) -> Decimal:
        """The lower end of the usual range: at least half the samples lie in
        [median - MAD, median + MAD]."""
        return max(ZERO, self.median - self.mad)

    @property
    def high(self) -> Decimal:
        return self.median + self.mad

    def limit(self, sensitivity: Decimal) -> Decimal:
        """Spend above this is far above the usual."""
        scale = max(MAD_TO_SIGMA * self.mad, RELATIVE_FLOOR * self.median, ABSOLUTE_FLOOR)
        return self.median + sensitivity * scale


def baseline(samples: Sequence[Decimal]) -> Baseline | None:
    """Median and MAD of the samples; None with fewer than `MIN_SAMPLES`."""
    if len(samples) < MIN_SAMPLES:
        return None
    middle = median(samples)
    mad = median([abs(s - middle) for s in samples])
    return Baseline(samples=tuple(samples), median=middle, mad=mad)


def is_anomalous(
    value: Decimal, base: Baseline, *, sensitivity: Decimal, min_amount: Decimal
) -> bool:
    return value >= min_amount and value > base.limit(sensitivity)


def weekday_samples(
    series: Mapping[date, Decimal], day: date, *, weeks: int, since: date
) -> list[Decimal]:
    """The subject's spend on the same weekday of each of the `weeks` weeks before
    `day` (a day without spend counts as $0), leaving out days before `since` (the first
    day the organization has data for: before it, nothing is known)."""
    earlier = (day - timedelta(days=7 * k) for k in range(1, weeks + 1))
    return [series.get(d, ZERO) for d in earlier if d >= since]
