"""The dashboard's budgets chart: this month's spend per budget against the budget and
the projection at month end (names HTML-escaped as in `usage.reporting.charts`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from usage.reporting.budget_lines import BudgetLine
from usage.reporting.chart_base import TEXT_COLOUR, Chart, as_float, figure, product_colour
from usage.reporting.formatting import label, money, unique


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
