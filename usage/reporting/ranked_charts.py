"""The dashboard's ranked bars: net spend of the top SKUs and the top repositories,
stacked by product, plus "other" (names HTML-escaped as in `usage.reporting.charts`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from usage.reporting.chart_base import OTHER_COLOUR, ZERO, Chart, as_float, figure, product_colour
from usage.reporting.charts import products_by_spend
from usage.reporting.filters import NO_REPOSITORY as NO_REPOSITORY_LABEL
from usage.reporting.formatting import label, money, unique
from usage.reporting.reports import net_by

TOP_SKUS = 10
TOP_REPOSITORIES = 15


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
