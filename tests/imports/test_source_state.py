"""An org whose only data is an uploaded report (no App, no token) says so, once, on
every page: the state `from_reports`, the ladder's words "from usage reports uploaded by
Bill", and the next step (upload a newer one), never "App not installed"."""

from __future__ import annotations

import pytest

from tests.imports.conftest import DETAILED, csv_bytes, detailed_row, run_import
from usage.reporting.states import OrgState
from usage.reporting.status import org_status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _oauth_signin(settings):
    settings.GITHUB_SIGNIN_CLIENT = "oauth"


def test_an_org_fed_by_uploaded_reports_says_where_its_figures_come_from(org, people, client):
    before = org_status(org)
    assert before.state == OrgState.NOT_INSTALLED
    report = csv_bytes(DETAILED, [detailed_row("2026-11-03", "globex", net="2.5")])
    run_import(org, people["bill"], report)
    status = org_status(org)
    assert status.state == OrgState.FROM_REPORTS, status.sentence
    assert "from usage reports uploaded by" in status.sentence
    client.force_login(people["olivia"])
    page = client.get("/orgs/globex/?range=custom&start=2026-11-01&end=2026-11-30")
    text = page.content.decode()
    assert page.status_code == 200
    assert "from usage reports uploaded by" in text and "App not installed" not in text
    overview = client.get("/orgs/").content.decode()
    assert 'data-org-state="from_reports"' in overview


def test_an_unverified_upload_does_not_change_the_state(org, people):
    report = csv_bytes(DETAILED, [detailed_row("2026-11-03", "globex")])
    run_import(org, people["bill"], report, verified=False)
    assert org_status(org).state == OrgState.NOT_INSTALLED
