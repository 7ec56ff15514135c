"""The building blocks of the dashboard's Plotly charts (`usage.charts` builds them):
the `Chart` a page renders (figure, text summary, table), the layout every figure
starts from, one colour per product, and the helpers that put numbers and days on an
axis.

Chart values are floats rounded for display (`as_float`); the exact sums are in the
tables.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import plotly.graph_objects as go

ZERO = Decimal(0)
# One colour per product in every chart (Okabe-Ito, colour-blind safe); products we do
# not know get a stable colour from their name.
PRODUCT_COLOURS = {
    "actions": "#0072B2",
    "copilot": "#CC79A7",
    "packages": "#E69F00",
    "codespaces": "#009E73",
    "git_lfs": "#D55E00",
}
EXTRA_COLOURS = ("#56B4E9", "#882255", "#117733", "#AA4499", "#44AA99", "#999933", "#332288")
OTHER_COLOUR = "#8c959f"
TEXT_COLOUR = "#1f2328"
_BASE_LAYOUT: dict[str, Any] = {
    "template": "none",
    "autosize": True,
    "height": 340,
    "margin": {"l": 64, "r": 16, "t": 8, "b": 40},
    "font": {"family": "-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif", "size": 12},
    "paper_bgcolor": "#ffffff",
    "plot_bgcolor": "#ffffff",
    "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
    "hoverlabel": {"namelength": -1},
    "separators": ".,",
}


def product_colour(product: str) -> str:
    if product in PRODUCT_COLOURS:
        return PRODUCT_COLOURS[product]
    if not product:
        return OTHER_COLOUR
    return EXTRA_COLOURS[zlib.crc32(product.encode()) % len(EXTRA_COLOURS)]


def as_float(value: Decimal | None, places: str = "0.01") -> float:
    return float((value or ZERO).quantize(Decimal(places), rounding=ROUND_HALF_UP))


DAY_MS = 86_400_000


def every_day(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def daily_x(first: date) -> dict[str, Any]:
    """x of a daily series on a date axis: the first day and a step of one day."""
    return {"x0": first.isoformat(), "dx": DAY_MS}


def figure(data: list[dict[str, Any]], **layout: Any) -> dict[str, Any]:
    return go.Figure(data=data, layout={**_BASE_LAYOUT, **layout}).to_plotly_json()


@dataclass
class Chart:
    key: str
    title: str
    summary: str
    figure: dict[str, Any] | None = None
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    note: str = ""

    @property
    def dom_id(self) -> str:
        return f"chart-{self.key}"

    @property
    def figure_id(self) -> str:
        return f"chart-{self.key}-figure"
