"""The source ladder in a real browser (issue 15, "Done when"): GitHub (the simulator)
refuses installation tokens on the billing endpoints of ``pied-piper``, so the App
collects nothing; olivia, an owner, adds a personal access token on the org's sources
page and sees her dashboard fill, every month equal to the simulator's ground truth to
the cent. Screenshots: ``/tmp/shots/e2e-sources-*.png``."""

from __future__ import annotations

import pytest

from accounts.models import Installation, OrgAccessToken
from tests.helpers import wait_for
from tests.usage.test_collect_worker import assert_month_matches_simulator
from usage import periods
from usage.models import CollectionRun

from .conftest import BACKFILL_MONTHS, ORG, deliveries_settled

pytestmark = pytest.mark.e2e
State = CollectionRun.State


def runs_settled(states=(State.SUCCEEDED, State.FAILED, State.SKIPPED)) -> bool:
    runs = CollectionRun.objects.filter(organization__login=ORG)
    return runs.exists() and not runs.exclude(state__in=states).exists()


@pytest.mark.integration
def test_owner_adds_a_token_where_github_refuses_the_app_and_sees_data(tabs, e2e, celery_worker):
    e2e.control.refuse_installation_tokens(ORG)
    e2e.control.install(ORG)  # the webhook reaches the live server: a backfill starts
    e2e.control.wait_for_deliveries()
    wait_for(deliveries_settled, what="the installation webhook")
    wait_for(runs_settled, what="the App's refused backfill")
    assert not CollectionRun.objects.filter(state=State.SUCCEEDED).exists()
    installation = Installation.objects.get(organization__login=ORG)
    assert installation.state == Installation.State.NEEDS_ATTENTION

    olivia = tabs.new("olivia")
    olivia.sign_in("olivia")
    row = olivia.page.locator(f'tr[data-org="{ORG}"]')
    row.get_by_role("link", name="or add a token").click()
    olivia.page.wait_for_url(f"{olivia.base}/orgs/{ORG}/sources/")
    app = olivia.page.locator('[data-rung="app"]')
    assert app.get_attribute("data-state") == "refused"
    assert "Resource not accessible by integration" in app.inner_text()
    olivia.shot("e2e-sources-refused")

    pat = e2e.control.issue_pat(
        "olivia",
        "fine_grained_pat",
        resource_owner=ORG,
        permissions={"organization_administration": "read"},
        expires_in=30 * 86400,
    )["token"]
    olivia.page.fill("#token-input", pat)
    olivia.page.get_by_role("button", name="Check and save").click()
    olivia.page.wait_for_url(f"{olivia.base}/orgs/{ORG}/sources/")
    assert "Token saved" in olivia.page.content() and pat not in olivia.page.content()
    assert OrgAccessToken.objects.get(organization__login=ORG).github_login == "olivia"

    months = periods.last_months(BACKFILL_MONTHS)
    done = CollectionRun.objects.filter(organization__login=ORG, state=State.SUCCEEDED)
    wait_for(lambda: done.values("period").distinct().count() == len(months), what="months")
    olivia.goto(f"/orgs/{ORG}/")
    assert "figures from a token an owner added" in olivia.page.content()
    olivia.wait_for_charts()
    olivia.shot("e2e-sources-dashboard")
    org = installation.organization
    for period in months:
        assert_month_matches_simulator(e2e, org, period)
    olivia.check_clean()
