"""Users and workflows on the dashboard, in the JSON API (``group_by=user|workflow``) and
in the CSV, from a detailed report downloaded from the simulator, against the
simulator's own sums; the page says which months have no detailed report."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Membership
from tests.dashboard.conftest import mirror
from tests.factories import MembershipFactory, UserFactory
from tests.imports.conftest import run_import
from usage import periods

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


@pytest.fixture
def globex(github_settings):
    """globex (no App), bill its billing manager, last month's detailed report imported."""
    sim = github_settings
    org = mirror(sim, "globex", install=False)
    bill = UserFactory(github_login="bill", username="github-bill")
    MembershipFactory(user=bill, organization=org, role=Membership.Role.BILLING_MANAGER)
    month = periods.previous_month()
    end = periods.add_months(month, 1) - timedelta(days=1)
    content = sim.control.report("globex", "detailed", month.isoformat(), end.isoformat())
    assert run_import(org, bill, content).status == "done"
    return sim, org, bill, month, end


def test_api_group_by_user_and_workflow_match_the_simulator(client, globex):
    sim, _, bill, month, end = globex
    client.force_login(bill)
    span = f"start={month}&end={end}"
    for group_by in ("user", "workflow"):
        body = client.get(f"/api/orgs/globex/usage?group_by={group_by}&{span}").json()
        truth = sim.control.totals("globex", month.isoformat(), end.isoformat(), group_by)
        want = {g["key"]: Decimal(str(g["net"])) for g in truth["groups"] if g["key"]}
        if group_by == "user":
            got = {g["key"]: Decimal(g["net_amount"]) for g in body["groups"] if g["key"]}
        else:  # our key is owner/repo/path: the simulator sums paths over repositories
            got = {}
            for g in body["groups"]:
                got[g["workflow"]] = got.get(g["workflow"], 0) + Decimal(g["net_amount"])
            assert all(g["key"] == f"{g['repository']}/{g['workflow']}" for g in body["groups"])
        assert got == want, group_by
        assert body["months_without_detailed_report"] == []
    users = client.get(f"/api/orgs/globex/usage?group_by=user&{span}").json()["groups"]
    top = max((g for g in users if g["key"]), key=lambda g: Decimal(g["net_amount"]))
    narrowed = client.get(
        f"/api/orgs/globex/usage?group_by=workflow&{span}&user={top['key']}"
    ).json()
    assert narrowed["filters"]["user"] == top["key"]
    assert sum(Decimal(g["net_amount"]) for g in narrowed["groups"]) <= Decimal(top["net_amount"])


def test_dashboard_shows_users_workflows_and_months_without_a_detailed_report(client, globex):
    sim, org, bill, month, end = globex
    client.force_login(bill)
    page = client.get(f"/orgs/globex/?range=custom&start={month}&end={end}").content.decode()
    assert "Top users by net spend" in page and "Top Actions workflows" in page
    assert ".github/workflows/" in page and "data-dimension-table" in page
    assert "data-no-detailed-report" not in page
    assert f"{month:%Y-%m} uploaded usage reports" in page
    # A summarized report of the month before: usage, but no users nor workflows.
    before = periods.add_months(month, -1)
    before_end = month - timedelta(days=1)
    url = f"/orgs/globex/?range=custom&start={before}&end={end}"
    # Seen (and cached) before the import: the import's new data version shows at once.
    assert "data-no-detailed-report" not in client.get(url).content.decode()
    summarized = sim.control.report(
        "globex", "summarized", before.isoformat(), before_end.isoformat()
    )
    assert run_import(org, bill, summarized).status == "done"
    page = client.get(url).content.decode()
    assert "data-no-detailed-report" in page and f"{before:%Y-%m}" in page
    assert "Email me the report" in page  # how to get one from GitHub


def test_csv_has_user_and_workflow_columns(client, globex):
    _, _, bill, month, end = globex
    client.force_login(bill)
    response = client.get(f"/orgs/globex/report-items.csv?range=custom&start={month}&end={end}")
    text = b"".join(response.streaming_content).decode()
    lines = text.splitlines()
    assert lines[0] == (
        "date,product,sku,unit_type,quantity,price_per_unit,gross_amount,discount_amount,"
        "net_amount,repository,user,workflow,cost_center"
    )
    assert any(".github/workflows/" in line for line in lines[1:])


def test_report_items_csv_goes_out_in_chunks_not_a_write_per_row(client, globex):
    from usage.web.exports import CHUNK_ROWS

    _, _, bill, month, end = globex
    client.force_login(bill)
    response = client.get(f"/orgs/globex/report-items.csv?range=custom&start={month}&end={end}")
    chunks = [c.decode() for c in response.streaming_content]
    lines = "".join(chunks).splitlines()
    assert len(lines) > 10 and len(set(lines[1:])) > 1
    assert len(chunks) <= 2 + len(lines) // CHUNK_ROWS


def test_the_page_says_the_user_and_workflow_filters_narrow_only_their_section(client, globex):
    _, _, bill, month, end = globex
    client.force_login(bill)
    url = f"/orgs/globex/?range=custom&start={month}&end={end}"
    scope = "the totals, charts and line items above cover every user and workflow."
    page = client.get(url).content.decode()
    assert "The user and workflow filters narrow only this section:" in page
    assert scope in page and 'aria-describedby="dim-filters-scope"' in page
    users = client.get(f"/api/orgs/globex/usage?group_by=user&start={month}&end={end}").json()
    top = max((g for g in users["groups"] if g["key"]), key=lambda g: Decimal(g["net_amount"]))
    narrowed = client.get(f"{url}&user={top['key']}").content.decode()
    assert f"narrow only this section, now to\n      the user {top['key']}: {scope}" in narrowed
    # What it says is so: the range's total above is the same, narrowed or not.
    total = 'data-total="net">'
    assert narrowed.split(total)[1][:20] == page.split(total)[1][:20]


@pytest.mark.parametrize(
    "param", ["user=a%00b", "workflow=o/r/.github/workflows/x%00", "user=" + "u" * 301]
)
def test_a_user_or_workflow_that_cannot_be_a_name_is_a_400_or_ignored_with_a_message(
    client, globex, param
):
    _, _, bill, month, end = globex
    client.force_login(bill)
    span = f"range=custom&start={month}&end={end}"
    name = param.split("=")[0]
    for group_by in ("user", "workflow"):
        api = client.get(f"/api/orgs/globex/usage?group_by={group_by}&{span}&{param}")
        assert api.status_code == 400 and api.json() == {"error": f"{name} is not a valid name"}
    csv_answer = client.get(f"/orgs/globex/report-items.csv?{span}&{param}")
    assert csv_answer.status_code == 400 and csv_answer.content.decode() == (
        f"{name} is not a valid name"
    )
    page = client.get(f"/orgs/globex/?{span}&{param}")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"<li>{name} is not a valid name</li>" in html and "data-dimension-table" in html


def test_the_dashboard_reads_months_sources_in_queries_that_do_not_grow_with_the_range(
    client, globex
):
    _, _, bill, month, end = globex
    client.force_login(bill)

    def queries(start) -> int:
        url = f"/orgs/globex/?range=custom&start={start}&end={end}"
        client.get(url)  # the cached parts built once
        with CaptureQueriesContext(connection) as captured:
            html = client.get(url).content.decode()
        assert f"{month:%Y-%m} uploaded usage reports" in html
        return len(captured)

    one_month = queries(month)
    three_years = queries(periods.add_months(month, -35))
    assert three_years == one_month  # was one_month + ~100: two per month of the range


def test_the_dimension_table_names_skus_as_every_page_does(client, globex):
    from usage.vocabulary import sku_label

    _, _, bill, month, end = globex
    client.force_login(bill)
    html = client.get(f"/orgs/globex/?range=custom&start={month}&end={end}").content.decode()
    table = html.split("data-dimension-table", 1)[1].split("</table>", 1)[0]
    assert "<td>actions_linux</td>" not in table
    assert f"<td>{sku_label('actions_linux')}</td>" in table
