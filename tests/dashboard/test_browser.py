"""The dashboard in a real browser (headless Chromium, Playwright) against the live
server with data collected from the simulator: every chart is drawn by plotly.js, with
no console error, no page error and no Content-Security-Policy violation; a filter
changes a chart; the CSV downloads; untrusted names never run as script. Screenshots go
to ``test-artifacts/`` when something fails."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from usage.models import UsageItem

from .conftest import collect, join, mirror, this_and_last_month

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def session(tabs):
    """session(user) -> a browser tab (`tests.browser.Tab`) signed in as `user`."""

    def start(user, width: int = 1280):
        tab = tabs.new(user.github_login, viewport={"width": width, "height": 900})
        tab.login_as(user)
        return tab

    return start


def open_page(s, path: str) -> None:
    s.goto(path)
    s.wait_for_charts()


@pytest.mark.parametrize("who", ["olivia", "bill"])
def test_charts_filters_and_csv_in_a_real_browser(acme, people, session, who):
    s = session(people[who])
    open_page(s, "/orgs/acme-corp/")
    page = s.page
    drawn = s.wait_for_charts()
    assert drawn == 5  # daily, SKUs, repositories, quantity, budgets
    for chart in page.locator("[data-plotly-figure]").all():
        assert chart.locator(".main-svg").count() >= 1
    s.check_clean()

    # A filter changes a chart: only Copilot left in the daily chart's legend.
    legend = page.locator("#chart-daily .legend .traces")
    assert legend.count() > 1
    page.select_option("select[name=product]", "copilot")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**product=copilot**")
    s.wait_for_charts()
    assert page.locator("#chart-daily .legend .traces").count() == 1
    assert "copilot" in page.locator("#chart-daily .legend").text_content().lower()
    s.check_clean()

    # The CSV of exactly the filtered rows downloads.
    with page.expect_download() as download:
        page.click("[data-csv]")
    body = Path(download.value.path()).read_text()
    rows = list(csv.reader(io.StringIO(body)))
    expected = UsageItem.objects.filter(
        organization=acme, product="copilot", date__gte=acme_month_start()
    ).count()
    assert rows[0][0] == "date" and len(rows) - 1 == expected
    assert {r[1] for r in rows[1:]} == {"copilot"}
    s.check_clean()


def acme_month_start():
    from usage import periods

    return periods.current_month()


def test_untrusted_names_stay_text_in_the_browser(dash, people, session):
    globex = mirror(dash, "globex")  # its third repository is named </script><script>...
    join(globex, people)
    collect(globex, this_and_last_month()[:1])
    s = session(people["olivia"])
    open_page(s, "/orgs/globex/?range=this_month")
    ticks = s.page.locator("#chart-repositories .ytick").all_text_contents()
    assert any("</script><script>alert(1)</script>" in t for t in ticks), ticks
    cells = s.page.locator("#line-items td.repo").all_inner_texts()
    s.page.goto(s.base + "/orgs/globex/?repository=globex/</script><script>alert(1)</script>")
    s.wait_for_charts()
    assert s.page.locator("#line-items td.repo").count() > 0
    assert set(s.page.locator("#line-items td.repo").all_inner_texts()) == {
        "globex/</script><script>alert(1)</script>"
    }
    assert cells
    s.check_clean()  # no dialog opened: nothing ran


def test_phone_width_is_readable(acme, people, session):
    s = session(people["olivia"], width=390)
    open_page(s, "/orgs/acme-corp/")
    # Nothing wider than the screen except inside scrollable table wrappers.
    overflow = s.page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 390, overflow
    s.check_clean()


def test_keyboard_reaches_skip_link_filters_and_sorting(acme, people, session):
    s = session(people["bill"])
    open_page(s, "/orgs/acme-corp/")
    page = s.page
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # Tab order reaches the filters (range first) and, further on, the sort links.
    seen = []
    for _ in range(100):  # about 61 stops: header, filters, each chart's plotly buttons
        page.keyboard.press("Tab")
        seen.append(page.evaluate("document.activeElement.getAttribute('name') || ''"))
        if page.evaluate("!!document.activeElement.closest('.items-table thead')"):
            break
    assert "range" in seen and "product" in seen
    page.keyboard.press("Enter")  # sort by that column
    page.wait_for_url("**sort=**")
    s.wait_for_charts()
    s.check_clean()
