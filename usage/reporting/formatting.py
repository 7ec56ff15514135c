"""Display formatting of the usage pages (money, quantities, names for plotly.js). For
display only: the numbers behind stay exact decimals."""

from __future__ import annotations

import html
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


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


def plain_decimal(value: Decimal) -> str:
    """A stored decimal in full, without trailing zeros and never in exponent form."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


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
