"""The staff journey in a real browser (headless Chromium, Playwright) against the live
server, a real worker and the simulator: sign in to the admin with a Django account,
"collect now" from the organization list while the simulator fails that org's usage
report, see it failing on the operations page, clear the fault, press "Collect now" on
its row and see it green. No console error, no CSP violation. Screenshots go to
/tmp/shots/ops-failing.png and /tmp/shots/ops-green.png."""

from __future__ import annotations

import pytest

from tests.helpers import wait_for
from usage.models import CollectionRun

from .conftest import STAFF_PASSWORD, USAGE_PATH

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

State = CollectionRun.State


def settled(org, count):
    runs = CollectionRun.objects.filter(organization=org)
    return runs.count() >= count and not runs.filter(state__in=("queued", "running")).exists()


def test_staff_fix_a_failing_org_from_the_operations_page(
    tabs, live_server, staff_user, installed_org, gh, celery_worker
):
    org = installed_org("acme-ops")
    installed_org("acme-fine")
    gh.control.fault("status", "^/organizations/acme-ops" + USAGE_PATH, status=502)

    tab = tabs.new("staff")
    page = tab.page

    # Staff sign in with their Django account.
    page.goto(live_server.url + "/admin/login/?next=/admin/")
    page.fill("#id_username", staff_user.username)
    page.fill("#id_password", STAFF_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/admin/")
    assert page.is_visible("#ops-module a[href='/staff/ops/']")

    # "Collect now" for both orgs from the organization list.
    page.goto(live_server.url + "/admin/accounts/organization/")
    for row in page.locator("#result_list tbody tr").all():
        row.locator("input.action-select").check()
    page.select_option("select[name=action]", "collect_now")
    page.click("button[name=index]")
    assert "A worker collects it now." in page.inner_text(".messagelist")
    wait_for(lambda: settled(org, 1), what="the runs", timeout=90)

    page.goto(live_server.url + "/staff/ops/")
    row = page.locator('tr[data-org="acme-ops"]')
    assert row.locator(".badge.bad", has_text="failing").is_visible()
    assert "502" in row.inner_text()
    tab.shot("ops-failing")

    # The fault is fixed; "Collect now" on the row; back on the page with a message.
    gh.control.clear_faults()
    row.locator("button[data-collect='acme-ops']").click()
    page.wait_for_url(live_server.url + "/staff/ops/")
    assert "acme-ops:" in page.inner_text(".messages")
    wait_for(
        lambda: CollectionRun.objects.filter(organization=org, state=State.SUCCEEDED).exists(),
        what="the new run",
    )
    page.goto(live_server.url + "/staff/ops/")
    assert page.locator('tr[data-org="acme-ops"]').count() == 0
    assert "Every collectable organization (2) was collected" in page.inner_text("#orgs")
    tab.shot("ops-green")

    tab.check_clean()  # no CSP violation, console or page error, nor failed response
