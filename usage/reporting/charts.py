"""The dashboard's Plotly figures, built on the server with the plotly package and sent
to the page as JSON (``json_script``); ``static/js/dashboard.js`` draws them with the
strict plotly.js bundle. Each chart also carries a text summary and a table of its
numbers (accessibility: nothing is only in the picture).

Names from GitHub (products, SKUs, repositories, unit types) are untrusted: plotly.js
reads a few HTML-like tags in text, so every name is HTML-escaped before it goes into a
figure (plotly.js shows ``&lt;`` as ``<``) and never goes into a hover template.
Chart values are floats rounded for display; the exact sums are in the tables. The
pieces every chart shares (`Chart`, the base layout, product colours) are in
`usage.reporting.chart_base`; this module builds the dashboard's spend and quantity over
time from them, `ranked_charts` the top SKUs and repositories, `budget_chart` the budgets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from usage import vocabulary
from usage.reporting.buckets import (
    BUCKET_COLUMN,
    BUCKET_MARGIN,
    BUCKET_NAMES,
    bucket_axis,
    bucket_middle,
    bucket_note,
    bucket_x,
    buckets_of,
)
from usage.reporting.chart_base import (
    TEXT_COLOUR,
    ZERO,
    Chart,
    as_float,
    daily_x,
    every_day,
    figure,
    product_colour,
)
from usage.reporting.filters import Filters
from usage.reporting.formatting import AXIS_NUMBER, HOVER_NUMBER, label, money, number, quantity
from usage.reporting.reports import net_by


def products_by_spend(rows: Sequence[dict[str, Any]]) -> list[tuple[str, Decimal]]:
    return net_by(rows, "product")


def daily_chart(rows: Sequence[dict[str, Any]], filters: Filters, today: date) -> Chart:
    """Net spend stacked by product per day, ISO week or month, as the filters' bucket
    says (rows: bucket, product, sums; `usage.reporting.reports.bucketed`)."""
    kind = filters.bucket
    chart = Chart("daily", f"Net spend by product, {BUCKET_NAMES[kind]}", "")
    spend = products_by_spend(rows)
    products = [p for p, _ in spend]
    keys = sorted({r["bucket"] for r in rows})
    cell = {(r["bucket"], r["product"]): r["net_amount"] or ZERO for r in rows}
    totals = {k: sum((cell.get((k, p), ZERO) for p in products), ZERO) for k in keys}
    if not keys:
        chart.summary = "No usage in this range."
        return chart
    spans = buckets_of(filters.start, filters.end, kind)
    by_key = {b.key: b for b in spans}
    if kind == "day":
        span = every_day(keys[0], keys[-1])
        data = [
            {
                "type": "bar",
                "name": label(p),
                # One value per day from x0 (None: no usage): no repeated dates to send.
                **daily_x(keys[0]),
                "y": [as_float(cell[(d, p)]) if (d, p) in cell else None for d in span],
                "marker": {"color": product_colour(p)},
                "hovertemplate": "%{fullData.name}: $%{y:,.2f}<extra></extra>",
            }
            for p in products
        ]
        last = min(filters.end, max(today, keys[-1]))
        xaxis: dict[str, Any] = {
            "type": "date",
            "range": [
                (filters.start - timedelta(days=1)).isoformat() + " 12:00",
                last.isoformat() + " 12:00",
            ],
        }
        layout: dict[str, Any] = {"hovermode": "x unified"}
    else:
        data = [
            {
                "type": "bar",
                "name": label(p),
                **bucket_x(spans),
                "y": [as_float(cell[(b.key, p)]) if (b.key, p) in cell else None for b in spans],
                "marker": {"color": product_colour(p)},
                # customdata: the bucket's dates (our text, no names from GitHub).
                "hovertemplate": "%{customdata}<br>%{fullData.name}: $%{y:,.2f}<extra></extra>",
            }
            for p in products
        ]
        xaxis = bucket_axis(spans)
        layout = {"hovermode": "closest", "margin": BUCKET_MARGIN}
    chart.figure = figure(
        data,
        barmode="relative",
        showlegend=True,
        xaxis=xaxis,
        yaxis={"tickprefix": "$", "tickformat": ",.0f", "rangemode": "tozero"},
        **layout,
    )
    top = max(keys, key=lambda k: totals[k])
    total = sum(totals.values(), ZERO)
    parts = ", ".join(f"{p} {money(t)}" for p, t in spend[:5])
    unit = kind if len(keys) == 1 else f"{kind}s"
    top_text = f"{top:%-d %b %Y}" if kind == "day" else by_key[top].label
    chart.summary = (
        f"{money(total)} net over {len(keys)} {unit} with usage; "
        f"highest {top_text} ({money(totals[top])}). By product: {parts}."
    )
    chart.note = bucket_note(filters, spans)
    chart.columns = [BUCKET_COLUMN[kind], *products, "Total"]
    chart.rows = [
        [by_key[k].label, *(money(cell.get((k, p), ZERO)) for p in products), money(totals[k])]
        for k in keys
    ]
    return chart


def quantity_chart(rows: Sequence[dict[str, Any]], product: str, filters: Filters) -> Chart:
    """Quantity per bucket (day, ISO week or month), one panel per unit type (rows:
    bucket, unit_type, sums)."""
    kind = filters.bucket
    name = vocabulary.product_label(product) if product else "no product"
    chart = Chart("quantity", f"Quantity {BUCKET_NAMES[kind]}: {name}", "")
    units = sorted({r["unit_type"] for r in rows})
    if not units:
        chart.summary = "No usage of this product in this range."
        return chart
    keys = sorted({r["bucket"] for r in rows})
    spans = buckets_of(filters.start, filters.end, kind)
    by_key = {b.key: b for b in spans}
    day_span = every_day(keys[0], keys[-1])
    gap = 0.12 if len(units) > 1 else 0
    height = (1 - gap * (len(units) - 1)) / len(units)
    data, layout, annotations = [], {}, []
    for i, unit in enumerate(units):
        axis = "y" if i == 0 else f"y{i + 1}"
        hits = {r["bucket"]: r["quantity"] for r in rows if r["unit_type"] == unit}
        top = 1 - i * (height + gap)
        if kind == "day":
            x: dict[str, Any] = daily_x(keys[0])
            y = [as_float(hits[d], "0.0001") if d in hits else None for d in day_span]
            hover = f"%{{x|%d %b %Y}}: %{{y:{HOVER_NUMBER}}} %{{fullData.name}}<extra></extra>"
        else:
            x = {"x": [bucket_middle(b) for b in spans], "customdata": [b.label for b in spans]}
            y = [as_float(hits[b.key], "0.0001") if b.key in hits else None for b in spans]
            hover = f"%{{customdata}}: %{{y:{HOVER_NUMBER}}} %{{fullData.name}}<extra></extra>"
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": label(vocabulary.unit_label(unit)),
                **x,
                "y": y,
                "yaxis": axis,
                "line": {"color": product_colour(product), "width": 2},
                "marker": {"size": 4},
                "hovertemplate": hover,
            }
        )
        layout[f"yaxis{i + 1 if i else ''}"] = {
            "domain": [max(0, top - height), top],
            "rangemode": "tozero",
            "anchor": "x",
            "tickformat": AXIS_NUMBER,
        }
        annotations.append(
            {
                "text": label(vocabulary.unit_label(unit)),
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": top,
                "xanchor": "left",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 12, "color": TEXT_COLOUR},
            }
        )
    xaxis = {"type": "date"} if kind == "day" else bucket_axis(spans)
    xaxis["anchor"] = f"y{len(units) if len(units) > 1 else ''}"
    chart.figure = figure(
        data,
        height=120 + 170 * len(units),
        showlegend=False,
        annotations=annotations,
        margin={"l": 64, "r": 16, "t": 24, "b": 40}
        if kind == "day"
        else {**BUCKET_MARGIN, "t": 24},
        xaxis=xaxis,
        **layout,
    )
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        totals[r["unit_type"]] += r["quantity"] or ZERO
    chart.summary = f"{name} in this range: " + ", ".join(quantity(totals[u], u) for u in units)
    if kind != "day":
        chart.note = bucket_note(filters, spans)
    cell = {(r["bucket"], r["unit_type"]): r["quantity"] for r in rows}
    chart.columns = [BUCKET_COLUMN[kind], *(vocabulary.unit_label(u) for u in units)]
    chart.rows = [[by_key[k].label, *(number(cell.get((k, u))) for u in units)] for k in keys]
    return chart
