"""Display formatting of the usage pages (money, quantities, names for plotly.js). For
display only: the numbers behind stay exact decimals.

One format per kind of number, everywhere (pages, chart tables and hover text, e-mails):

- amounts: ``money`` — ``$19.00``, ``$1,234.56`` (a minus sign before negative ones);
- prices per unit: ``unit_price`` — money with every significant digit GitHub gave
  (``$0.008``, ``$0.00009409``), never fewer than two decimals (``$4.00``);
- CSV text cells: ``csv_text`` — a leading apostrophe before text a spreadsheet would
  run as a formula (CSV injection: GitHub names are untrusted);
- quantities: ``number`` — thousands separated, up to 4 decimals (``6,000``,
  ``1,234.5``), and ``quantity`` with the unit's name (``6,000 minutes``, ``12.5
  GB-hours``; `usage.vocabulary.unit_label`).

Charts use the same: d3 formats `AXIS_NUMBER` and `HOVER_NUMBER` print ``6,000`` where
plotly.js would print ``6k``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from usage import vocabulary

CENT = Decimal("0.01")
# Spreadsheets run a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# plotly.js (d3-format): thousands separated, no SI prefix ("6,000", not "6k").
AXIS_NUMBER = ",~r"
HOVER_NUMBER = ",.4~f"


def money(value: Decimal | None) -> str:
    """$1,234.56 (display only: rounded half up to the cent)."""
    if value is None:
        return "—"
    cents = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    return f"{'−' if cents < 0 else ''}${abs(cents):,.2f}"


def number(value: Decimal | None) -> str:
    """A quantity: up to 4 decimals, thousands separated."""
    if value is None:
        return "—"
    text = f"{Decimal(value).quantize(Decimal('0.0001'), rounding=ROUND_HALF_UP):,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def unit_price(value: Decimal | None) -> str:
    """A price per unit: money with all its significant digits ($0.00009409, $0.008,
    $4.00), as GitHub's report gives it; amounts use `money`."""
    if value is None:
        return "—"
    amount = Decimal(value)
    whole, _, fraction = plain_decimal(abs(amount)).partition(".")
    return f"{'−' if amount < 0 else ''}${int(whole):,}.{fraction.ljust(2, '0')}"


def quantity(value: Decimal | None, unit: str = "") -> str:
    """A quantity with its unit's name: 6,000 minutes, 12.5 GB-hours."""
    text = number(value)
    name = vocabulary.unit_label(unit) if unit else ""
    return f"{text} {name}" if name and value is not None else text


def plain_decimal(value: Decimal) -> str:
    """A stored decimal in full, without trailing zeros and never in exponent form."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def csv_text(text: str) -> str:
    """A text cell of a CSV export, defused against spreadsheet formulas."""
    return "'" + text if text.startswith(FORMULA_START) else text


class Echo:
    """A file-like object whose ``write`` returns the line: ``csv.writer(Echo())`` makes
    the lines of a streamed CSV export."""

    def write(self, value: str) -> str:
        return value


def label(name: str, limit: int = 48) -> str:
    """A GitHub name as plotly.js text: shortened, HTML-escaped."""
    name = name if len(name) <= limit else name[: limit - 1] + "…"
    return html.escape(name, quote=False)


def unique(labels: Sequence[str]) -> list[str]:
    """Labels made distinct (shortened names may collide; plotly.js would merge them)."""
    seen: dict[str, int] = {}
    out = []
    for text in labels:
        seen[text] = seen.get(text, 0) + 1
        out.append(text if seen[text] == 1 else f"{text} ({seen[text]})")
    return out
