"""People's journeys in a real browser (headless Chromium via Playwright) against the real
stack: the live server, a Celery worker process on Redis, PostgreSQL and the GitHub
simulator (see ``conftest.py``). Every journey signs in as a person does: "Sign in with
GitHub", then the persona's button on GitHub's (the simulator's) account picker.

1. olivia (owner) sees her roles, installs the App on GitHub's page, watches the first
   collection's progress update without a reload, lands on a dashboard whose charts are
   drawn;
2. bill (billing manager) asks for the App, olivia installs it, bill then sees the
   dashboard;
3. mia (member) sees her organizations and nothing to open;
4. charlie (stranger) opening an organization's URL gets the 404 page;
5. olivia signs out with the button, and her session is gone.

No console error, page error, dialog or Content-Security-Policy violation anywhere.
Screenshots of each journey's last page: ``/tmp/shots/e2e-*.png``; on failure every tab
writes a screenshot and its HTML to ``test-artifacts/<test-name>/``.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from playwright.sync_api import Error as PlaywrightError

from accounts.models import Installation, InstallRequest
from tests.browser import wait_until
from usage.models import CollectionRun

from .conftest import BACKFILL_MONTHS, ORG, deliveries_settled

pytestmark = pytest.mark.e2e

USAGE = rf"^/organizations/{ORG}/settings/billing/usage$"


def roles(tab) -> dict[str, str]:
    """The organization list as shown: login → role."""
    rows = tab.page.locator("table.org-list tbody tr")
    return {
        row.get_attribute("data-org"): row.locator("td").first.inner_text().strip()
        for row in rows.all()
    }


def install_on_github(tab, sim) -> None:
    """On the wizard's install step: to GitHub's install page, press Install, and back
    to the wizard through the App's Setup URL."""
    tab.page.locator("#install-button").click()
    tab.page.wait_for_url(f"{sim.web_url}/apps/**")
    assert ORG in tab.page.content()
    tab.page.locator("button[name=install]").click()
    tab.page.wait_for_url(f"{tab.base}/orgs/{ORG}/install/")


def assert_charts_drawn(tab) -> int:
    drawn = tab.wait_for_charts()
    assert drawn >= 4, drawn  # daily, SKUs, repositories, quantity (+ budgets)
    for chart in tab.page.locator("[data-plotly-figure]").all():
        assert chart.locator(".main-svg").count() >= 1, chart.get_attribute("id")
    return drawn


def watch_progress(tab) -> list[dict]:
    """What the wizard's progress step shows, sampled until the page goes elsewhere.
    Each sample says whether it is still the document we marked (no reload)."""
    tab.page.evaluate("window.__sameDocument = true")
    seen: list[dict] = []
    read = """() => {
      const bar = document.querySelector('[data-progress-bar]');
      return {same: window.__sameDocument === true,
              months: document.querySelector('[data-progress-months]').textContent,
              status: document.querySelector('[data-progress-status]').textContent,
              value: bar.value, max: bar.max};
    }"""
    dashboard = f"{tab.base}/orgs/{ORG}/"
    for _ in range(900):  # 90 s at most
        if tab.page.url == dashboard:
            break
        try:
            sample = tab.page.evaluate(read)
        except PlaywrightError:  # the page is navigating to the dashboard
            continue
        if not seen or sample != seen[-1]:
            seen.append(sample)
        tab.page.wait_for_timeout(100)
    tab.page.wait_for_url(dashboard)
    return seen


@pytest.mark.integration
def test_owner_installs_the_app_and_lands_on_drawn_charts(tabs, e2e, celery_worker):
    # GitHub's usage report answers slowly enough for the progress to be seen moving.
    e2e.control.fault("latency", USAGE, latency_ms=1200)
    olivia = tabs.new("olivia")
    olivia.sign_in("olivia")
    assert roles(olivia) == {"acme-corp": "Owner", "globex": "Owner", ORG: "Owner"}
    row = olivia.page.locator(f'tr[data-org="{ORG}"]')
    assert "App not installed" in row.inner_text()
    row.get_by_role("link", name="Install the App").click()

    olivia.page.wait_for_url(f"**/orgs/{ORG}/install/")
    assert "read-only" in olivia.page.inner_text("main")
    install_on_github(olivia, e2e)
    olivia.page.get_by_text(f"billingdash is installed on {ORG}").wait_for()
    timeline = watch_progress(olivia)

    # The progress moved on one document (no reload): months and the bar went up.
    assert timeline and all(s["same"] for s in timeline), timeline
    assert len({s["months"] for s in timeline}) >= 2, timeline
    values = [s["value"] for s in timeline if s["max"] == BACKFILL_MONTHS]
    assert values and values == sorted(values) and values[-1] >= 1, timeline
    # The one state's sentence (usage.reporting.status), said as the months arrive.
    assert any(s["status"].startswith("Collecting this organization") for s in timeline), timeline

    # A new document: the dashboard, every chart drawn by plotly.js.
    assert olivia.page.evaluate("window.__sameDocument") is None
    assert_charts_drawn(olivia)
    runs = CollectionRun.objects.filter(organization__login=ORG, trigger="backfill")
    assert runs.filter(state="succeeded").count() == BACKFILL_MONTHS
    olivia.check_clean()
    olivia.shot("e2e-1-owner-dashboard")


@pytest.mark.integration
def test_billing_manager_asks_owner_installs_billing_manager_sees_dashboard(
    tabs, e2e, celery_worker
):
    bill = tabs.new("bill")
    bill.sign_in("bill")
    assert roles(bill)[ORG] == "Billing manager"
    bill.page.locator(f'tr[data-org="{ORG}"]').get_by_role("link", name="Ask an owner").click()
    bill.page.wait_for_url(f"**/orgs/{ORG}/install/")
    bill.page.get_by_role("heading", name=f"Ask an owner of {ORG} to install the App").wait_for()
    assert bill.page.locator("[data-install-request]").is_visible()
    message = bill.page.input_value("#share-message")
    assert f"/install/?org={ORG}" in message
    waiting = InstallRequest.objects.get(user__github_login="bill", fulfilled_at__isnull=True)

    # The owner, in a browser of her own, installs the App on GitHub's page.
    olivia = tabs.new("olivia")
    olivia.sign_in("olivia")
    olivia.goto(f"/orgs/{ORG}/install/")
    install_on_github(olivia, e2e)
    olivia.page.get_by_text(f"billingdash is installed on {ORG}").wait_for()

    # GitHub's installation.created webhook reaches the live server; the worker fulfils
    # bill's request. bill reloads his list: the organization opens now.
    e2e.control.wait_for_deliveries()
    wait_until(
        lambda: InstallRequest.objects.filter(pk=waiting.pk, fulfilled_at__isnull=False).exists(),
        "the installation webhook to fulfil bill's request",
        log=celery_worker.log,
    )
    bill.goto("/orgs/")
    bill.page.locator(f'tr[data-org="{ORG}"]').get_by_role("link", name="Open dashboard").click()
    bill.page.wait_for_url(f"{bill.base}/orgs/{ORG}/")
    # While the first months are collected the page follows the progress and reloads.
    bill.wait_for(
        "document.querySelectorAll('[data-plotly-figure]').length > 0",
        timeout=90,
        what="the dashboard's charts",
    )
    assert_charts_drawn(bill)
    assert "you are billing manager" in bill.page.inner_text(".dash-header")
    wait_until(deliveries_settled, "the webhook deliveries", log=celery_worker.log)
    assert Installation.objects.get(organization__login=ORG).installed_by.github_login == "olivia"
    olivia.check_clean()
    bill.check_clean()
    bill.shot("e2e-2-billing-manager-dashboard")


def test_member_sees_her_organizations_and_nothing_to_open(tabs, e2e):
    mia = tabs.new("mia")
    mia.sign_in("mia")
    listed = roles(mia)
    assert listed == {"acme-corp": "Member", "globex": "Member", ORG: "Member"}
    table = mia.page.locator("table.org-list")
    assert table.locator("a, button").count() == 0  # nothing to open
    for login in listed:
        assert "Nothing to see" in table.locator(f'tr[data-org="{login}"]').inner_text()
    assert mia.page.locator("[data-total]").count() == 0  # no spend shown
    mia.check_clean()
    mia.shot("e2e-3-member-orgs")


def test_stranger_opening_an_org_url_gets_the_404_page(tabs, e2e):
    # acme-corp is known here (its owner signed in), with the App installed at GitHub.
    olivia = tabs.new("olivia")
    olivia.sign_in("olivia")
    charlie = tabs.new("charlie")
    charlie.sign_in("charlie")
    assert charlie.page.get_by_role("heading", name="No organizations").is_visible()

    pages = {}
    for path in ("/orgs/acme-corp/", "/orgs/acme-corp/install/", "/orgs/no-such-org/"):
        charlie.goto(path, status=404)
        assert charlie.page.title().startswith("Not found")
        assert charlie.page.get_by_role("heading", name="Page not found").is_visible()
        text = charlie.page.inner_text("main")
        assert "acme" not in text.lower()
        pages[path] = text
    # A real organization's 404 is the same page as a missing one's.
    assert pages["/orgs/acme-corp/"] == pages["/orgs/no-such-org/"]
    charlie.goto("/orgs/acme-corp/", status=404)
    charlie.check_clean(expected_http=tuple(charlie.base + p for p in pages))
    olivia.check_clean()
    charlie.shot("e2e-4-stranger-404")


def test_sign_out_ends_the_session(tabs, e2e):
    olivia = tabs.new("olivia")
    olivia.sign_in("olivia")
    name = settings.SESSION_COOKIE_NAME
    (cookie,) = [c for c in olivia.context.cookies() if c["name"] == name]
    assert Session.objects.filter(session_key=cookie["value"]).exists()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    olivia.page.get_by_role("button", name="Sign out").click()
    olivia.page.wait_for_url(f"{olivia.base}/login/")
    assert "You are signed out." in olivia.page.inner_text(".messages")
    assert olivia.page.get_by_role("button", name="Sign in with GitHub").is_visible()
    assert olivia.page.get_by_role("button", name="Sign out").count() == 0
    olivia.shot("e2e-5-signed-out")

    # Gone on the server (not only forgotten by the browser): the old cookie, replayed
    # in another browser, opens nothing.
    assert not Session.objects.filter(session_key=cookie["value"]).exists()
    assert name not in {c["name"] for c in olivia.context.cookies()}
    olivia.goto("/orgs/")
    assert olivia.page.url == f"{olivia.base}/login/?next=/orgs/"
    thief = tabs.new("replay")
    thief.context.add_cookies([{"name": name, "value": cookie["value"], "url": thief.base}])
    thief.goto(f"/orgs/{ORG}/")
    assert thief.page.url.startswith(f"{thief.base}/login/?next=")
    olivia.check_clean()
    thief.check_clean()
