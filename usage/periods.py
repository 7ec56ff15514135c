"""Months as collection periods (the first day of the month, in UTC like GitHub's
billing)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from django.utils import timezone


def today() -> date:
    return timezone.now().date()


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(period: date, months: int) -> date:
    index = period.year * 12 + (period.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def month_end(day: date) -> date:
    """The last day of `day`'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def months_between(first: date, last: date) -> list[date]:
    """The months (their 1st) from `first`'s to `last`'s, oldest first; none when
    `first` is after `last`."""
    months, month = [], month_start(first)
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def current_month() -> date:
    return month_start(today())


def previous_month() -> date:
    return add_months(current_month(), -1)


def last_months(count: int) -> list[date]:
    """The current month and the `count - 1` before it, newest first."""
    current = current_month()
    return [add_months(current, -i) for i in range(max(0, count))]


def is_final(period: date, collected_at_day: date, late_days: int = 10) -> bool:
    """A month's usage stops changing once the late-adjustment window (until the 10th
    of the next month) has passed: data collected after that is final."""
    return collected_at_day > add_months(period, 1).replace(day=late_days)


def week_start(day: date) -> date:
    """The Monday of `day`'s ISO week (ISO 8601 weeks run Monday to Sunday)."""
    return day - timedelta(days=day.weekday())
