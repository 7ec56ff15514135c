"""GitHub's failures, through a real worker: 5xx retries, rate limits rescheduled (never
slept on), revoked installations, malformed data, endpoints an org does not have."""

from __future__ import annotations

import pytest

from accounts.models import Installation, Organization
from tests.helpers import wait_for
from usage import periods
from usage.collection.services import org_refresh_request, run_enqueue, schedule_current_month
from usage.models import CollectionRun, DailyUsage, EndpointAvailability, UsageItem

from .conftest import installation_of, usage_calls, wait_settled
from .test_collect_worker import assert_month_matches_simulator

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
State = CollectionRun.State
USAGE_PATH = r"/settings/billing/usage$"


def collect_now(org, trigger="schedule") -> CollectionRun:
    run, _ = run_enqueue(organization=org, period=periods.current_month(), trigger=trigger)
    wait_settled(org)
    run.refresh_from_db()
    return run


def snapshot(org):
    items = list(UsageItem.objects.filter(organization=org).order_by("pk").values())
    daily = list(DailyUsage.objects.filter(organization=org).order_by("pk").values())
    return items, daily


def test_5xx_is_retried_with_backoff_until_it_works(gh, installed_org, celery_worker):
    org = installed_org("flaky-org", repos=2, skus_per_repo=2)
    # 5 failures: the client's 3 attempts, then a task-level retry after a backoff, whose
    # first 2 attempts fail too and whose third gets through.
    gh.control.fault("status", USAGE_PATH, status=502, count=5)
    run = collect_now(org)
    assert run.state == State.SUCCEEDED, run.error
    assert run.attempts == 2 and run.error == ""
    assert [c["status"] for c in usage_calls(gh, org.login)] == [502] * 5 + [200]
    assert_month_matches_simulator(gh, org, periods.current_month())


def test_5xx_forever_fails_the_run_after_the_last_attempt(gh, installed_org, celery_worker):
    org = installed_org("down-org", repos=2, skus_per_repo=2)
    gh.control.fault("status", USAGE_PATH, status=503)
    run = collect_now(org)
    assert run.state == State.FAILED and run.attempts == 5  # COLLECTION_MAX_ATTEMPTS
    assert "gave up after 5 attempts" in run.error and "503" in run.error


@pytest.mark.parametrize("kind", ["secondary_rate_limit", "primary_rate_limit"])
def test_rate_limit_reschedules_instead_of_sleeping(gh, installed_org, celery_worker, kind):
    limited = installed_org("limited-org", repos=2, skus_per_repo=2)
    other = installed_org("other-org", repos=2, skus_per_repo=2)
    gh.control.fault(kind, "limited-org" + USAGE_PATH, count=1, retry_after=3, reset_in=3)
    first, _ = run_enqueue(organization=limited, period=periods.current_month(), trigger="manual")
    wait_for(lambda: CollectionRun.objects.get(pk=first.pk).not_before, what="the deferral")
    deferred = CollectionRun.objects.get(pk=first.pk)
    assert deferred.state == State.QUEUED and "rate limit" in deferred.error
    # The (single, solo) worker is free meanwhile: another org is collected at once.
    second = collect_now(other)
    assert second.state == State.SUCCEEDED
    wait_settled(limited)
    done = CollectionRun.objects.get(pk=first.pk)
    assert done.state == State.SUCCEEDED and done.error == ""
    assert done.attempts == 1  # a deferral is not a failed attempt
    assert second.finished_at < done.started_at
    assert done.started_at >= deferred.not_before
    assert [c["status"] for c in usage_calls(gh, limited.login)] == [403, 200]


def test_an_uninstalled_app_is_marked_deleted_and_not_scheduled(gh, installed_org, celery_worker):
    org = installed_org("leaving-org", repos=2, skus_per_repo=2)
    assert collect_now(org).state == State.SUCCEEDED
    before = snapshot(org)
    installation = installation_of(org)
    gh.control.uninstall(installation.installation_id)  # our cached token dies with it
    run_enqueue(organization=org, period=periods.previous_month(), trigger="schedule")
    run = collect_now(org)
    assert run.state == State.FAILED and "uninstalled" in run.error
    installation.refresh_from_db()
    # GitHub no longer knows the installation (GET /app/installations/{id}: 404), the org
    # still exists: the App was uninstalled, as the installation.deleted webhook says.
    assert installation.state == Installation.State.DELETED
    assert "uninstalled" in installation.state_reason
    others = CollectionRun.objects.filter(organization=org).exclude(pk=run.pk)
    assert set(others.values_list("state", flat=True)) <= {State.SUCCEEDED, State.SKIPPED}
    assert snapshot(org) == before
    # The schedule leaves it alone until a webhook (or the reconciliation) revives it.
    assert schedule_current_month() == 0
    assert org_refresh_request(organization=org) is None


def test_a_suspended_installation_takes_githubs_state(gh, installed_org, celery_worker):
    org = installed_org("suspended-org", repos=2, skus_per_repo=2)
    gh.control.suspend(installation_of(org).installation_id)
    run = collect_now(org)
    assert run.state == State.FAILED and "suspended" in run.error
    assert installation_of(org).state == Installation.State.SUSPENDED


@pytest.mark.parametrize("kind", ["malformed_json", "truncated"])
def test_malformed_data_fails_the_run_and_keeps_the_old_month(
    gh, installed_org, celery_worker, kind
):
    org = installed_org("garbled-org", repos=3, skus_per_repo=3)
    assert collect_now(org).state == State.SUCCEEDED
    before = snapshot(org)
    gh.control.fault(kind, USAGE_PATH, count=1)
    run = collect_now(org)
    assert run.state == State.FAILED
    assert "malformed usage data; the previous data is kept" in run.error
    assert "usage report" in run.error
    assert snapshot(org) == before
    # The next refresh repairs nothing because nothing was broken.
    assert collect_now(org).state == State.SUCCEEDED
    assert_month_matches_simulator(gh, org, periods.current_month())


def test_an_org_without_the_enhanced_billing_platform(gh, installed_org, celery_worker):
    org = installed_org("legacy-org", repos=2, skus_per_repo=2, enhanced_billing=False)
    run = collect_now(org)
    assert run.state == State.FAILED and "enhanced billing platform" in run.error
    org.refresh_from_db()
    assert org.billing_platform == Organization.BillingPlatform.UNAVAILABLE
    assert schedule_current_month() == 0  # asked again daily, not hourly


def test_unavailable_budgets_are_recorded_and_not_asked_every_time(
    gh, installed_org, celery_worker
):
    org = installed_org("no-budgets-org", repos=2, skus_per_repo=2, budgets=2)
    gh.control.fault("status", r"/settings/billing/budgets$", status=404)
    assert collect_now(org, trigger="manual").state == State.SUCCEEDED
    budgets = EndpointAvailability.objects.get(organization=org, endpoint="budgets")
    summary = EndpointAvailability.objects.get(organization=org, endpoint="summary")
    assert not budgets.available and budgets.next_check_at > budgets.checked_at
    assert summary.available
    # A "refresh now" asks for the summary again, but not for the missing budgets.
    org_refresh_request(organization=org)
    wait_settled(org, 2)
    log = gh.control.requests_log()
    assert sum(r["api_path"].endswith("/billing/budgets") for r in log) == 1
    assert sum(r["api_path"].endswith("/usage/summary") for r in log) == 2


def test_budgets_and_summary_are_stored(gh, installed_org, celery_worker):
    from usage.models import Budget, UsageSummary

    org = installed_org("budget-org", repos=2, skus_per_repo=2, budgets=3)
    assert collect_now(org).state == State.SUCCEEDED
    assert Budget.objects.filter(organization=org).count() == 3
    summary = UsageSummary.objects.get(organization=org, month=periods.current_month())
    items = UsageItem.objects.filter(organization=org)
    assert summary.net_amount == sum(i.net_amount for i in items)
