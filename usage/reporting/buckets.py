"""Time buckets of the charts and the API: days, ISO weeks (Monday to Sunday) and
calendar months, each cut to the range it is shown for, with the label a person reads
("7-13 Sep 2026", "Sep 2026", "1-6 Dec 2026 (partial)", with en dashes). The sums per bucket are
computed in SQL (`usage.reporting.reports.bucketed`); this module only names them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from usage import periods
from usage.reporting.chart_base import DAY_MS
from usage.reporting.filters import (
    DAY_BUCKETS_UP_TO,
    WEEK_BUCKETS_UP_TO,
    Filters,
    date_span,
)

BUCKET_NAMES = {
    "day": "per day",
    "week": "per week (ISO weeks, Monday to Sunday)",
    "month": "per calendar month",
}


@dataclass(frozen=True)
class Bucket:
    """A day, an ISO week (Monday to Sunday) or a calendar month, cut to the range."""

    kind: str  # "day", "week" or "month"
    key: date  # the day, the week's Monday or the month's 1st (what SQL truncates to)
    first: date  # its first day inside the range
    last: date  # its last day inside the range

    @property
    def partial(self) -> bool:
        """True when the range covers only part of the week or month."""
        return (self.first, self.last) != (self.key, bucket_last_day(self.kind, self.key))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def full_days(self) -> int:
        """The days of the whole week or month (1 for a day)."""
        return (bucket_last_day(self.kind, self.key) - self.key).days + 1

    @property
    def label(self) -> str:
        """ "2026-09-07" (a day), "7-13 Sep 2026", "Sep 2026"; "(partial)" after a
        week or month the range covers in part."""
        if self.kind == "day":
            return self.key.isoformat()
        if self.kind == "month" and not self.partial:
            return f"{self.key:%b %Y}"
        return date_span(self.first, self.last) + (" (partial)" if self.partial else "")


def bucket_key(kind: str, day: date) -> date:
    if kind == "week":
        return periods.week_start(day)
    return periods.month_start(day) if kind == "month" else day


def bucket_last_day(kind: str, key: date) -> date:
    if kind == "week":
        return key + timedelta(days=6)
    return periods.month_end(key) if kind == "month" else key


def buckets_of(start: date, end: date, kind: str) -> list[Bucket]:
    """Every bucket of `kind` from `start` to `end`, the edge ones cut to the range."""
    out: list[Bucket] = []
    key = bucket_key(kind, start)
    while key <= end:
        last = bucket_last_day(kind, key)
        out.append(Bucket(kind, key, max(key, start), min(last, end)))
        key = last + timedelta(days=1)
    return out


# --- on a chart's date axis -------------------------------------------------------------

BUCKET_COLUMN = {"day": "Date", "week": "Week (Mon–Sun)", "month": "Month"}
# Labels on a bucketed axis: room for "Sep 2026" or "28 Dec-3 Jan" at 1366 px.
MAX_TICKS = {"day": 14, "week": 10, "month": 13}
# Right margin of a bucketed chart: room for the last bucket's label, centred near the
# edge (plotly.js hides a tick label that would cross the figure's edge).
BUCKET_MARGIN = {"l": 64, "r": 56, "t": 8, "b": 48}


def bucket_axis(spans: Sequence[Bucket]) -> dict[str, Any]:
    """A date axis whose ticks name the buckets (a bar per week or month sits across
    its days); a partial bucket's tick says so; at most about `MAX_TICKS` ticks."""
    step = -(-len(spans) // MAX_TICKS[spans[0].kind])
    shown = [i for i in range(len(spans)) if i % step == 0]
    if shown[-1] != len(spans) - 1 and len(spans) - 1 - shown[-1] > step // 2:
        shown.append(len(spans) - 1)
    # An edge bucket under half its length is too narrow for a label of its own: its
    # dates and "partial" are in its hover text, the table and the chart's note.
    narrow = {i for i in (0, len(spans) - 1) if spans[i].days * 2 < spans[i].full_days}
    shown = [i for i in shown if i not in narrow] or shown

    def tick(b: Bucket) -> str:
        # Short: "Sep 2026", "7-13 Sep", "28 Dec-3 Jan", "1-6 Dec<br>partial" (the
        # year is on the month ticks, the full dates in the hover text and the table).
        if b.kind == "month" and not b.partial:
            return f"{b.key:%b %Y}"
        if b.first.month == b.last.month:
            text = f"{b.first.day}–{b.last.day} {b.last:%b}"
        else:
            text = f"{b.first.day} {b.first:%b}–{b.last.day} {b.last:%b}"
        if b.first == b.last:
            text = f"{b.last.day} {b.last:%b}"
        return text + "<br>partial" if b.partial else text

    return {
        "type": "date",
        "range": [f"{spans[0].first} 00:00", f"{spans[-1].last + timedelta(days=1)} 00:00"],
        "tickmode": "array",
        "automargin": True,
        "tickvals": [bucket_middle(spans[i]) for i in shown],
        "ticktext": [tick(spans[i]) for i in shown],
    }


def bucket_middle(b: Bucket) -> str:
    """The instant halfway through a bucket's days (where its bar is centred)."""
    half = timedelta(hours=12 * ((b.last - b.first).days + 1))
    return (datetime.combine(b.first, time()) + half).isoformat(sep=" ")


def bucket_x(spans: Sequence[Bucket]) -> dict[str, Any]:
    """x of a bucketed bar series: one bar per bucket, as wide as its days (90%)."""
    return {
        "x": [bucket_middle(b) for b in spans],
        "width": [((b.last - b.first).days + 1) * DAY_MS * 0.9 for b in spans],
        "customdata": [b.label for b in spans],
    }


def bucket_note(filters: Filters, spans: Sequence[Bucket]) -> str:
    """Why the chart groups as it does, and what is partial."""
    kind = filters.bucket
    if filters.bucket_choice == "auto":
        why = (
            f"Grouped {BUCKET_NAMES[kind]} because the range spans {filters.days} "
            f"day{'s' if filters.days != 1 else ''} (days up to {DAY_BUCKETS_UP_TO}, weeks "
            f"up to {WEEK_BUCKETS_UP_TO}, then months); choose another in “Group by”."
        )
    else:
        why = f"Grouped {BUCKET_NAMES[kind]}, as chosen in “Group by”."
    partial = [b.label for b in spans if b.partial]
    if kind != "day" and partial:
        why += f" Partial {kind}s hold only the days inside the range: {', '.join(partial)}."
    return why
