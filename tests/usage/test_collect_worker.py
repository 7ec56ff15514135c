"""Collection through a real Redis broker and a real worker process, against the
simulator over HTTP: backfill, hourly refresh, replace, rerun."""

from __future__ import annotations

import pytest
from django.db.models import Count, Sum

from usage import periods
from usage.collection.selectors import org_collection_progress, org_last_collection
from usage.collection.services import org_backfill_start, run_enqueue, schedule_current_month
from usage.models import CollectionRun, DailyUsage, MonthlyRepositoryUsage, UsageItem

from .conftest import dec, sim_month_totals, usage_calls, wait_settled

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.dates,
]
State = CollectionRun.State


def items_of(org, period):
    end = periods.add_months(period, 1)
    return UsageItem.objects.filter(organization=org, date__gte=period, date__lt=end)


def assert_month_matches_simulator(sim, org, period):
    """Item counts and exact decimal sums equal the simulator's independent totals, and
    the rollups equal the items."""
    expected = sim_month_totals(sim, org.login, period)["total"]
    got = items_of(org, period).aggregate(
        items=Count("pk"),
        quantity=Sum("quantity"),
        gross=Sum("gross_amount"),
        discount=Sum("discount_amount"),
        net=Sum("net_amount"),
    )
    assert got["items"] == expected["items"]
    for key in ("quantity", "gross", "discount", "net"):
        assert got[key] == dec(expected[key]), key
    end = periods.add_months(period, 1)
    daily = DailyUsage.objects.filter(organization=org, date__gte=period, date__lt=end)
    repos = MonthlyRepositoryUsage.objects.filter(organization=org, month=period)
    for rollup in (daily, repos):
        sums = rollup.aggregate(items=Sum("items"), net=Sum("net_amount"))
        assert sums == {"items": got["items"], "net": got["net"]}


def test_backfill_collects_every_month_newest_first(gh, installed_org, celery_worker, settings):
    settings.BACKFILL_MONTHS = 6
    # Copilot seats: usage GitHub reports without a repository.
    org = installed_org(
        "Acme-Backfill", repos=3, skus_per_repo=2, copilot_seats=4, created_months_ago=30
    )
    runs = org_backfill_start(organization=org)
    assert [r.period for r in runs] == periods.last_months(6)
    wait_settled(org, 6)
    done = CollectionRun.objects.filter(organization=org).order_by("started_at")
    assert [(r.state, r.error) for r in done] == [(State.SUCCEEDED, "")] * 6
    # Newest first: the dashboard fills from today backwards.
    assert [r.period for r in done] == periods.last_months(6)
    calls = usage_calls(gh, org.login)
    assert [(int(c["query"]["year"]), int(c["query"]["month"])) for c in calls] == [
        (p.year, p.month) for p in periods.last_months(6)
    ]
    for period in periods.last_months(6):
        assert_month_matches_simulator(gh, org, period)
    assert UsageItem.objects.filter(organization=org, repository="").exists()
    assert MonthlyRepositoryUsage.objects.filter(organization=org, repository="").exists()
    progress = org_collection_progress(organization=org)
    assert progress["months_total"] == 6 and progress["months_done"] == 6
    assert progress["items"] == UsageItem.objects.filter(organization=org).count()
    assert not progress["running"] and progress["errors"] == 0
    org.refresh_from_db()
    assert org.last_collected_at == org_last_collection(organization=org).finished_at
    # One call per month, each run says so, and the rate-limit budget left is recorded.
    for run in done:
        assert run.api_calls >= 1 and run.ratelimit_remaining is not None
    assert sum(r.api_calls for r in done) == 6 + 1 + 2  # months + token + summary/budgets


def test_hourly_refresh_replaces_the_current_month_with_the_same_rows(
    gh, installed_org, celery_worker
):
    org = installed_org("acme-hourly", repos=4, skus_per_repo=3)
    other = installed_org("acme-other", repos=2, skus_per_repo=2)
    assert schedule_current_month() == 2
    wait_settled(org, 1)
    wait_settled(other, 1)
    current = periods.current_month()
    assert_month_matches_simulator(gh, org, current)
    first = sorted(items_of(org, current).values_list("date", "sku", "repository", "net_amount"))
    # The next hour: the same month again, same rows (the month is replaced, not added to).
    assert schedule_current_month() == 2
    wait_settled(org, 2)
    again = sorted(items_of(org, current).values_list("date", "sku", "repository", "net_amount"))
    assert again == first
    assert_month_matches_simulator(gh, org, current)
    runs = CollectionRun.objects.filter(organization=org).order_by("pk")
    assert [(r.trigger, r.state) for r in runs] == [("schedule", State.SUCCEEDED)] * 2
    # Steady state: one usage call per org per refresh (token cached, extras not due).
    assert runs[1].api_calls == 1


def test_org_names_are_case_insensitive(gh, installed_org, celery_worker):
    # We keep "Mixed-Case"; GitHub answers whatever case it likes and is asked in ours.
    org = installed_org("Mixed-Case", repos=2, skus_per_repo=2)
    org.login = "mixed-case"
    org.save()
    run, _ = run_enqueue(organization=org, period=periods.current_month(), trigger="manual")
    wait_settled(org, 1)
    run.refresh_from_db()
    assert run.state == State.SUCCEEDED, run.error
    assert_month_matches_simulator(gh, org, periods.current_month())
