"""The dashboard's Plotly figures, built on the server with the plotly package and sent
to the page as JSON (``json_script``); ``static/js/dashboard.js`` draws them with the
strict plotly.js bundle. Each chart also carries a text summary and a table of its
numbers (accessibility: nothing is only in the picture).

Names from GitHub (products, SKUs, repositories, unit types) are untrusted: plotly.js
reads a few HTML-like tags in text, so every name is HTML-escaped before it goes into a
figure (plotly.js shows ``&lt;`` as ``<``) and never goes into a hover template.
Chart values are floats rounded for display; the exact sums are in the tables. The
pieces every chart shares (`Chart`, the base layout, product colours) are in
`usage.chart_base`; this module builds the dashboard's charts from them.
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
from usage.reporting.budget_lines import BudgetLine
from usage.reporting.chart_base import (
    OTHER_COLOUR,
    TEXT_COLOUR,
    ZERO,
    Chart,
    as_float,
    daily_x,
    every_day,
    figure,
    product_colour,
)
from usage.reporting.filters import NO_REPOSITORY as NO_REPOSITORY_LABEL
from usage.reporting.filters import Filters
from usage.reporting.formatting import (
    AXIS_NUMBER,
    HOVER_NUMBER,
    label,
    money,
    number,
    quantity,
    unique,
)
from usage.reporting.reports import net_by

TOP_SKUS = 10
TOP_REPOSITORIES = 15


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


def _top(
    rows: Sequence[dict[str, Any]], key: str, limit: int
) -> tuple[list[str], dict[str, Decimal], Decimal, int]:
    totals = dict(net_by(rows, key))
    ranked = list(totals)  # largest first
    top, rest = ranked[:limit], ranked[limit:]
    return top, totals, sum((totals[k] for k in rest), ZERO), len(rest)


def _ranked_bars(
    chart: Chart, rows: Sequence[dict[str, Any]], key: str, limit: int, names: dict[str, str]
) -> None:
    """Horizontal bars of the top `limit` values of `key`, stacked by product, plus
    "other"; fills the chart's figure, summary and table."""
    top, totals, other, other_count = _top(rows, key, limit)
    if not top:
        chart.summary = "No usage in this range."
        return
    labels = dict(zip(top, unique([label(names.get(k, k)) for k in top]), strict=True))
    other_label = f"Other ({other_count})"
    data = []
    for product, _ in products_by_spend(rows):
        merged: dict[str, Decimal] = defaultdict(Decimal)
        for row in rows:
            if row["product"] == product and row[key] in labels:
                merged[row[key]] += row["net_amount"] or ZERO
        if not merged:
            continue
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": label(product),
                "y": [labels[k] for k in merged],
                "x": [as_float(v) for v in merged.values()],
                "marker": {"color": product_colour(product)},
                "hovertemplate": "%{y}<br>%{fullData.name}: $%{x:,.2f}<extra></extra>",
            }
        )
    order = [labels[k] for k in top]
    if other_count:
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": "Other",
                "y": [other_label],
                "x": [as_float(other)],
                "marker": {"color": OTHER_COLOUR},
                "hovertemplate": "%{y}: $%{x:,.2f}<extra></extra>",
            }
        )
        order.append(other_label)
    chart.figure = figure(
        data,
        barmode="relative",
        showlegend=True,
        height=max(220, 90 + 26 * len(order)),
        margin={"l": 8, "r": 16, "t": 8, "b": 40},
        yaxis={
            "categoryorder": "array",
            "categoryarray": order,
            "autorange": "reversed",
            "automargin": True,
        },
        xaxis={"tickprefix": "$", "tickformat": ",.0f", "rangemode": "tozero", "nticks": 6},
    )
    grand = sum(totals.values(), ZERO)
    firsts = "; ".join(
        f"{names.get(k, k)} {money(totals[k])}"
        + (f" ({totals[k] / grand * 100:.0f}%)" if grand > 0 else "")
        for k in top[:3]
    )
    chart.summary = f"Largest: {firsts}." + (
        f" {other_count} more together {money(other)}." if other_count else ""
    )
    chart.rows = [[names.get(k, k), money(totals[k])] for k in top]
    if other_count:
        chart.rows.append([f"Other ({other_count})", money(other)])


def sku_chart(rows: Sequence[dict[str, Any]]) -> Chart:
    chart = Chart("skus", f"Net spend by SKU (top {TOP_SKUS})", "", columns=["SKU", "Net"])
    _ranked_bars(chart, rows, "sku", TOP_SKUS, {})
    return chart


def repository_chart(rows: Sequence[dict[str, Any]]) -> Chart:
    chart = Chart(
        "repositories",
        f"Top repositories by net spend (top {TOP_REPOSITORIES})",
        "",
        columns=["Repository", "Net"],
    )
    _ranked_bars(chart, rows, "repository", TOP_REPOSITORIES, {"": NO_REPOSITORY_LABEL})
    without = sum((r["net_amount"] or ZERO for r in rows if r["repository"] == ""), ZERO)
    if rows:
        chart.note = (
            f"Usage GitHub reports without a repository (Copilot seats, org-wide storage...) "
            f"is shown as “{NO_REPOSITORY_LABEL}”: {money(without)}."
        )
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


def _budget_words(b: BudgetLine) -> str:
    return f"{b.label}: {money(b.spend)} of {money(b.amount)}, projected {money(b.projection)}" + (
        " (GitHub stops usage at the budget)" if b.stops_usage else ""
    )


def budget_chart(
    lines: Sequence[BudgetLine], month: date, *, shown_of: int | None = None, filtered: str = ""
) -> Chart:
    """This month's spend per budget (bars) against the budget (a line); the table lists
    each budget's scope, amount, spend, projection, verdict and whether it stops usage.
    `shown_of`: how many budgets the org has when the page's filters kept only `lines`;
    `filtered`: the filters in words."""
    chart = Chart(
        "budgets",
        f"Budgets, {month:%B %Y}",
        "",
        columns=["Budget", "Scope", "Amount", "Spent", "Projected", "Status", "Stops usage"],
    )
    chart.note = (
        f"Budgets are monthly: these are {month:%B %Y} to date, whatever dates are chosen above."
    )
    if shown_of is not None and filtered:
        chart.note += (
            f" Showing the {len(lines)} of {shown_of} budget{'s' if shown_of != 1 else ''} "
            f"that cover {filtered}."
        )
    measured = [b for b in lines if b.spend is not None]
    for b in lines:
        chart.rows.append(
            [
                f"{b.target_kind[0].upper()}{b.target_kind[1:]}: {b.target}"
                if b.target_kind != "all usage"
                else "All usage",
                b.scope + (f" ({b.note})" if b.note else ""),
                money(b.amount),
                money(b.spend),
                money(b.projection),
                b.verdict,
                "yes" if b.stops_usage else "no",
            ]
        )
    if not measured:
        chart.summary = (
            "No budget covers what is chosen above."
            if not lines
            else "No budget of this organization can be measured here."
        )
        return chart
    names = unique([label(b.label, 60) for b in measured])
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": "Spent this month",
            "y": names,
            "x": [as_float(b.spend) for b in measured],
            "marker": {"color": [product_colour(b.product) for b in measured]},
            "hovertemplate": "%{y}<br>spent $%{x:,.2f}<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": "Budget",
            "y": names,
            "x": [as_float(b.budget.budget_amount) for b in measured],
            "marker": {"symbol": "line-ns", "size": 26, "line": {"width": 3, "color": TEXT_COLOUR}},
            "hovertemplate": "%{y}<br>budget $%{x:,.2f}<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": "Projected at month end",
            "y": names,
            "x": [as_float(b.projection) for b in measured],
            "marker": {"symbol": "diamond-open", "size": 10, "color": "#59636e"},
            "hovertemplate": "%{y}<br>projected $%{x:,.2f}<extra></extra>",
        },
    ]
    chart.figure = figure(
        data,
        height=max(220, 90 + 34 * len(measured)),
        margin={"l": 8, "r": 16, "t": 8, "b": 40},
        yaxis={"autorange": "reversed", "automargin": True, "type": "category"},
        xaxis={"tickprefix": "$", "tickformat": ",.0f", "rangemode": "tozero", "nticks": 6},
    )
    over = [b for b in measured if b.over]
    ahead = [b for b in measured if b.projected_over]
    chart.summary = (
        f"{len(measured)} budget{'s' if len(measured) != 1 else ''}: "
        f"{len(over)} used up, {len(ahead)} projected to run over by month end"
        + (": " + "; ".join(_budget_words(b) for b in over + ahead) if over or ahead else "")
        + "."
    )
    return chart
