"""A real browser (Chromium through Playwright) against a live server, the simulator and
a real Celery worker: olivia signs in, opens globex's wizard, installs the App on GitHub's
page, watches the first collection's progress update without a reload, and lands on
the dashboard.

Screenshots: ``test-artifacts/`` when the journey fails; ``/tmp/shots/wizard-*.png``
(set ``WIZARD_SHOTS=0`` to skip) for people to look at.
"""

from __future__ import annotations

import os

import pytest

from .conftest import set_setup_url

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def shot(tab, name: str) -> None:
    if os.environ.get("WIZARD_SHOTS", "1") != "0":
        tab.shot(f"wizard-{name}")


def test_owner_installs_and_reaches_the_dashboard(tabs, wgh, live_server, celery_worker):
    wgh.control.set_webhook_url(live_server.url + "/github/webhook/")
    set_setup_url(wgh, live_server.url + "/github/setup/")
    # Slow GitHub's usage report a little so the progress is seen moving.
    wgh.control.fault("latency", r"^/organizations/globex/settings/billing/usage$", latency_ms=1200)
    tab = tabs.new("olivia", viewport={"width": 1100, "height": 800})
    page = tab.page
    errors: list[tuple[str, str]] = []
    page.on("console", lambda m: errors.append((page.url, m.text)) if m.type == "error" else None)
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    quiet = ("favicon.ico",)  # browsers ask for it; side pages have none (not a page error)
    page.goto(live_server.url + "/login/")
    page.get_by_role("button", name="Sign in with GitHub").click()
    page.locator("button[name=login][value=olivia]").click()  # GitHub's account picker
    page.wait_for_url(f"{live_server.url}/orgs/")

    page.goto(f"{live_server.url}/orgs/globex/install/")
    page.get_by_text("read-only").first.wait_for()
    shot(tab, "1-install")
    page.locator("#install-button").click()
    page.wait_for_url(f"{wgh.web_url}/apps/**")  # GitHub's install page
    shot(tab, "2-github")
    page.locator("button[name=install]").click()

    # GitHub -> /github/setup/ -> the wizard's progress step.
    page.wait_for_url(f"{live_server.url}/orgs/globex/install/")
    page.evaluate("window.__sameDocument = true")
    page.get_by_text("billingdash is installed on globex").wait_for()
    tab.wait_for(
        "Number(document.querySelector('[data-progress-bar]').value) >= 1"
        " && window.__sameDocument === true",
    )
    months = page.locator("[data-progress-months]").inner_text()
    assert months.endswith("of 3"), months
    shot(tab, "3-progress")

    # The wizard's pages so far: no CSP violation, no failed request.
    assert not [url for url in failed if not url.endswith(quiet)], failed
    # (a failed request also logs "Failed to load resource"; those are checked above)
    console = [e for e in errors if "Failed to load resource" not in e[1]]
    assert not console, console
    page.wait_for_url(f"{live_server.url}/orgs/globex/", timeout=90_000)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__sameDocument") is None  # a new page: the dashboard
    shot(tab, "4-dashboard")
    assert "globex" in page.content().lower()
    # No CSP violation, page error or dialog on any page of the journey.
    tab.check_clean()
