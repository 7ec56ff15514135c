"""With the GitHub App's own sign-in, GitHub hides the orgs where the App is not
installed, so nobody's role there can be verified: an upload goes to the uploader's own
workspace, shown to them alone, labelled so, never merged into the org's data (nor
shown to anyone else) until their role is verified."""

from __future__ import annotations

import pytest

from accounts.models import Membership
from tests.factories import InstallationFactory, MembershipFactory
from tests.imports.api_helpers import csrf, signed_in, upload
from tests.imports.conftest import DETAILED, csv_bytes, detailed_row
from usage.imports.services import report_import_process
from usage.models import DailyUsage, ReportImport, ReportItem

API = "/api/orgs/globex/imports"
FORGED = csv_bytes(DETAILED, [detailed_row("2026-11-03", "globex", "99999")])


@pytest.fixture(autouse=True)
def _app_signin(settings):
    settings.GITHUB_SIGNIN_CLIENT = "app"


@pytest.fixture
def bill_unverified(people):
    """bill's billing-manager role is unknown (GitHub hid the org from the App)."""
    Membership.objects.filter(user=people["bill"]).delete()
    return people["bill"]


def _upload(user, content=FORGED):
    client = signed_in(user)
    response = upload(client, content, "forged.csv")
    assert response.status_code == 201, response.content
    report_import_process(report_import_id=response.json()["id"])
    return client, response.json()


def test_an_unverified_upload_lives_in_the_uploaders_workspace(org, people, bill_unverified):
    client, made = _upload(bill_unverified)
    assert made["workspace"] is True
    imp = ReportImport.objects.get()
    assert (imp.workspace, imp.verified, imp.status) == (bill_unverified, False, "done")
    assert ReportItem.objects.filter(workspace=bill_unverified).count() == 1
    # Nothing the others see changed: no org data, no rollups.
    assert not ReportItem.objects.filter(workspace__isnull=True).exists()
    assert not DailyUsage.objects.exists()
    # bill sees it, labelled as his alone.
    page = client.get("/orgs/globex/imports/").content.decode()
    assert "Your own workspace" in page and "only you" in page
    result = client.get(f"/orgs/globex/imports/{made['id']}/").content.decode()
    assert (
        "data-import-summary" in result
        and "$99,999.00" in result
        and "shown to you alone" in result
    )
    assert client.get(API).json()["workspace"] is True
    # An import's page only shows: a POST is refused, not rendered.
    page_url = f"/orgs/globex/imports/{made['id']}/"
    assert client.post(page_url, HTTP_X_CSRFTOKEN=csrf(client)).status_code == 405
    # The verified owner does not see it, nor its data.
    olivia = signed_in(people["olivia"])
    assert olivia.get(API).json()["imports"] == []
    assert olivia.get(f"{API}/{made['id']}").status_code == 404
    assert "forged.csv" not in olivia.get("/orgs/globex/imports/").content.decode()
    usage = olivia.get("/api/orgs/globex/usage?start=2026-11-01&end=2026-11-30").json()
    assert usage["total"]["net_amount"] == "0.0000000000"
    # Another unverified user (an outsider) gets a workspace of his own, empty.
    charlie = signed_in(people["charlie"])
    assert charlie.get(API).json()["imports"] == []
    assert charlie.get(f"{API}/{made['id']}").status_code == 404


def test_the_workspace_is_merged_once_the_role_is_verified(org, people, bill_unverified):
    _, made = _upload(bill_unverified)
    # GitHub now confirms bill's role (e.g. an owner installed the App).
    MembershipFactory(user=bill_unverified, organization=org, role=Membership.Role.BILLING_MANAGER)
    client = signed_in(bill_unverified)
    listed = client.get(API).json()
    assert listed["workspace"] is False
    assert [(i["id"], i["workspace"]) for i in listed["imports"]] == [(made["id"], False)]
    imp = ReportImport.objects.get()
    assert (imp.workspace, imp.verified) == (None, True) and imp.merged_at is not None
    assert ReportItem.objects.filter(workspace__isnull=True).count() == 1
    assert DailyUsage.objects.filter(organization=org).exists()
    assert [i["id"] for i in signed_in(people["olivia"]).get(API).json()["imports"]] == [made["id"]]


def test_known_members_and_installed_orgs_get_no_workspace(org, people):
    assert signed_in(people["mia"]).get(API).status_code == 404  # GitHub said: member
    Membership.objects.filter(user=people["bill"]).delete()
    InstallationFactory(organization=org)  # the App would have shown bill's role
    assert signed_in(people["bill"]).get(API).status_code == 404
