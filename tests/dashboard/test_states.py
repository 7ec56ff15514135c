"""Empty and partial states say what is going on instead of drawing empty charts:
backfill running, no usage yet, never collected, App uninstalled or refused, not on the
enhanced billing platform, filters that match nothing; and "updated N minutes ago"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Installation, Organization
from usage import periods
from usage.collection.services import org_backfill_start, run_enqueue
from usage.models import CollectionRun

from .conftest import collect, join, mirror

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


def dashboard(client, user, login, query=""):
    client.force_login(user)
    response = client.get(f"/orgs/{login}/{query}")
    assert response.status_code == 200
    return response, response.content.decode()


def assert_no_charts(html):
    assert 'id="chart-daily"' not in html and "vendor/plotly-" not in html


def test_backfill_running_before_any_data(client, dash, people, settings):
    settings.BACKFILL_MONTHS = 6
    org = mirror(dash, "acme-corp")
    join(org, people)
    org_backfill_start(organization=org)  # queued; the task is sent on commit (never here)
    _, html = dashboard(client, people["olivia"], "acme-corp")
    assert_no_charts(html)
    assert 'data-empty="backfill"' in html
    assert "usage from GitHub (0 of 6 months so far)" in html
    assert '<progress max="6" value="0"' in html
    assert 'data-progress-url="/orgs/acme-corp/progress.json"' in html  # the page follows it


def test_backfill_running_with_the_newest_months_in(client, dash, people, settings):
    settings.BACKFILL_MONTHS = 6
    org = mirror(dash, "acme-corp")
    join(org, people)
    org_backfill_start(organization=org)
    # The worker collected the newest month so far (newest first); five still queued.
    for run in CollectionRun.objects.filter(organization=org).exclude(
        period=periods.current_month()
    ):
        CollectionRun.objects.filter(pk=run.pk).update(not_before=timezone.now() + timedelta(1))
    collect(org, [])
    _, html = dashboard(client, people["bill"], "acme-corp")
    assert 'id="chart-daily"' in html
    assert "Older months are still being collected (1 of 6 done)" in html
    assert "Collecting now" in html


def test_no_usage_yet(client, make_org, people):
    make_org("quiet-co", repos=0, months=[periods.current_month()])
    _, html = dashboard(client, people["olivia"], "quiet-co")
    assert_no_charts(html)
    assert 'data-empty="no_usage"' in html and "No usage yet" in html
    assert "Updated" in html  # it was collected: "updated N minutes ago"


def test_never_collected(client, dash, people):
    org = mirror(dash, "acme-corp")
    join(org, people)
    _, html = dashboard(client, people["olivia"], "acme-corp")
    assert_no_charts(html)
    assert 'data-empty="never"' in html and "Not collected yet" in html
    assert "Refresh now" in html


def test_app_uninstalled_keeps_the_data_and_says_so(client, acme, people, dash):
    # What the installation.deleted webhook records.
    Installation.objects.filter(organization=acme).update(
        state=Installation.State.DELETED, deleted_at=timezone.now()
    )
    _, html = dashboard(client, people["olivia"], "acme-corp")
    assert "was uninstalled from acme-corp" in html
    assert "The figures below are as last collected" in html
    assert 'data-org-state="uninstalled"' in html
    assert html.count("was uninstalled from acme-corp") == 1  # said once
    assert 'id="chart-daily"' in html  # the data already collected is still shown
    assert "Refresh now" not in html  # nothing can be collected


def test_github_refusing_the_installation(client, dash, people):
    org = mirror(dash, "acme-corp")
    join(org, people)
    dash.control.suspend(8880001)  # an owner suspends the App on GitHub
    run_enqueue(organization=org, period=periods.current_month(), trigger="manual", send=False)
    collect(org, [], expect_success=False)
    _, html = dashboard(client, people["olivia"], "acme-corp")
    assert_no_charts(html)
    # GitHub's installation object says why: suspended by an owner.
    assert 'data-empty="blocked"' in html and "An owner suspended the billingdash App" in html
    # GitHub's own answer stays behind the "details" disclosure.
    assert "<summary>Technical details</summary>" in html


def test_not_on_the_enhanced_billing_platform(client, dash, people):
    org = mirror(dash, "initech")
    join(org, people)
    collect(org, [periods.current_month()], expect_success=False)
    org.refresh_from_db()
    assert org.billing_platform == Organization.BillingPlatform.UNAVAILABLE
    _, html = dashboard(client, people["olivia"], "initech")
    assert_no_charts(html)
    assert "not on the enhanced billing platform" in html
    # The App is installed and working: installing it again would not help.
    assert "See how to install the App" not in html


def test_filters_that_match_nothing(client, acme, people):
    _, html = dashboard(client, people["olivia"], "acme-corp", "?product=no-such-product")
    assert "No usage matches these filters" in html
    assert_no_charts(html)
    assert "Clear filters" in html and "of product No such product" in html


def test_updated_minutes_ago(client, acme, people):
    CollectionRun.objects.filter(organization=acme).update(
        finished_at=timezone.now() - timedelta(minutes=7)
    )
    _, html = dashboard(client, people["olivia"], "acme-corp")
    assert "Updated <time" in html and "7\xa0minutes ago" in html
