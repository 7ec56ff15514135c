"""Numbers and days as alert messages say them ("$182", "Tue 1 Dec", "December 2026")."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from usage.reporting.formatting import money


def _whole(value: Decimal) -> str:
    whole = Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{'−' if whole < 0 else ''}${abs(whole):,.0f}"


def _integral(value: Decimal) -> bool:
    return value == value.to_integral_value()


def amount(value: Decimal) -> str:
    """Whole dollars from $10 up ("$182", "$1,204"), cents below ("$9.60", but "$2")."""
    value = Decimal(value)
    return _whole(value) if abs(value) >= 10 or _integral(value) else money(value)


def amount_range(low: Decimal, high: Decimal) -> str:
    """A range in one style, joined by an en dash: whole dollars when it reaches $10
    ("$9" to "$14"), cents below ("$4.97" to "$6.00"); one amount when both ends read
    the same."""
    low, high = Decimal(low), Decimal(high)
    whole = max(abs(low), abs(high)) >= 10 or (_integral(low) and _integral(high))
    low_text, high_text = (_whole(low), _whole(high)) if whole else (money(low), money(high))
    return low_text if low_text == high_text else f"{low_text}–{high_text}"


def day(value: date) -> str:
    return f"{value:%a} {value.day} {value:%b}"


def day_year(value: date) -> str:
    return f"{value:%a} {value.day} {value:%b} {value.year}"


def month(value: date) -> str:
    return f"{value:%B %Y}"


def percent(value: Decimal) -> str:
    return f"{Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP):,.0f}%"


def change(current: Decimal, previous: Decimal, before: str) -> str:
    """How `current` compares with `previous`, which was `before` ("the week before"):
    "up $120.00 (+10.8%) from $1,114.56 the week before", "the same as the week before"."""
    diff = current - previous
    if diff == 0:
        return f"the same as {before}"
    direction = "up" if diff > 0 else "down"
    ratio = ""
    if previous:
        share = (diff / abs(previous) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        ratio = f" ({'+' if share > 0 else ''}{share}%)"
    return f"{direction} {money(abs(diff))}{ratio} from {money(previous)} {before}"
