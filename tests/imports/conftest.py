"""Fixtures of the import tests: an org with the four personas (owner olivia, billing
manager bill, member mia, outsider charlie), CSV files written in GitHub's formats, and
`run_import` (the upload service then the task's service, in this process)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum

from accounts.models import Membership, Organization, User
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from usage.imports.services import report_import_create, report_import_process
from usage.models import DailyUsage, ReportImport, ReportItem

SUMMARIZED = [
    "date",
    "product",
    "sku",
    "quantity",
    "unit_type",
    "applied_cost_per_quantity",
    "gross_amount",
    "discount_amount",
    "net_amount",
    "organization",
    "repository",
    "cost_center_name",
]
DETAILED = [
    "date",
    "product",
    "sku",
    "quantity",
    "unit_type",
    "applied_cost_per_quantity",
    "gross_amount",
    "discount_amount",
    "net_amount",
    "username",
    "organization",
    "repository",
    "workflow_path",
    "cost_center_name",
]


def csv_bytes(
    header: list[str],
    rows: Iterable[Iterable[Any]],
    *,
    bom: bool = True,
    crlf: bool = True,
    quote: bool = True,
) -> bytes:
    """A report file as GitHub writes it (BOM, CRLF, every value quoted) or plainer."""
    end = "\r\n" if crlf else "\n"

    def line(values: Iterable[Any]) -> str:
        cells = [str(v) for v in values]
        if quote:
            return '"' + '","'.join(c.replace('"', '""') for c in cells) + '"' + end
        return ",".join(cells) + end

    text = line(header) + "".join(line(r) for r in rows)
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode()


def detailed_row(day: str, org: str, net: str = "1.5", **over: Any) -> list[Any]:
    """A detailed report row (14 columns); `over` replaces columns by name."""
    values = {
        "date": day,
        "product": "actions",
        "sku": "actions_linux",
        "quantity": "10",
        "unit_type": "minutes",
        "applied_cost_per_quantity": "0.006",
        "gross_amount": net,
        "discount_amount": "0",
        "net_amount": net,
        "username": "mona",
        "organization": org,
        "repository": "api",
        "workflow_path": ".github/workflows/ci.yml",
        "cost_center_name": "",
    }
    values.update(over)
    return [values[c] for c in DETAILED]


@pytest.fixture(autouse=True)
def _imports_dir(settings, tmp_path):
    """Uploads wait in the test's own folder (a worker reads them by absolute path)."""
    settings.REPORT_IMPORTS_DIR = str(tmp_path / "imports")


@pytest.fixture
def org(db) -> Organization:
    return OrganizationFactory(github_id=7_700_001, login="globex", name="Globex")


@pytest.fixture
def people(org) -> dict[str, User]:
    users = {
        login: UserFactory(github_login=login, username=f"github-{login}")
        for login in ("olivia", "bill", "mia", "charlie")
    }
    for login, role in (
        ("olivia", Membership.Role.OWNER),
        ("bill", Membership.Role.BILLING_MANAGER),
        ("mia", Membership.Role.MEMBER),
    ):
        MembershipFactory(user=users[login], organization=org, role=role)
    other = OrganizationFactory(github_id=7_700_002, login="charlies-org")
    MembershipFactory(user=users["charlie"], organization=other, role=Membership.Role.OWNER)
    return users


def run_import(
    org: Organization,
    user: User,
    content: bytes,
    name: str = "report.csv",
    *,
    verified: bool = True,
) -> ReportImport:
    created = report_import_create(
        organization=org,
        user=user,
        upload=SimpleUploadedFile(name, content, content_type="text/csv"),
        verified=verified,
    )
    report_import_process(report_import_id=created.pk)
    created.refresh_from_db()
    return created


def item_sums(org: Organization, **filters: Any) -> dict[str, Decimal]:
    return ReportItem.objects.filter(organization=org, **filters).aggregate(
        net=Sum("net_amount"), gross=Sum("gross_amount"), quantity=Sum("quantity")
    )


def daily_net(org: Organization) -> dict[str, Decimal]:
    rows = DailyUsage.objects.filter(organization=org).values_list("date", "net_amount")
    out: dict[str, Decimal] = {}
    for day, net in rows:
        out[day.isoformat()] = out.get(day.isoformat(), Decimal(0)) + net
    return out
