"""A Copilot AI-usage report uploaded on the imports page (`usage.imports`, the kind the
copilot app registers) lands in the Copilot figures, equal to the simulator's truth to
the cent; an unverified upload (a workspace) changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum

from accounts.models import Membership
from copilot.models import CopilotReportRow
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from usage import periods
from usage.imports.kinds import kind_of
from usage.imports.services import report_import_create, report_import_process
from usage.models import ReportImport

from .conftest import cents, month_last_day

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _imports_dir(settings, tmp_path):
    settings.REPORT_IMPORTS_DIR = str(tmp_path / "imports")


def _upload(org, user, content: bytes, *, verified: bool = True) -> ReportImport:
    created = report_import_create(
        organization=org,
        user=user,
        upload=SimpleUploadedFile("ai-usage.csv", content, content_type="text/csv"),
        verified=verified,
    )
    report_import_process(report_import_id=created.pk)
    created.refresh_from_db()
    return created


def test_the_copilot_kind_is_registered_beside_the_metered_ones():
    assert kind_of(frozenset({"date", "username", "model", "quantity"})).name == "copilot"
    assert kind_of(frozenset({"date", "product", "sku", "quantity"})).name == "summarized"


@pytest.mark.dates
def test_an_uploaded_copilot_report_equals_the_simulators_truth(dash):
    org = OrganizationFactory(login="acme-corp", github_id=7770001)
    bill = UserFactory(github_login="bill")
    MembershipFactory(user=bill, organization=org, role=Membership.Role.BILLING_MANAGER)
    month = periods.previous_month()
    last = month_last_day(month)
    content = dash.control.report("acme-corp", "copilot", str(month), str(last))
    done = _upload(org, bill, content)
    assert done.kind == "copilot" and done.status == ReportImport.Status.DONE, done.message
    assert done.months == [f"{month:%Y-%m}"] and done.rows > 0
    truth = dash.control.totals("acme-corp", str(month), str(last), "model")
    want = sum((Decimal(str(g["net"])) for g in truth["groups"] if g["key"]), Decimal(0))
    got = CopilotReportRow.objects.filter(organization=org).aggregate(n=Sum("net_amount"))["n"]
    assert cents(got) == cents(want)
    # The same file again: the same totals (it replaces exactly its days).
    _upload(org, bill, content)
    again = CopilotReportRow.objects.filter(organization=org).aggregate(n=Sum("net_amount"))
    assert cents(again["n"]) == cents(want)


@pytest.mark.dates
def test_an_unverified_copilot_upload_changes_nothing(dash):
    org = OrganizationFactory(login="acme-corp", github_id=7770001)
    someone = UserFactory(github_login="nora")
    month = periods.previous_month()
    content = dash.control.report("acme-corp", "copilot", str(month), str(month_last_day(month)))
    done = _upload(org, someone, content, verified=False)
    assert done.rows == 0 and "nothing was changed" in done.message
    assert not CopilotReportRow.objects.filter(organization=org).exists()
