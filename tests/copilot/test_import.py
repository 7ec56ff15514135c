"""The AI usage / premium-request report file: the parser on every format, and the
import service against the simulator's report (totals equal its truth to the cent)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Sum

from copilot.collection.report_import import copilot_report_import
from copilot.collection.report_parser import ReportError, parse_report
from copilot.models import CopilotReportRow
from copilot.reporting.selectors import by_user
from tests.factories import OrganizationFactory
from usage import periods

from .conftest import cents, month_last_day, premium_month

pytestmark = [pytest.mark.django_db]
PR_HEADER = (
    '"date","username","product","sku","model","quantity","unit_type",'
    '"applied_cost_per_quantity","gross_amount","discount_amount","net_amount",'
    '"exceeds_quota","total_monthly_quota","organization","cost_center_name"'
)


def write(tmp_path, text: str, name: str = "r.csv", bom: bool = True) -> str:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return str(path)


def test_premium_request_rows_bom_quotes_crlf_and_float_texts(tmp_path):
    text = (
        PR_HEADER + "\r\n"
        '"2026-02-03","mona","copilot","copilot_premium_request","Auto: GPT-5.2","0.9",'
        '"requests","0.04","0.036000000000000004","0.036000000000000004","0","False","300",'
        '"acme-labs",""\r\n'
        '"2026-02-03","hubot","copilot","coding_agent_premium_request","Coding Agent model",'
        '"3","requests","0.04","0.12","0","0.12","TRUE","300","acme-labs","Platform"\r\n'
    )
    rows = list(parse_report(write(tmp_path, text)))
    assert [(r.login, r.sku, r.quantity, r.gross_amount) for r in rows] == [
        ("mona", "copilot_premium_request", Decimal("0.9"), Decimal("0.0360000000")),
        ("hubot", "coding_agent_premium_request", Decimal(3), Decimal("0.12")),
    ]
    assert [r.exceeds_quota for r in rows] == [False, True]
    assert rows[0].total_monthly_quota == 300 and rows[0].date == date(2026, 2, 3)


def test_ui_ai_usage_report_with_us_dates_and_exponents(tmp_path):
    text = (
        "date,username,product,sku,model,quantity,unit_type,applied_cost_per_quantity,"
        "gross_amount,discount_amount,net_amount,total_monthly_quota,organization,"
        "cost_center_name,aic_quantity,aic_gross_amount\n"
        "6/3/26,mona,copilot,copilot_ai_credit,Auto: Claude Haiku 4.5,12.7304515,ai-credits,"
        "0.01,0.127304515,0.127304515,0,2147483647,acme-labs,,12.7304515,0.127304515\n"
        "06/04/2026,octocat,spark,spark_ai_credit,GPT-5.2,2.5E+1,ai-credits,0.01,0.25,0.05,"
        "0.2,3800,acme-labs,,,\n"
    )
    rows = list(parse_report(write(tmp_path, text, bom=False)))
    assert [r.date for r in rows] == [date(2026, 6, 3), date(2026, 6, 4)]
    assert rows[1].quantity == Decimal(25) and rows[1].net_amount == Decimal("0.2")
    assert rows[0].total_monthly_quota is None and rows[0].unit_type == "ai-credits"


def test_tokens_in_another_column_order(tmp_path):
    header = (
        "date,username,product,sku,model,quantity,unit_type,applied_cost_per_quantity,"
        "gross_amount,discount_amount,net_amount,organization,cost_center_name,input,output,"
        "cache_read,cache_write,total_monthly_quota,repository,aic_quantity,aic_gross_amount"
    )
    line = (
        "2026-08-20,mona,copilot,copilot_ai_credit,GPT-5.2,10,ai-credits,0.01,0.1,0,0.1,acme,,"
        "1,2,3,4,3900,api,0,0"
    )
    (row,) = parse_report(write(tmp_path, header + "\n" + line + "\n"))
    assert (row.quantity, row.net_amount, row.total_monthly_quota) == (10, Decimal("0.1"), 3900)


@pytest.mark.parametrize(
    "text,message",
    [
        ("", "empty"),
        (
            "Timestamp,User,Model,Requests Used,Exceeds Monthly Quota,Total Monthly Quota\n",
            "legacy",
        ),
        ('"date","product","sku","quantity"\n', "no column username"),
        (PR_HEADER + '\n"2026-02-03","secret-login","copilot"\n', "line 2: 3 values"),
        (
            PR_HEADER + '\n"yesterday","secret-login","copilot","x","m","1","requests","0.04",'
            '"0.04","0","0.04","False","300","o",""\n',
            "line 2: date",
        ),
        (
            PR_HEADER + '\n"2026-02-03","secret-login","copilot","x","m","lots","requests",'
            '"0.04","0.04","0","0.04","False","300","o",""\n',
            "line 2: quantity is not a number",
        ),
    ],
)
def test_bad_files_say_where_and_never_echo_a_login(tmp_path, text, message):
    with pytest.raises(ReportError) as caught:
        list(parse_report(write(tmp_path, text)))
    assert message in str(caught.value)
    assert "secret-login" not in str(caught.value)


def test_import_replaces_exactly_the_days_it_covers(tmp_path):
    org = OrganizationFactory(login="acme-labs")
    row = (
        '"{day}","mona","copilot","copilot_premium_request","GPT-5.2","{q}","requests","0.04",'
        '"{g}","0","{g}","False","300","acme-labs",""\r\n'
    )
    two_days = PR_HEADER + "\r\n" + row.format(day="2026-02-03", q=1, g="0.04")
    two_days += row.format(day="2026-02-04", q=2, g="0.08")
    first = copilot_report_import(organization=org, path=write(tmp_path, two_days, "a.csv"))
    assert (first.rows, first.start, first.end) == (2, date(2026, 2, 3), date(2026, 2, 4))
    one_day = PR_HEADER + "\r\n" + row.format(day="2026-02-04", q=5, g="0.2")
    other_org = row.format(day="2026-02-04", q=7, g="0.28").replace("acme-labs", "other-org")
    copilot_report_import(organization=org, path=write(tmp_path, one_day + other_org, "b.csv"))
    got = dict(CopilotReportRow.objects.filter(organization=org).values_list("date", "quantity"))
    assert got == {date(2026, 2, 3): Decimal(1), date(2026, 2, 4): Decimal(5)}
    bad = one_day + '"2026-02-05","mona","copilot"\r\n'
    with pytest.raises(ReportError):
        copilot_report_import(organization=org, path=write(tmp_path, bad, "c.csv"))
    assert CopilotReportRow.objects.filter(organization=org).count() == 2  # nothing changed


@pytest.mark.dates
@pytest.mark.parametrize("era", ["last month", "premium requests"])
def test_the_simulators_report_equals_its_truth_to_the_cent(dash, tmp_path, era):
    org = OrganizationFactory(login="acme-corp", github_id=7770001)
    month = periods.previous_month() if era == "last month" else premium_month()
    if month is None:
        pytest.skip("no premium-request month within GitHub's 24 months of this today")
    last = month_last_day(month)
    path = tmp_path / "ai-usage.csv"
    path.write_bytes(dash.control.report("acme-corp", "copilot", str(month), str(last)))
    result = copilot_report_import(organization=org, path=str(path), uploaded_by=None)
    assert result.start == month and result.rows > 0
    truth = dash.control.totals("acme-corp", str(month), str(last), "model")
    models = {g["key"]: g for g in truth["groups"] if g["key"]}
    ours = (
        CopilotReportRow.objects.filter(organization=org)
        .values("model")
        .annotate(g=Sum("gross_amount"), d=Sum("discount_amount"), n=Sum("net_amount"))
    )
    assert {r["model"] for r in ours} == set(models)
    for r in ours:
        t = models[r["model"]]
        assert (cents(r["g"]), cents(r["d"]), cents(r["n"])) == (
            cents(t["gross"]),
            cents(t["discount"]),
            cents(t["net"]),
        )
    # Per user: the month's users now come from the report, and add up to the total.
    users = by_user(org, month, last)
    assert users and sum((u.net_amount for u in users), Decimal(0)) == sum(
        (r["n"] for r in ours), Decimal(0)
    )
    assert result.end <= last
