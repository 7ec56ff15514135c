"""Long ranges in a real browser: a year of acme-corp collected from the simulator, drawn
as 12-13 monthly bars (not 365 daily ones) labelled with their months, partial edges
marked; this month drawn by day up to today; weeks on request. Screenshots go to
/tmp/shots/h-periods-*.png for people to look at."""

from __future__ import annotations

import pytest

from tests.browser import SHOTS
from usage import periods
from usage.reporting.filters import month_end

from .conftest import collect, join, mirror

pytestmark = [pytest.mark.e2e, pytest.mark.dates, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def acme_year(dash, people):
    org = mirror(dash, "acme-corp")
    join(org, people)
    collect(org, [periods.add_months(periods.current_month(), -i) for i in range(13)])
    return org


def ticks(page) -> list[str]:
    return page.locator("#chart-daily .xtick").all_text_contents()


def test_a_year_by_month_this_month_by_day_weeks_on_request(acme_year, people, tabs):
    today = periods.today()
    tab = tabs.new("bill", viewport={"width": 1366, "height": 900})
    tab.login_as(people["bill"])

    tab.goto("/orgs/acme-corp/?range=12m")
    assert tab.wait_for_charts() == 5
    page = tab.page
    bars = page.locator("#chart-daily .trace.bars").first.locator(".point").count()
    assert 12 <= bars <= 13
    labels = ticks(page)
    assert 12 <= len(labels) <= 13, labels
    if today != month_end(today):
        assert "partial" in labels[-1]
    text = page.locator("#range-dates").text_content()
    assert "rolling: the 12 months up to today" in text and "by calendar month" in text
    tab.check_clean()
    tab.shot("h-periods-12m")
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
    assert 25 <= page.locator("#chart-daily .trace.bars").first.locator(".point").count() <= 28
    tab.check_clean()
    tab.shot("h-periods-6m-weeks")
    page.locator("#chart-daily").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "h-periods-6m-weeks-top.png"))
