"""Long ranges in a real browser: a year of acme-corp collected from the simulator, drawn
as 12 monthly bars (not 365 daily ones) labelled with their months, the partial one
marked; this month drawn by day up to today; weeks on request. Screenshots go to
/tmp/shots/h-periods-*.png for people to look at."""

from __future__ import annotations

from datetime import date

import pytest

from tests.browser import SHOTS
from usage import periods
from usage.periods import month_end

from .conftest import collect, dec, join, mirror, sim_totals

pytestmark = [pytest.mark.e2e, pytest.mark.dates, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def acme_year(dash, people):
    org = mirror(dash, "acme-corp")
    join(org, people)
    collect(org, [periods.add_months(periods.current_month(), -i) for i in range(13)])
    return org


def ticks(page) -> list[str]:
    return page.locator("#chart-daily .xtick").all_text_contents()


def test_a_year_by_month_this_month_by_day_weeks_on_request(acme_year, people, tabs, dash, client):
    today = periods.today()
    # Each month's bar is GitHub's own sum of its days in the range, to the cent.
    client.force_login(people["bill"])
    months = client.get("/api/orgs/acme-corp/usage", {"range": "12m", "group_by": "month"})
    for group in months.json()["groups"]:
        theirs = sim_totals(
            dash,
            acme_year,
            *map(date.fromisoformat, (group["first_day"], group["last_day"])),
            "day",
        )
        assert dec(group["net_amount"]) == dec(theirs["total"]["net"]), group["key"]
    tab = tabs.new("bill", viewport={"width": 1366, "height": 900})
    tab.login_as(people["bill"])

    tab.goto("/orgs/acme-corp/?range=12m")
    assert tab.wait_for_charts() == 5
    page = tab.page
    bars = page.locator("#chart-daily .trace.bars").first.locator(".point").count()
    assert bars == 12
    labels = ticks(page)
    # A label per month; an edge month under half its days is labelled in its hover
    # text, the table and the note instead (too narrow for an axis label).
    assert 11 <= len(labels) <= 12, labels
    note = page.locator(".chart-daily .muted.small").first.text_content()
    if today != month_end(today):
        assert f"{today.day} {today:%b %Y} (partial)" in note, note
    text = page.locator("#range-dates").text_content()
    assert "this month to date and the 11 whole months before it" in text
    assert "by calendar month" in text
    tab.check_clean()
    tab.shot("h-periods-12m")
    # Quantities with thousands separators as in the tables ("250,000"), never "250k".
    yticks = page.locator("#chart-quantity .ytick").all_text_contents()
    assert yticks and not any(t.rstrip().endswith(("k", "M")) for t in yticks), yticks
    page.locator(".chart-quantity").screenshot(path=str(SHOTS / "h-periods-12m-quantity.png"))
    page.locator(".chart-daily").screenshot(path=str(SHOTS / "h-periods-12m-daily.png"))
    qticks = page.locator("#chart-quantity .xtick").all_text_contents()
    assert qticks == labels, (qticks, labels)
    top = page.locator("#filters")
    top.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "h-periods-12m-top.png"))

    tab.goto("/orgs/acme-corp/")
    tab.wait_for_charts()
    assert "by day" in page.locator("#range-dates").text_content()
    assert f"{today.day} {today:%b %Y}" in page.locator("#range-dates").text_content()
    tab.check_clean()
    tab.shot("h-periods-this-month")
    page.screenshot(path=str(SHOTS / "h-periods-this-month-top.png"))

    tab.goto("/orgs/acme-corp/?range=6m")
    tab.wait_for_charts()
    assert "ISO weeks, Monday to Sunday" in page.locator("#range-dates").text_content()
    assert 22 <= page.locator("#chart-daily .trace.bars").first.locator(".point").count() <= 28
    tab.check_clean()
    tab.shot("h-periods-6m-weeks")
    page.locator("#chart-daily").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "h-periods-6m-weeks-top.png"))
