"""Issue 13's states in a real browser (headless Chromium): GitHub failing on acme-corp
(the dashboard's banner and its "details" disclosure), initech (not on the enhanced
billing platform) for its owner oscar on the dashboard and the wizard's step 3, and the
`/orgs/` overview with a failing, an unavailable and an uninstalled org. No console
error or CSP violation; screenshots in ``$STATUS_SHOTS`` when it is set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.models import Installation, Membership
from tests.factories import MembershipFactory, UserFactory
from tests.helpers import allow_github_origin
from usage import periods
from usage.collection.collect import org_collect_due
from usage.collection.services import run_enqueue

from .conftest import collect, join, mirror

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("STATUS_SHOTS", "")


def shot(tab, name: str, *, full_page: bool = True) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        path = Path(SHOTS) / f"h-status-{name}.png"
        tab.page.screenshot(path=str(path), full_page=full_page)


def test_states_in_a_real_browser(dash, people, make_org, tabs, settings):
    settings.GITHUB_HTTP_MAX_ATTEMPTS = 1
    settings.COLLECTION_MAX_ATTEMPTS = 5
    allow_github_origin(settings, dash.web_url)  # the orgs' avatars
    acme = mirror(dash, "acme-corp")
    join(acme, people)
    collect(acme, [periods.current_month(), periods.previous_month()])
    initech = mirror(dash, "initech")
    join(initech, people)
    oscar = UserFactory(github_id=5550005, github_login="oscar", username="github-5550005")
    MembershipFactory(user=oscar, organization=initech, role=Membership.Role.OWNER)
    collect(initech, [periods.current_month()], expect_success=False)
    gone = make_org("gone-co")
    Installation.objects.filter(organization=gone).update(
        state=Installation.State.DELETED, deleted_at=timezone.now()
    )
    # GitHub answers acme-corp's usage report with 502: the refresh's first attempt fails.
    dash.control.fault("status", "^/organizations/acme-corp/settings/billing/usage$", status=502)
    run_enqueue(organization=acme, period=periods.current_month(), trigger="manual", send=False)
    org_collect_due(organization_id=acme.pk, holder="browser")

    tab = tabs.new("olivia", viewport={"width": 1366, "height": 900})
    tab.login_as(people["olivia"])
    tab.goto("/orgs/acme-corp/")
    tab.wait_for_charts()
    banner = tab.page.locator("#org-status")
    assert "GitHub is not answering; we will retry at" in banner.inner_text()
    assert tab.page.locator("#org-status details").is_visible()
    tab.page.locator("#org-status details summary").click()
    assert "502" in tab.page.locator("#org-status details").inner_text()
    shot(tab, "dashboard-github-failing", full_page=False)  # the top: header and banner
    tab.page.locator("#chart-budgets-title").scroll_into_view_if_needed()
    shot(tab, "budgets-panel", full_page=False)
    tab.check_clean()

    tab.goto("/orgs/")
    rows = tab.page.locator("tr[data-org]")
    assert rows.count() >= 3
    assert "GitHub not answering" in tab.page.locator('tr[data-org="acme-corp"]').inner_text()
    gone_row = tab.page.locator('tr[data-org="gone-co"]').inner_text()
    assert "Install the App again" in gone_row and "Open dashboard" not in gone_row
    shot(tab, "overview")
    tab.check_clean()

    o = tabs.new("oscar", viewport={"width": 1366, "height": 900})
    o.login_as(oscar)
    o.goto("/orgs/initech/")
    text = o.page.locator("main").inner_text()
    assert text.count("is not on the enhanced billing platform") == 1
    shot(o, "initech-oscar-dashboard")
    o.goto("/orgs/initech/install/")
    o.wait_for(
        "document.querySelector('[data-progress-state]') !== null",
        what="the wizard's poll to settle",
    )
    assert "asks GitHub again every day" in o.page.locator("#progress").inner_text()
    assert o.page.locator("[data-progress-open]").is_visible()
    shot(o, "initech-oscar-wizard")
    o.goto("/orgs/")
    assert "Not on enhanced billing" in o.page.locator('tr[data-org="initech"]').inner_text()
    shot(o, "initech-oscar-overview")
    o.check_clean()
    dash.control.clear_faults()
