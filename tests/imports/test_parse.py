"""Every format of ghsim/spec/billing-reports.md: BOM or not, CRLF or LF, quoted or not,
the 12-column summarized, 14-column detailed and old 15-column layouts, columns in any
order, ISO / US / timestamp dates, long floats and exponents, unknown SKUs passed through."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.imports.conftest import DETAILED, SUMMARIZED, csv_bytes, detailed_row, run_import
from usage.imports.parse import BadRow, parse_date
from usage.models import ReportItem


def test_summarized_report_as_github_writes_it(org, people):
    rows = [
        [
            "2026-07-01",
            "actions",
            "actions_linux",
            "42",
            "minutes",
            "0.006",
            "0.252",
            "0.252",
            "0",
            "globex",
            "api-gateway",
            "",
        ],
        [
            "2026-07-01",
            "actions",
            "actions_storage",
            "310.5",
            "gigabyte-hours",
            "0.00033602",
            "0.10433421",
            "0",
            "0.10433421",
            "globex",
            "",
            "",
        ],
        [
            "2026-07-01",
            "copilot",
            "copilot_for_business",
            "0.8333333",
            "user-months",
            "19",
            "15.8333327",
            "0",
            "15.8333327",
            "globex",
            "",
            "Platform",
        ],
    ]
    imp = run_import(org, people["olivia"], csv_bytes(SUMMARIZED, rows))
    assert (imp.status, imp.kind, imp.rows, imp.months) == ("done", "summarized", 3, ["2026-07"])
    first = ReportItem.objects.get(organization=org, sku="actions_linux")
    assert first.repository == "globex/api-gateway"  # GitHub's API spelling: owner/repo
    assert first.user_login == "" and first.workflow == ""
    assert first.net_amount == 0 and first.discount_amount == Decimal("0.252")
    seat = ReportItem.objects.get(organization=org, sku="copilot_for_business")
    assert (seat.unit_type, seat.cost_center, seat.repository) == ("user-months", "Platform", "")


def test_detailed_report_keeps_users_and_workflows(org, people):
    rows = [
        detailed_row("2026-07-01", "globex", "0.072", username="mona"),
        detailed_row(
            "2026-07-01",
            "globex",
            "0.36",
            username="dependabot[bot]",
            workflow_path="dynamic/dependabot/dependabot-updates",
        ),
        detailed_row(
            "2026-07-02",
            "globex",
            "0",
            sku="actions_self_hosted_linux",
            username="hubot",
            repository="infra",
            workflow_path="required/security/scan.yml",
        ),
    ]
    imp = run_import(org, people["bill"], csv_bytes(DETAILED, rows))
    assert (imp.status, imp.kind, imp.rows) == ("done", "detailed", 3)
    got = sorted(ReportItem.objects.values_list("user_login", "repository", "workflow"))
    assert got == [
        ("dependabot[bot]", "globex/api", "dynamic/dependabot/dependabot-updates"),
        ("hubot", "globex/infra", "required/security/scan.yml"),
        ("mona", "globex/api", ".github/workflows/ci.yml"),
    ]


def test_plain_file_no_bom_lf_unquoted_columns_reordered(org, people):
    header = list(reversed(DETAILED))
    rows = [list(reversed(detailed_row("2026-07-03", "globex", "2.5")))]
    content = csv_bytes(header, rows, bom=False, crlf=False, quote=False)
    imp = run_import(org, people["olivia"], content)
    assert (imp.status, imp.kind, imp.rows) == ("done", "detailed", 1)
    item = ReportItem.objects.get()
    assert (item.date, item.net_amount, item.user_login) == (
        date(2026, 7, 3),
        Decimal("2.5"),
        "mona",
    )


def test_old_fifteen_column_layout(org, people):
    header = [
        "usage_at",
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
        "repository_name",
        "workflow_name",
        "workflow_path",
        "cost_center_name",
    ]
    row = [
        "2025-06-02T22:34:09Z",
        "Actions",
        "Actions Linux",
        "3",
        "Minutes",
        "0.008",
        "0.024",
        "0",
        "0.024",
        "mona",
        "globex",
        "web",
        "CI",
        ".github/workflows/ci.yml",
        "",
    ]
    imp = run_import(org, people["olivia"], csv_bytes(header, [row], bom=False, quote=False))
    assert (imp.status, imp.kind) == ("done", "detailed")
    item = ReportItem.objects.get()
    assert (item.date, item.product, item.sku, item.unit_type) == (
        date(2025, 6, 2),
        "actions",
        "actions_linux",
        "minutes",
    )
    assert (item.repository, item.workflow) == ("globex/web", ".github/workflows/ci.yml")


def test_long_floats_exponents_and_unknown_skus(org, people):
    rows = [
        detailed_row(
            "2026-07-04",
            "globex",
            "0.036000000000000004",
            gross_amount="0.036000000000000004",
            quantity="0.8999999999999999",
            applied_cost_per_quantity="9.4086E-05",
        ),
        detailed_row(
            "2026-07-04",
            "globex",
            "43033.128100000016",
            sku="Quantum Runner XL",
            gross_amount="43033.128100000016",
            unit_type="QubitHours",
        ),
    ]
    imp = run_import(org, people["olivia"], csv_bytes(DETAILED, rows))
    assert imp.status == "done", imp.errors
    small = ReportItem.objects.get(sku="actions_linux")
    assert small.net_amount == Decimal("0.0360000000")
    assert small.quantity == Decimal("0.9000000000")
    assert small.price_per_unit == Decimal("0.0000940860")
    unknown = ReportItem.objects.get(sku="quantum_runner_xl")  # passed through, normalised
    assert (unknown.net_amount, unknown.unit_type) == (Decimal("43033.1281000000"), "qubit-hours")


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-05-29", date(2026, 5, 29)),
        ("5/29/26", date(2026, 5, 29)),
        ("05/29/2026", date(2026, 5, 29)),
        ("2025-06-11T05:13:27.8766440Z", date(2025, 6, 11)),
        ("2025-06-11T23:30:00-02:00", date(2025, 6, 12)),  # billing days are UTC
    ],
)
def test_dates_in_every_spelling(text, day):
    assert parse_date(text) == day


def test_us_dates_in_a_file(org, people):
    rows = [detailed_row("7/5/26", "globex"), detailed_row("07/06/2026", "globex")]
    imp = run_import(org, people["olivia"], csv_bytes(DETAILED, rows))
    assert imp.status == "done" and imp.months == ["2026-07"]
    assert sorted(ReportItem.objects.values_list("date", flat=True)) == [
        date(2026, 7, 5),
        date(2026, 7, 6),
    ]


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01", "31/12/26", ""])
def test_bad_dates_are_refused(bad):
    with pytest.raises(BadRow):
        parse_date(bad)


def test_quoted_commas_and_quotes_inside_values(org, people):
    rows = [detailed_row("2026-07-07", "globex", cost_center_name='Platform, "core"\\\tx')]
    imp = run_import(org, people["olivia"], csv_bytes(DETAILED, rows))
    assert imp.status == "done"
    assert ReportItem.objects.get().cost_center == 'Platform, "core"\\\tx'


def test_a_file_that_is_no_report_is_refused_at_upload(org, people):
    from usage.imports.services import ImportRefused

    with pytest.raises(ImportRefused, match="not a usage report"):
        run_import(org, people["olivia"], b"name,age\r\nmona,3\r\n")
    with pytest.raises(ImportRefused, match="empty"):
        run_import(org, people["olivia"], b"")


def test_repository_names_get_their_owner_whatever_they_contain(org, people):
    rows = [
        detailed_row("2026-07-08", "globex", repository="web"),
        detailed_row("2026-07-08", "globex", repository="globex/api"),  # already owner/repo
        detailed_row("2026-07-08", "globex", repository="a/b"),  # odd name, not an owner
    ]
    run_import(org, people["olivia"], csv_bytes(DETAILED, rows))
    assert sorted(ReportItem.objects.values_list("repository", flat=True)) == [
        "globex/a/b",
        "globex/api",
        "globex/web",
    ]
