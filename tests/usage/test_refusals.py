"""The collection's answer to GitHub's refusals (`usage.collection.refusals`), against the
simulator over HTTP, collected in this process: an org that cannot use the usage report
(400 in the documented shape, 404 as the real API answers) is marked and asked again a
day later, while a renamed org is followed, a deleted one is marked so, and a missing
permission is read from GitHub's header and installation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Installation, Organization
from tests.factories import OrganizationFactory
from tests.helpers import mirror_installation, mirror_installed_org
from usage import periods
from usage.collection.collect import org_collect_due
from usage.collection.selectors import org_usage_availability
from usage.collection.services import org_refresh_request, run_enqueue, schedule_current_month
from usage.models import CollectionRun, EndpointAvailability, UsageItem

from .conftest import DIALECTS, installation_of, not_enhanced_org, usage_calls
from .test_collect_worker import assert_month_matches_simulator

pytestmark = [pytest.mark.django_db, pytest.mark.dates]
State = CollectionRun.State
Reason = EndpointAvailability.Reason


def collect(org: Organization, period=None) -> CollectionRun:
    period = period or periods.current_month()
    run, _ = run_enqueue(organization=org, period=period, trigger="schedule", send=False)
    org_collect_due(organization_id=org.pk, holder="refusal-tests")
    run.refresh_from_db()
    return run


@pytest.mark.parametrize("dialect", DIALECTS)
def test_an_org_that_cannot_use_the_usage_report_is_marked_and_asked_again_a_day_later(
    gh_in_process, dialect
):
    status = DIALECTS[dialect]
    org = not_enhanced_org(gh_in_process, "legacy-org", dialect)
    older = run_enqueue(
        organization=org, period=periods.previous_month(), trigger="backfill", send=False
    )[0]
    run = collect(org)

    assert run.state == State.FAILED
    assert f"GitHub answered {status} to the usage report of legacy-org" in run.error
    assert "not on GitHub's enhanced billing platform" in run.error
    org.refresh_from_db()
    assert org.billing_platform == Organization.BillingPlatform.UNAVAILABLE
    # Not the installation's fault: it stays active (a reconciliation cannot revive it
    # into an hourly retry).
    assert installation_of(org).state == Installation.State.ACTIVE
    facts = org_usage_availability(organization=org)
    assert (facts.status, facts.reason) == (status, Reason.NOT_AVAILABLE)
    assert facts.detail.startswith(f"GitHub answered {status}: ")
    assert facts.next_check_at - facts.checked_at == timedelta(days=1)
    older.refresh_from_db()
    assert older.state == State.SKIPPED  # the rest of the backfill is not asked for
    assert [c["status"] for c in usage_calls(gh_in_process, org.login)] == [status]

    # The hourly schedule and "refresh now" leave it alone until the re-check is due...
    assert schedule_current_month() == 0
    assert org_refresh_request(organization=org) is None
    # ...which comes a day after GitHub's answer.
    EndpointAvailability.objects.filter(pk=facts.pk).update(
        next_check_at=timezone.now() - timedelta(seconds=1)
    )
    assert schedule_current_month() == 1


@pytest.mark.parametrize("dialect", DIALECTS)
def test_an_org_that_moves_to_the_enhanced_platform_is_collected_at_the_recheck(
    gh_in_process, dialect
):
    org = not_enhanced_org(gh_in_process, "mover-org", dialect)
    assert collect(org).state == State.FAILED
    # The org moves to the enhanced billing platform; the re-check finds out.
    with gh_in_process.state.lock:
        gh_in_process.state.org("mover-org").enhanced_billing = True
    gh_in_process.control.clear_faults()
    EndpointAvailability.objects.filter(organization=org).update(next_check_at=timezone.now())
    assert schedule_current_month() == 1
    org_collect_due(organization_id=org.pk, holder="refusal-tests")
    org.refresh_from_db()
    assert org.billing_platform == Organization.BillingPlatform.ENHANCED
    assert org_usage_availability(organization=org) is None
    assert_month_matches_simulator(gh_in_process, org, periods.current_month())


def test_a_renamed_org_is_followed_and_collected_at_once(gh_in_process):
    org = mirror_installed_org(gh_in_process, "old-name", repos=2, skus_per_repo=2)
    assert collect(org).state == State.SUCCEEDED
    gh_in_process.control.rename_org("old-name", "new-name")
    run = collect(org)
    assert run.state == State.SUCCEEDED, run.error
    org.refresh_from_db()
    assert org.login == "new-name"
    assert org.billing_platform == Organization.BillingPlatform.ENHANCED
    assert installation_of(org).account_login == "new-name"
    assert installation_of(org).state == Installation.State.ACTIVE
    assert [c["status"] for c in usage_calls(gh_in_process, "old-name")] == [200, 404]
    assert [c["status"] for c in usage_calls(gh_in_process, "new-name")] == [200]
    assert org_usage_availability(organization=org) is None
    assert_month_matches_simulator(gh_in_process, org, periods.current_month())


def test_a_deleted_org_is_marked_so(gh_in_process):
    org = mirror_installed_org(gh_in_process, "gone-org", repos=2, skus_per_repo=2)
    assert collect(org).state == State.SUCCEEDED
    kept = UsageItem.objects.filter(organization=org).count()
    # GitHub deletes the org: its installation goes with it, its login answers 404.
    gh_in_process.control.uninstall(installation_of(org).installation_id)
    gh_in_process.control.fault("status", r"^/orgs/gone-org$", status=404)
    run = collect(org)
    assert run.state == State.FAILED
    assert "GitHub has no organization gone-org any more" in run.error
    installation = installation_of(org)
    assert installation.state == Installation.State.DELETED
    assert "no organization gone-org" in installation.state_reason
    facts = org_usage_availability(organization=org)
    assert (facts.status, facts.reason) == (404, Reason.ORG_DELETED)
    assert UsageItem.objects.filter(organization=org).count() == kept  # nothing lost


def test_a_missing_permission_is_read_from_githubs_answer(gh_in_process):
    info = gh_in_process.control.create_org("no-admin-org", repos=2)
    inst = gh_in_process.control.install("no-admin-org", permissions={"members": "read"})
    org = OrganizationFactory(github_id=info["id"], login=info["login"])
    # Our record still says the App may read billing (a webhook was missed).
    mirror_installation(org, info, {**inst, "permissions": {"organization_administration": "read"}})
    run = collect(org)
    assert run.state == State.FAILED
    assert "Administration: read" in run.error and "GitHub answered 403" in run.error
    installation = installation_of(org)
    assert installation.state == Installation.State.MISSING_PERMISSION
    assert installation.permissions == {"members": "read"}  # GitHub's object, now
    facts = org_usage_availability(organization=org)
    assert (facts.status, facts.reason) == (403, Reason.MISSING_PERMISSION)
    assert facts.missing_permission == "organization_administration=read"


def test_a_retired_endpoint_fails_the_run_with_a_clear_message(gh_in_process):
    org = mirror_installed_org(gh_in_process, "moved-org", repos=2)
    gh_in_process.control.fault(
        "status",
        r"^/organizations/moved-org/settings/billing/usage$",
        status=410,
        message="This endpoint has been moved.",
    )
    run = collect(org)
    assert run.state == State.FAILED
    assert 'GitHub retired this endpoint (410 Gone: "This endpoint has been moved.")' in run.error
    assert installation_of(org).state == Installation.State.ACTIVE
