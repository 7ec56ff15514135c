"""The import rules: another org's rows refused by name, bad rows reported with their
line numbers (the first 100), only months whose rows all parse applied, a file replaces
exactly the days it covers, the same file twice gives the same totals, every import
audited, the dashboard's rollups filled for months the API did not deliver."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from accounts.models import AuditEvent
from tests.factories import CollectionRunFactory
from tests.imports.conftest import (
    DETAILED,
    csv_bytes,
    daily_net,
    detailed_row,
    item_sums,
    run_import,
)
from usage.models import CollectionRun, DailyUsage, ReportItem, UsageItem


def days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def test_rows_for_another_org_are_refused_by_name(org, people):
    rows = [detailed_row("2026-07-01", "globex"), detailed_row("2026-07-02", "acme-corp")]
    imp = run_import(org, people["olivia"], csv_bytes(DETAILED, rows))
    assert imp.status == "failed"
    assert imp.errors == [
        {
            "line": 3,
            "message": "this row is for the organization 'acme-corp', not 'globex': "
            "upload acme-corp's reports on acme-corp's imports page",
        }
    ]
    assert "acme-corp" in imp.message and imp.months == [] and imp.months_kept == ["2026-07"]
    assert not ReportItem.objects.exists()


def test_bad_rows_have_line_numbers_and_keep_only_their_month(org, people):
    rows = [
        detailed_row("2026-06-29", "globex"),
        detailed_row("2026-06-30", "globex", quantity="lots"),  # line 3
        detailed_row("2026-07-01", "globex"),
        detailed_row("2026-07-02", "globex", "0.5"),
    ]
    content = csv_bytes(DETAILED, rows)
    content += b'"2026-07-03","actions"\r\n'  # line 6: too few values
    imp = run_import(org, people["olivia"], content)
    assert [(e["line"], e["message"]) for e in imp.errors] == [
        (3, "quantity 'lots' is not a number"),
        (6, "the row has 2 values, the header 14"),
    ]
    # July's bad row sinks July; June's sinks June: nothing applied.
    assert (imp.status, imp.months, imp.months_kept) == ("failed", [], ["2026-06", "2026-07"])

    good_june = [
        detailed_row("2026-06-29", "globex"),
        detailed_row("2026-07-01", "globex"),
        detailed_row("2026-07-02", "globex", quantity=""),
    ]
    imp = run_import(org, people["olivia"], csv_bytes(DETAILED, good_june))
    assert (imp.status, imp.months, imp.months_kept) == ("partial", ["2026-06"], ["2026-07"])
    assert imp.errors == [{"line": 4, "message": "quantity is empty"}]
    assert list(ReportItem.objects.values_list("date", flat=True)) == [date(2026, 6, 29)]


def test_only_the_first_hundred_bad_rows_are_listed(org, people):
    rows = [detailed_row("2026-07-01", "globex", net="x") for _ in range(150)]
    imp = run_import(org, people["olivia"], csv_bytes(DETAILED, rows))
    assert imp.error_count == 150 and len(imp.errors) == 100
    assert imp.errors[0]["line"] == 2 and imp.errors[-1]["line"] == 101


def test_a_file_replaces_exactly_the_days_it_covers(org, people):
    """A 21-day report straddling two months, then a shorter one inside it: the days
    around the second file stay as the first left them."""
    first = [
        detailed_row(d.isoformat(), "globex", "1")
        for d in days(date(2026, 6, 20), date(2026, 7, 10))
    ]
    run_import(org, people["olivia"], csv_bytes(DETAILED, first))
    # June 25 .. July 5, every day at 2, except July 1 which has no usage at all.
    second = [
        detailed_row(d.isoformat(), "globex", "2")
        for d in days(date(2026, 6, 25), date(2026, 7, 5))
        if d != date(2026, 7, 1)
    ]
    imp = run_import(org, people["bill"], csv_bytes(DETAILED, second))
    assert (imp.status, imp.months, imp.first_day, imp.last_day) == (
        "done",
        ["2026-06", "2026-07"],
        date(2026, 6, 25),
        date(2026, 7, 5),
    )
    by_day = dict(ReportItem.objects.values_list("date", "net_amount"))
    for d in days(date(2026, 6, 20), date(2026, 7, 10)):
        if date(2026, 6, 25) <= d <= date(2026, 7, 5):
            assert by_day.get(d) == (None if d == date(2026, 7, 1) else Decimal(2)), d
        else:
            assert by_day[d] == Decimal(1), d
    # The dashboard's rollups follow (no API data for these months).
    assert daily_net(org) == {d.isoformat(): v for d, v in by_day.items()}
    assert UsageItem.objects.filter(organization=org).count() == len(by_day)


def test_the_same_file_twice_gives_the_same_totals(org, people):
    rows = [
        detailed_row(d.isoformat(), "globex", "0.1", username=u)
        for d in days(date(2026, 7, 1), date(2026, 7, 31))
        for u in ("mona", "hubot")
    ]
    content = csv_bytes(DETAILED, rows)
    run_import(org, people["olivia"], content)
    once = (item_sums(org), ReportItem.objects.count(), daily_net(org))
    again = run_import(org, people["olivia"], content, "again.csv")
    assert again.status == "done" and again.rows == 62
    assert (item_sums(org), ReportItem.objects.count(), daily_net(org)) == once
    assert once[0]["net"] == Decimal("6.2")


def test_months_the_api_delivered_keep_the_api_totals(org, people):
    """The dashboard uses the API for a month it delivered; the report's rows stay in
    `ReportItem` for the user and workflow breakdowns."""
    CollectionRunFactory(
        organization=org, period=date(2026, 7, 1), state=CollectionRun.State.SUCCEEDED
    )
    run_import(org, people["olivia"], csv_bytes(DETAILED, [detailed_row("2026-07-01", "globex")]))
    assert ReportItem.objects.count() == 1
    assert not DailyUsage.objects.filter(organization=org).exists()


def test_every_import_is_audited(org, people):
    content = csv_bytes(DETAILED, [detailed_row("2026-07-01", "globex")])
    imp = run_import(org, people["bill"], content, "globex-july.csv")
    upload = AuditEvent.objects.get(action="report_upload")
    done = AuditEvent.objects.get(action="report_import")
    assert upload.actor == people["bill"] and done.actor == people["bill"]
    assert done.organization == org and done.target == "globex-july.csv"
    assert done.details["sha256"] == imp.sha256 and len(imp.sha256) == 64
    assert done.details["size"] == len(content) == imp.size
    assert (done.details["months"], done.details["rows"]) == (["2026-07"], 1)


def test_an_import_never_interleaves_with_a_collection(org, people, monkeypatch):
    """The org's collection lease is taken: the import waits for it, and gives up
    (nothing changed, the file can be uploaded again) if it stays taken."""
    from usage.collection.locks import lease_acquire, lease_release
    from usage.imports import lease

    assert lease_acquire(organization_id=org.pk, holder="a-collection")
    monkeypatch.setattr(lease, "LEASE_WAIT_SECONDS", 0)
    imp = run_import(
        org, people["olivia"], csv_bytes(DETAILED, [detailed_row("2026-07-01", "globex")])
    )
    assert imp.status == "failed" and "busy" in imp.message
    assert not ReportItem.objects.exists()
    lease_release(organization_id=org.pk, holder="a-collection")
    imp = run_import(
        org, people["olivia"], csv_bytes(DETAILED, [detailed_row("2026-07-01", "globex")])
    )
    assert imp.status == "done" and ReportItem.objects.count() == 1
