"""The Copilot page's Plotly figures (built server-side, drawn by the static plotly.js
bundle as on the dashboard), each with a sentence and a table of its numbers.

Money is on one axis across the switch from premium requests to AI credits (1 June
2026); every chart whose range spans it draws a dotted line there and says so.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from copilot.quotas import AI_CREDITS_START
from copilot.reporting.selectors import Group
from usage.reporting.chart_base import _BASE_LAYOUT as BASE_LAYOUT  # the dashboard's look
from usage.reporting.chart_base import EXTRA_COLOURS, Chart, as_float, every_day
from usage.reporting.formatting import money
from usage.vocabulary import unit_label

TABLE_DAYS = 92
SWITCH_TEXT = "AI credits from 1 Jun 2026 (premium requests before)"
MARK = "#cf222e"


def _switch(start: date, end: date) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if not (start < AI_CREDITS_START <= end):
        return [], []
    x = AI_CREDITS_START.isoformat()
    line = {
        "type": "line",
        "xref": "x",
        "yref": "paper",
        "x0": x,
        "x1": x,
        "y0": 0,
        "y1": 1,
        "line": {"color": MARK, "width": 1.5, "dash": "dot"},
    }
    label = {
        "x": x,
        "xref": "x",
        "yref": "paper",
        "y": 1,
        "text": SWITCH_TEXT,
        "showarrow": False,
        "xanchor": "left",
        "yanchor": "bottom",
        "font": {"color": MARK, "size": 11},
    }
    return [line], [label]


def figure(data: list[dict[str, Any]], **layout: Any) -> dict[str, Any]:
    """The figure as plotly.js takes it, without plotly.py's validation (a few dozen
    milliseconds per figure, on a page that must answer in well under 100 ms)."""
    return {"data": data, "layout": {**BASE_LAYOUT, **layout}}


def switch_note(start: date, end: date) -> str:
    if start < AI_CREDITS_START <= end:
        return (
            "The dotted line is 1 June 2026: Copilot usage was billed in premium requests "
            "($0.04) before it and in AI credits ($0.01) from then on; money is comparable "
            "across it, quantities are not."
        )
    return ""


def daily_chart(days: list[Group], start: date, end: date) -> Chart:
    net: dict[str, Decimal] = defaultdict(Decimal)
    gross: dict[str, Decimal] = defaultdict(Decimal)
    for g in days:
        net[g.key] += g.net_amount
        gross[g.key] += g.gross_amount
    xs = [d.isoformat() for d in every_day(start, end)]
    total_net, total_gross = sum(net.values(), Decimal(0)), sum(gross.values(), Decimal(0))
    # The table: a row per day, or per month over long ranges (a year of days is long).
    monthly = (end - start).days > TABLE_DAYS
    period_name = "Month" if monthly else "Day"
    table: dict[tuple[str, str], list[Decimal]] = {}
    for g in days:
        key = g.key[:7] if monthly else g.key
        acc = table.setdefault((key, g.unit_type), [Decimal(0)] * 3)
        acc[0] += g.quantity
        acc[1] += g.gross_amount
        acc[2] += g.net_amount
    shapes, notes = _switch(start, end)
    fig = figure(
        [
            {
                "type": "bar",
                "name": "Value of use (gross)",
                "x": xs,
                "y": [as_float(gross.get(x)) for x in xs],
                "marker": {"color": "#CC79A7"},
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": "Billed (net)",
                "x": xs,
                "y": [as_float(net.get(x)) for x in xs],
                "line": {"color": "#0072B2"},
            },
        ],
        xaxis={"type": "date"},
        yaxis={"tickprefix": "$", "rangemode": "tozero"},
        shapes=shapes,
        annotations=notes,
    )
    return Chart(
        key="copilot-daily",
        title="Copilot spend by day",
        summary=(
            f"From {start:%-d %b %Y} to {end:%-d %b %Y}: {money(total_gross)} of Copilot use, "
            f"{money(total_net)} billed after the included quota."
            if days
            else f"No Copilot premium requests or AI credits from {start:%-d %b %Y} to "
            f"{end:%-d %b %Y} in the usage collected so far."
        ),
        figure=fig if days else None,
        columns=[period_name, "Unit", "Quantity", "Gross", "Net"],
        rows=[
            [key, unit_label(unit), f"{q:,.2f}", money(gross), money(net)]
            for (key, unit), (q, gross, net) in table.items()
        ],
        note=switch_note(start, end),
    )


def model_month_chart(rows: list[dict[str, Any]], start: date, end: date) -> Chart:
    models = sorted({r["model"] for r in rows})
    months = sorted({r["period"] for r in rows})
    by: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
    for r in rows:
        by[(r["model"], r["period"])] += r["gross_amount"] or Decimal(0)
    data = [
        {
            "type": "bar",
            "name": m,
            "x": [p.isoformat() for p in months],
            "y": [as_float(by.get((m, p))) for p in months],
            "marker": {"color": EXTRA_COLOURS[i % len(EXTRA_COLOURS)]},
        }
        for i, m in enumerate(models)
    ]
    shapes, notes = _switch(start, end)
    fig = figure(
        data,
        barmode="stack",
        xaxis={"type": "date", "dtick": "M1", "tickformat": "%b %Y"},
        yaxis={"tickprefix": "$", "rangemode": "tozero"},
        shapes=shapes,
        annotations=notes,
    )
    return Chart(
        key="copilot-models",
        title="Value of use by model, month by month",
        summary=(
            f"{len(models)} models over {len(months)} month(s), from GitHub's premium-request "
            "and AI-credit reports (gross, before the included quota)."
            if rows
            else "No per-model figures collected for these months yet."
        ),
        figure=fig if rows else None,
        columns=["Month", "Model", "Unit", "Quantity", "Gross", "Net"],
        rows=[
            [
                f"{r['period']:%b %Y}",
                r["model"],
                unit_label(r["unit_type"]),
                f"{r['quantity']:,.2f}",
                money(r["gross_amount"]),
                money(r["net_amount"]),
            ]
            for r in rows
        ],
        note=switch_note(start, end),
    )
