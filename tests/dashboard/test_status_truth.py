"""Issue 13, "status that is true": one source of truth for an org's state
(`usage.reporting.status.org_status`), so the dashboard's header and banner, the
progress poll, the wizard's step 3 and the `/orgs/` overview never disagree.

1. progress only for work really pending; "Refresh now" described as a refresh;
2. GitHub failing (502 injected in the simulator): plain words from the first failed
   attempt, the technical detail behind a disclosure, the overview's badge agrees;
3. not on the enhanced billing platform (the simulator's initech): one state, one
   sentence, the next step, a way forward in the wizard;
4. uninstalled / suspended: the fix instead of "Open dashboard", totals say which orgs
   they include."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Installation, Organization
from usage import periods
from usage.collection.collect import org_collect_due
from usage.collection.services import org_backfill_start, run_enqueue
from usage.models import CollectionRun
from usage.reporting.formatting import money
from usage.reporting.states import OrgState
from usage.reporting.status import org_status

from .conftest import collect, join, mirror

pytestmark = [pytest.mark.django_db, pytest.mark.dates]

ALLOWED = ("olivia", "bill")  # owner, billing manager
HIDDEN = ("mia", "charlie")  # member, outsider: 404


def page(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def assert_hidden(client, people, url):
    for login in HIDDEN:
        client.force_login(people[login])
        assert client.get(url).status_code == 404, (login, url)


def outside_details(html: str) -> str:
    return re.sub(r"<details.*?</details>", "", html, flags=re.S)


def org_row(html: str, login: str) -> str:
    match = re.search(rf'<tr data-org="{login}".*?</tr>', html, flags=re.S)
    assert match, login
    return match.group(0)


# --- 1. progress only for pending work; a refresh is a refresh --------------------------


def test_refresh_after_a_finished_backfill_is_described_as_a_refresh(
    client, dash, people, settings
):
    settings.BACKFILL_MONTHS = 3
    org = mirror(dash, "acme-corp")
    join(org, people)
    org_backfill_start(organization=org)
    # One old month failed for good: the backfill is over at "2 of 3".
    oldest = periods.add_months(periods.current_month(), -2)
    CollectionRun.objects.filter(organization=org, period=oldest).update(
        state="failed", finished_at=timezone.now(), error="gave up"
    )
    collect(org, [], expect_success=False)
    # Then someone presses "Refresh now": this month is queued again.
    run_enqueue(organization=org, period=periods.current_month(), trigger="manual", send=False)
    for login in ALLOWED:
        html = page(client, people[login], "/orgs/acme-corp/")
        assert 'data-org-state="refreshing"' in html
        assert f"Refreshing {periods.current_month():%B %Y} from GitHub" in html
        assert "Older months are still being collected" not in html
        assert "of 3 done" not in html
    assert_hidden(client, people, "/orgs/acme-corp/")
    progress = json.loads(page(client, people["olivia"], "/orgs/acme-corp/progress.json"))
    assert progress["status"]["state"] == "refreshing"


def test_a_real_backfill_still_shows_its_progress(client, dash, people, settings):
    settings.BACKFILL_MONTHS = 3
    org = mirror(dash, "acme-corp")
    join(org, people)
    org_backfill_start(organization=org)
    CollectionRun.objects.filter(organization=org).exclude(period=periods.current_month()).update(
        not_before=timezone.now() + timedelta(days=1)
    )
    collect(org, [])
    html = page(client, people["bill"], "/orgs/acme-corp/")
    assert 'data-org-state="collecting_backfill"' in html
    assert "Older months are still being collected (1 of 3 done)" in html
    assert html.count("Older months are still being collected") == 1


# --- 2. GitHub failing --------------------------------------------------------------------


# `failing` (tests/dashboard/conftest.py): acme-corp's usage report answers 502.


def test_github_failing_is_said_in_plain_words_from_the_first_attempt(client, failing, people):
    run = CollectionRun.objects.get(organization=failing, trigger="manual")
    assert run.state == "queued" and run.attempts == 1 and run.error_kind == "github_unavailable"
    status = org_status(failing)
    assert status.state == OrgState.GITHUB_FAILING and status.retry_at == run.not_before
    retry = timezone.localtime(run.not_before).strftime("%H:%M")
    for login in ALLOWED:
        html = page(client, people[login], "/orgs/acme-corp/")
        assert 'data-org-state="github_failing"' in html
        assert f"GitHub is not answering; we will retry at {retry} UTC." in html
        assert "The figures below are from" in html
        assert "Attempt 1 of 3 failed" in html
        # The technical detail (status, request id) only behind the disclosure.
        assert "<summary>Technical details</summary>" in html
        assert "502" not in outside_details(html)
        details = re.search(r"<details.*?</details>", html, flags=re.S).group(0)
        assert "502" in details and "request id" in details
        assert "Collecting now" not in html  # not "collecting" beside a failure
    assert_hidden(client, people, "/orgs/acme-corp/")
    # The overview's badge says the same, never a green "Collected by the App".
    overview = page(client, people["olivia"], "/orgs/")
    row = org_row(overview, "acme-corp")
    assert 'data-org-state="github_failing"' in row and "GitHub not answering" in row
    assert "Collected by the App" not in overview
    assert f"next try {retry} UTC" in row


def test_after_the_last_attempt_the_page_says_it_gave_up_in_plain_words(client, failing, people):
    for _ in range(2):
        CollectionRun.objects.filter(organization=failing, state="queued").update(
            not_before=timezone.now() - timedelta(seconds=1)
        )
        org_collect_due(organization_id=failing.pk, holder="status-tests")
    run = CollectionRun.objects.get(organization=failing, trigger="manual")
    assert run.state == "failed" and run.attempts == 3
    html = page(client, people["bill"], "/orgs/acme-corp/")
    assert 'data-org-state="gave_up"' in html
    assert "GitHub did not answer after 3 attempts" in html
    assert "gave up after" not in outside_details(html)  # the raw text stays in details
    assert "gave up after 3 attempts: GitHub 502" in html
    row = org_row(page(client, people["olivia"], "/orgs/"), "acme-corp")
    assert "Last collection failed" in row and "Collected by the App" not in row


# --- 3. not on the enhanced billing platform ---------------------------------------------


@pytest.fixture
def initech(dash, people):
    org = mirror(dash, "initech")
    join(org, people)
    collect(org, [periods.current_month()], expect_success=False)
    org.refresh_from_db()
    assert org.billing_platform == Organization.BillingPlatform.UNAVAILABLE
    return org


SENTENCE = "GitHub says initech is not on the enhanced billing platform"


def test_not_on_enhanced_billing_is_one_state_everywhere(client, initech, people):
    for login in ALLOWED:
        html = page(client, people[login], "/orgs/initech/")
        assert html.count(SENTENCE) == 1  # said once
        assert 'data-org-state="not_enhanced"' in html
        assert "asks GitHub again every day" in html
        assert "could not be collected" not in html
        # No other token would help (GitHub serves the org no report): none is offered.
        assert "GitHub may accept another source" not in html
        assert 'href="https://' in html or "settings/billing" in html
    assert_hidden(client, people, "/orgs/initech/")
    progress = json.loads(page(client, people["olivia"], "/orgs/initech/progress.json"))
    assert progress["status"]["state"] == "not_enhanced"
    assert progress["status"]["sentence"].startswith(SENTENCE)
    assert "settings/billing" in progress["status"]["next_url"]
    overview = page(client, people["olivia"], "/orgs/")
    row = org_row(overview, "initech")
    assert "Collected by the App" not in row
    assert "Not on enhanced billing" in row and "billingdash re-checks daily" in row
    assert row.count(">Not on enhanced billing<") == 1
    assert "Not on the enhanced billing platform</span>" not in row  # no second badge
    assert "Open dashboard" not in row


def test_the_wizard_step_3_has_a_way_forward(client, initech, people):
    html = page(client, people["olivia"], "/orgs/initech/install/")
    assert 'data-org-state="not_enhanced"' in html
    assert SENTENCE in html and "asks GitHub again every day" in html
    assert "Finished, but" not in html
    assert re.search(r"<dl [^>]*data-progress-facts hidden>", html)  # no "0 of 24" beside it
    # A way forward: the dashboard (which says the same) and the org list.
    open_link = re.search(r"<a [^>]*data-progress-open[^>]*>", html).group(0)
    assert "hidden" not in open_link
    assert 'href="/orgs/"' in html


# --- 4. uninstalled / suspended: the fix, and honest totals ------------------------------


def test_uninstalled_org_shows_the_fix_and_leaves_the_totals(client, make_org, people):
    kept = make_org("kept-co")
    gone = make_org("gone-co")
    Installation.objects.filter(organization=gone).update(
        state=Installation.State.DELETED, deleted_at=timezone.now()
    )
    client.force_login(people["olivia"])
    response = client.get("/orgs/")
    html = response.content.decode()
    row = org_row(html, "gone-co")
    assert "Open dashboard" not in row
    assert "App uninstalled" in row and 'href="/orgs/gone-co/install/"' in row
    assert "Install the App again on gone-co" in row
    assert "not counted" in row
    assert "Open dashboard" in org_row(html, "kept-co")
    # Totals: only kept-co, and the page says so by name.
    kept_mtd = org_status(kept)  # noqa: F841 (status computed; totals below)
    assert response.context["total_orgs"] == 1
    assert response.context["counted_logins"] == ["kept-co"]
    assert response.context["left_out_logins"] == ["gone-co"]
    assert "the sum over kept-co; not counted: gone-co" in html
    assert f'data-total="mtd">{money(response.context["total_mtd"])}<' in html
    # A billing manager is told to ask an owner.
    billing = page(client, people["bill"], "/orgs/")
    assert "Ask an owner to install it" in org_row(billing, "gone-co")


def test_suspended_org_links_to_unsuspend_on_github(client, acme, people, dash):
    Installation.objects.filter(organization=acme).update(
        state=Installation.State.SUSPENDED, suspended_at=timezone.now()
    )
    row = org_row(page(client, people["olivia"], "/orgs/"), "acme-corp")
    assert "App suspended" in row and "Unsuspend the App on GitHub" in row
    assert "/settings/installations/" in row and "Open dashboard" not in row
    html = page(client, people["olivia"], "/orgs/acme-corp/")
    assert html.count("An owner suspended the billingdash App") == 1
    assert "Unsuspend the App on GitHub" in html


# --- 7. empty states say what was filtered and offer to clear it -------------------------


def test_a_filter_that_matches_nothing_says_what_and_offers_to_clear_it(client, acme, people):
    url = "/orgs/acme-corp/?range=last_month&product=no_such_product"
    for login in ALLOWED:
        html = page(client, people[login], url)
        assert "No usage matches these filters" in html
        assert "of product No such product between" in html
        # "Clear filters" keeps the dates and drops the product.
        assert 'href="?range=last_month" data-clear-filters' in html
        # The headline never says "last month by day 1" when nothing is there to compare.
        assert "last month by day" not in html
        assert "No usage of product No such product in" in html
    assert_hidden(client, people, url)
    html = page(client, people["olivia"], "/orgs/acme-corp/?product=copilot")
    assert "These figures cover only product Copilot." in html


def test_missing_permission_links_to_accept_it(client, acme, people):
    Installation.objects.filter(organization=acme).update(
        state=Installation.State.MISSING_PERMISSION, permissions={"members": "read"}
    )
    for login, fix in (
        ("olivia", "Accept the App&#x27;s permissions on GitHub"),
        ("bill", "Ask an owner to accept the App&#x27;s permissions"),
    ):
        row = org_row(page(client, people[login], "/orgs/"), "acme-corp")
        assert "Permission missing" in row and fix in row and "Open dashboard" not in row
        html = page(client, people[login], "/orgs/acme-corp/")
        assert 'data-org-state="permissions_missing"' in html and fix in html
    assert_hidden(client, people, "/orgs/acme-corp/")
