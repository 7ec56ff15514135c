"""The page and the JSON API: who may use them (owner, billing manager: yes; member,
outsider: 404; anonymous: sign in / 401), CSRF, answer shapes, bad uploads (400)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.imports.api_helpers import csrf, signed_in, upload
from tests.imports.conftest import DETAILED, csv_bytes, detailed_row
from usage.imports.services import report_import_process
from usage.models import ReportImport

API = "/api/orgs/globex/imports"
PAGE = "/orgs/globex/imports/"


@pytest.fixture(autouse=True)
def _oauth_signin(settings):
    """The classic OAuth sign-in: GitHub tells every role (test_workspace.py: the App's)."""
    settings.GITHUB_SIGNIN_CLIENT = "oauth"


REPORT = csv_bytes(
    DETAILED, [detailed_row("2026-11-03", "globex"), detailed_row("2026-11-04", "globex")]
)


@pytest.mark.parametrize("who", ["olivia", "bill"])
def test_owner_and_billing_manager_upload_through_the_api(org, people, who):
    client = signed_in(people[who])
    response = upload(client, REPORT, "globex-nov.csv")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) >= {"id", "status", "kind", "rows", "months", "errors"}
    assert (body["status"], body["kind"], body["workspace"]) == ("queued", "detailed", False)
    report_import_process(report_import_id=body["id"])  # what the Celery task does
    one = client.get(f"{API}/{body['id']}").json()
    assert (one["status"], one["rows"], one["months"], one["errors"]) == (
        "done",
        2,
        ["2026-11"],
        [],
    )
    assert one["file_name"] == "globex-nov.csv" and one["uploaded_by"] == who
    listed = client.get(API).json()
    assert [i["id"] for i in listed["imports"]] == [body["id"]]
    # Every owner and billing manager sees the org's imports.
    other = signed_in(people["bill" if who == "olivia" else "olivia"])
    assert [i["id"] for i in other.get(API).json()["imports"]] == [body["id"]]


@pytest.mark.parametrize("who", ["mia", "charlie"])
def test_member_and_outsider_get_404_everywhere(org, people, who):
    imp_owner = signed_in(people["olivia"])
    made = upload(imp_owner, REPORT).json()
    client = signed_in(people[who])
    assert client.get(PAGE).status_code == 404
    assert client.get(f"{PAGE}{made['id']}/").status_code == 404
    assert client.get(API).status_code == 404
    assert client.get(f"{API}/{made['id']}").status_code == 404
    token = client.cookies.get("csrftoken")
    client.get("/orgs/")  # any page sets the CSRF cookie
    response = client.post(
        API,
        {"file": SimpleUploadedFile("r.csv", REPORT)},
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value if token is None else token.value,
    )
    assert response.status_code == 404
    assert ReportImport.objects.count() == 1


def test_anonymous(org, people):
    client = Client()
    assert client.get(API).status_code == 401
    assert client.get(PAGE).status_code == 302


def test_post_without_csrf_header_is_refused(org, people):
    client = signed_in(people["olivia"])
    client.get(PAGE)
    response = client.post(API, {"file": SimpleUploadedFile("r.csv", REPORT)})
    assert response.status_code == 403
    assert not ReportImport.objects.exists()


def test_bad_uploads_are_400_with_a_message(org, people):
    client = signed_in(people["olivia"])
    token = csrf(client)
    missing = client.post(API, {}, HTTP_X_CSRFTOKEN=token)
    assert missing.status_code == 400 and "file" in missing.json()["error"]
    junk = upload(client, b"\x00\x01garbage")
    assert junk.status_code == 400 and "not a usage report" in junk.json()["error"]
    assert not ReportImport.objects.exists()


def test_the_page_uploads_and_shows_the_result(org, people):
    client = signed_in(people["bill"])
    response = upload(client, REPORT, "nov.csv", url=PAGE)
    assert response.status_code == 302
    imp = ReportImport.objects.get()
    assert response["Location"] == f"{PAGE}{imp.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "Queued" in page and "reloads by itself" in page
    report_import_process(report_import_id=imp.pk)
    page = client.get(response["Location"]).content.decode()
    assert "Imported" in page and "Months imported: 2026-11" in page
    listing = client.get(PAGE).content.decode()
    assert "nov.csv" in listing and "Detailed usage report" in listing


def test_upload_is_streamed_to_a_temporary_file(org, people, monkeypatch):
    """The view's only upload handler writes to disk: even a tiny file is never held in
    memory (Django's default would keep files under 2.5 MB in memory)."""
    from django.core.files.uploadedfile import TemporaryUploadedFile

    from usage.imports import services

    seen = []
    original = services._store

    def spy(uploaded):
        seen.append(type(uploaded))
        return original(uploaded)

    monkeypatch.setattr(services, "_store", spy)
    assert upload(signed_in(people["olivia"]), REPORT).status_code == 201
    assert seen == [TemporaryUploadedFile]


def test_reports_source_of_names_the_last_verified_uploader(org, people):
    from usage.collection.sources import person
    from usage.imports.selectors import reports_source_of

    assert reports_source_of(org) is None
    upload(signed_in(people["bill"]), REPORT)
    assert reports_source_of(org) is None  # queued: not the org's data yet
    report_import_process(report_import_id=ReportImport.objects.get().pk)
    source = reports_source_of(org)
    assert source["uploaded_by"] == person(people["bill"]) and source["last_on"] is not None


def test_the_billing_managers_wizard_offers_the_upload(org, people, client):
    client.force_login(people["bill"])
    page = client.get("/orgs/globex/install/").content.decode()
    assert "data-upload-path" in page and "/orgs/globex/imports/" in page
    assert "Detailed usage report" in page and "Email me the report" in page
