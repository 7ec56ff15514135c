"""The whole pipeline with a real Celery worker process: the API upload is queued on
commit, the worker claims it once, reads it, applies it and records its outcome."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.helpers import wait_for
from tests.imports.api_helpers import signed_in, upload
from tests.imports.conftest import DETAILED, csv_bytes, detailed_row
from usage.imports.services import report_import_process
from usage.models import DailyUsage, ReportImport


@pytest.mark.django_db(transaction=True)
def test_a_worker_imports_an_uploaded_report(celery_worker, settings):
    settings.GITHUB_SIGNIN_CLIENT = "oauth"
    org = OrganizationFactory(github_id=7_700_101, login="globex")
    bill = UserFactory(github_login="bill")
    MembershipFactory(user=bill, organization=org, role="billing_manager")
    start = date(2026, 10, 20)
    rows = [
        detailed_row((start + timedelta(days=d)).isoformat(), "globex", "0.25", username=u)
        for d in range(25)
        for u in ("mona", "hubot", "octocat")
    ]
    response = upload(signed_in(bill), csv_bytes(DETAILED, rows), "oct-nov.csv")
    assert response.status_code == 201
    pk = response.json()["id"]

    def finished():
        imp = ReportImport.objects.get(pk=pk)
        return imp if imp.status not in ("queued", "running", "applying") else None

    imp = wait_for(finished, timeout=60, what="the worker to import the report")
    assert (imp.status, imp.rows, imp.months, imp.progress) == (
        "done",
        75,
        ["2026-10", "2026-11"],
        100,
    )
    assert imp.path == "" and imp.finished_at is not None
    assert DailyUsage.objects.filter(organization=org).count() == 25
    # A redelivered message finds the import claimed: nothing runs twice.
    assert report_import_process(report_import_id=pk) is None
    assert "process_report_import" in celery_worker.log()
