"""Issue 13 item 8, the budgets panel: "used up" and "projected to run over" are computed
once (`BudgetLine.over`, `.projected_over`) and the summary names exactly those; each
budget shows its scope, what it covers (product or SKU, by the vocabulary's labels),
its amount as money, spent, projected and whether GitHub stops usage there; the panel
follows the page's product/SKU/repository filters and says budgets are per month; the
staff admin lists budgets with money and product/SKU columns."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import StaffUserFactory
from usage import periods
from usage.models import Budget
from usage.reporting.budget_lines import budget_lines
from usage.reporting.filters import parse
from usage.reporting.formatting import money
from usage.reporting.reports import headline

pytestmark = [pytest.mark.django_db, pytest.mark.dates]

ALLOWED = ("olivia", "bill")
HIDDEN = ("mia", "charlie")


def budget(org, github_id: str, amount: Decimal, target: str, **kw) -> Budget:
    return Budget.objects.create(
        organization=org,
        github_id=github_id,
        budget_type=kw.pop("budget_type", "ProductPricing"),
        budget_scope=kw.pop("scope", "organization"),
        budget_entity_name=kw.pop("entity", ""),
        budget_amount=amount.quantize(Decimal("0.01")),
        prevent_further_usage=kw.pop("prevent", False),
        product_skus=[target],
        fetched_at=timezone.now(),
    )


@pytest.fixture
def budgets(acme):
    """acme-corp with four budgets placed around this month's Actions spend: one used
    up, one projected to run over (when the month has days left), two within."""
    Budget.objects.filter(organization=acme).delete()
    head = headline(acme, parse({})[0], periods.today())
    budget(acme, "probe", Decimal("1000000"), "actions")
    [probe] = budget_lines(acme, head)
    spend, projection = probe.spend, probe.projection
    assert spend and spend > 0
    Budget.objects.filter(organization=acme).delete()
    budget(acme, "b-over", spend / 2, "actions", prevent=True)
    if projection > spend:
        budget(acme, "b-ahead", (spend + projection) / 2, "actions")
    budget(acme, "b-within", projection * 2 + 1, "actions")
    budget(acme, "b-copilot", Decimal("1000000"), "copilot")
    budget(acme, "b-sku", Decimal("1000000"), "actions_linux", budget_type="SkuPricing")
    return {"spend": spend, "projection": projection, "ahead": projection > spend}


def panel(client, user, query=""):
    client.force_login(user)
    response = client.get(f"/orgs/acme-corp/{query}")
    assert response.status_code == 200
    chart = next(c for c in response.context["charts"] if c.key == "budgets")
    return chart, response.content.decode()


def test_over_and_projected_over_are_counted_once_and_named(client, acme, budgets, people):
    for login in ALLOWED:
        chart, html = panel(client, people[login])
        statuses = [row[5] for row in chart.rows]
        used_up = [s for s in statuses if s.startswith("used up")]
        ahead = [s for s in statuses if s == "projected to run over"]
        assert len(used_up) == 1 and len(ahead) == (1 if budgets["ahead"] else 0)
        # The summary's counts are the table's, and it names exactly those budgets.
        assert f"{len(used_up)} used up, {len(ahead)} projected to run over" in chart.summary
        over_amount = money((budgets["spend"] / 2).quantize(Decimal("0.01")))
        assert f"of {over_amount}" in chart.summary
        assert "GitHub stops usage at the budget" in chart.summary
        assert "Copilot" not in chart.summary  # within its budget: not listed as over
        # Every budget: what it covers, scope, amount as money, spent, projected, stops.
        assert chart.columns == [
            "Budget",
            "Scope",
            "Amount",
            "Spent",
            "Projected",
            "Status",
            "Stops usage",
        ]
        row = next(r for r in chart.rows if r[0] == "SKU: Actions Linux")
        assert row[1] == "Whole organization" and row[2] == "$1,000,000.00"
        assert re.fullmatch(r"−?\$[\d,]+\.\d\d", row[3]) and row[6] == "no"
        assert next(r for r in chart.rows if r[5].startswith("used up"))[6] == "yes"
        month = periods.current_month()
        assert f"Budgets are monthly: these are {month:%B %Y} to date" in html
    for login in HIDDEN:
        client.force_login(people[login])
        assert client.get("/orgs/acme-corp/").status_code == 404


def test_the_panel_follows_the_product_filter(client, acme, budgets, people):
    chart, html = panel(client, people["bill"], "?product=copilot")
    assert [r[0] for r in chart.rows] == ["Product: Copilot"]
    # Five budgets, or four on a month's last day (no "ahead" one: nothing left to project).
    count = Budget.objects.filter(organization=acme).count()
    assert f"Showing the 1 of {count} budgets that cover product Copilot." in html, chart.note
    assert "used up" not in chart.summary or "0 used up" in chart.summary
    chart, _ = panel(client, people["bill"], "?product=actions")
    covers = sorted(r[0] for r in chart.rows)
    assert "Product: Copilot" not in covers and "SKU: Actions Linux" in covers
    chart, _ = panel(client, people["bill"], "?sku=actions_linux")
    assert "Product: Copilot" not in [r[0] for r in chart.rows]


def test_the_admin_lists_budgets_as_money_with_their_product_or_sku(client, acme, budgets):
    client.force_login(StaffUserFactory(username="ops-budgets"))
    html = client.get("/admin/usage/budget/").content.decode()
    assert "$1,000,000.00" in html
    assert "0000000" not in html.replace("1,000,000", "")  # no raw 10-decimal amounts
    assert "Product Copilot" in html and "SKU Actions Linux" in html
    assert "Whole organization" in html
