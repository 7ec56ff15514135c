"""Collection of GitHub's premium-request / AI-credit endpoints against the simulator:
the org's months and the per-user figures equal the simulator's truth to the cent, and
the per-user call budget holds with 500 Copilot users."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from copilot.collection.budget import budget_claim
from copilot.collection.collect import org_copilot_collect
from copilot.collection.services import after_usage_month, copilot_month_enqueue
from copilot.models import (
    CopilotModelMonth,
    CopilotMonth,
    CopilotOrgState,
    CopilotSeat,
    CopilotUserFetch,
    CopilotUserMonth,
)
from copilot.quotas import METERED_SKUS
from usage import periods
from usage.collection.locks import lease_acquire, lease_release
from usage.models import DailyUsage

from .conftest import (
    SEAT_PERMISSIONS,
    cents,
    collect,
    copilot_collect,
    join,
    mirror,
    month_last_day,
    premium_month,
)

pytestmark = [pytest.mark.django_db, pytest.mark.dates]
SUMS = ("gross_amount", "discount_amount", "net_amount")


def sim_models(sim, login, month):
    """The simulator's own sums per model of a month (its breakdown of the usage)."""
    got = sim.control.totals(login, str(month), str(month_last_day(month)), "model")
    return {g["key"]: g for g in got["groups"] if g["key"]}


def ours_by_model(org, month, model=CopilotModelMonth):
    rows = (
        model.objects.filter(organization=org, period=month)
        .values("model")
        .annotate(**{n: Sum(n) for n in SUMS})
    )
    return {r["model"]: r for r in rows}


def test_months_equal_the_simulators_truth_to_the_cent(acme, dash):
    for month in (periods.current_month(), periods.previous_month()):
        truth = sim_models(dash, "acme-corp", month)
        ours = ours_by_model(acme, month)
        assert set(ours) == set(truth), month
        for name, row in ours.items():
            for field in SUMS:
                key = {"gross_amount": "gross", "discount_amount": "discount"}.get(field, "net")
                assert cents(row[field]) == cents(truth[name][key]), (month, name, field)
        # ... and the usage report's Copilot lines of the month, to the cent.
        end = periods.add_months(month, 1)
        usage = DailyUsage.objects.filter(
            organization=acme, date__gte=month, date__lt=end, sku__in=METERED_SKUS
        ).aggregate(**{n: Sum(n) for n in SUMS})
        mine = CopilotModelMonth.objects.filter(organization=acme, period=month).aggregate(
            **{n: Sum(n) for n in SUMS}
        )
        assert {k: cents(v) for k, v in mine.items()} == {k: cents(v) for k, v in usage.items()}


def test_per_user_figures_add_up_to_the_org_and_some_are_over_quota(acme):
    seats = CopilotSeat.objects.filter(organization=acme)
    assert seats.count() == 12
    month = periods.previous_month()
    org_total = CopilotModelMonth.objects.filter(organization=acme, period=month).aggregate(
        g=Sum("gross_amount"), n=Sum("net_amount")
    )
    users = CopilotUserMonth.objects.filter(organization=acme, period=month)
    assert users.values("login").distinct().count() >= 8  # the idle seats use nothing
    assert users.aggregate(g=Sum("gross_amount"), n=Sum("net_amount")) == org_total
    per_user = defaultdict(Decimal)
    for row in users.values("login", "quantity"):
        per_user[row["login"]] += row["quantity"]
    assert max(per_user.values()) > 1900  # a heavy user beyond one seat's AI credits


def test_a_premium_request_month(dash, people, settings):
    month = premium_month()
    if month is None:
        pytest.skip("no premium-request month within GitHub's 24 months of this today")
    settings.COPILOT_TASK_BUDGET_SECONDS = 600
    org = mirror(dash, "acme-corp")
    join(org, people)
    copilot_collect(org, [month])
    assert CopilotMonth.objects.get(organization=org, period=month).endpoint == "premium_request"
    truth = sim_models(dash, "acme-corp", month)
    ours = ours_by_model(org, month)
    assert ours and set(ours) == set(truth)
    assert {r.unit_type for r in CopilotModelMonth.objects.filter(organization=org)} == {"requests"}
    for name, row in ours.items():
        assert cents(row["net_amount"]) == cents(truth[name]["net"])


def test_usage_months_with_copilot_lines_queue_copilot(acme, django_capture_on_commit_callbacks):
    CopilotMonth.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=False):
        after_usage_month(organization_id=acme.pk, period=periods.current_month(), run_id=1)
        after_usage_month(
            organization_id=acme.pk,
            period=periods.add_months(periods.current_month(), -40),
            run_id=2,
        )
    assert list(CopilotMonth.objects.values_list("period", "state")) == [
        (periods.current_month(), "queued")
    ]


def test_the_copilot_lease_never_holds_usage_up(acme):
    assert lease_acquire(organization_id=acme.pk, holder="usage-worker")
    # usage holds its lease: Copilot still collects (its own lease), and the other way round.
    copilot_month_enqueue(organization=acme, period=periods.current_month())
    result = org_copilot_collect(organization_id=acme.pk, holder="copilot-worker")
    assert not result.busy and result.months == 1
    lease_release(organization_id=acme.pk, holder="usage-worker")


def sim_user_calls(sim, login, since):
    return [
        r
        for r in sim.control.requests_log(since)
        if (r["api_path"] or "").lower().endswith(f"/{login}/settings/billing/ai_credit/usage")
        and "user" in r["query"]
    ]


def test_the_daily_budget_holds_with_500_copilot_users(dash, people, settings):
    settings.COPILOT_TASK_BUDGET_SECONDS = 600
    login = "copilot-500"
    dash.control.create_org(
        login, repos=2, skus_per_repo=1, copilot_seats=500, created_months_ago=30
    )
    dash.control.install(login, permissions=SEAT_PERMISSIONS)
    org = mirror(dash, login)
    join(org, people)
    month = periods.current_month()
    collect(org, [month])
    CopilotOrgState.objects.create(organization=org, user_calls_per_day=60)
    since = dash.control.requests_log()[-1]["seq"]
    copilot_month_enqueue(organization=org, period=month)
    first = org_copilot_collect(organization_id=org.pk, holder="t1")
    assert CopilotSeat.objects.filter(organization=org).count() == 500
    calls = sim_user_calls(dash, login, since)
    assert first.user_calls == len(calls) == 60
    assert len({c["query"]["user"] for c in calls}) == 60
    state = CopilotOrgState.objects.get(pk=org.pk)
    assert (state.calls_day, state.calls_used) == (periods.today(), 60)
    # Collections later the same day spend nothing more...
    copilot_month_enqueue(organization=org, period=month)
    again = org_copilot_collect(organization_id=org.pk, holder="t2")
    assert again.user_calls == 0 and again.months == 1
    assert len(sim_user_calls(dash, login, since)) == 60
    assert not budget_claim(organization=org)
    # ... and the next day the next 60 users are asked (none twice).
    CopilotOrgState.objects.filter(pk=org.pk).update(calls_day=periods.today() - timedelta(days=1))
    org_copilot_collect(organization_id=org.pk, holder="t3")
    calls = sim_user_calls(dash, login, since)
    assert len(calls) == 120
    assert len({c["query"]["user"] for c in calls}) == 120
    # Every user asked is recorded as fetched; figures are kept for those with usage (on
    # the 1st of a month, a day of usage: fewer of them, so no fixed share here).
    fetched = CopilotUserFetch.objects.filter(organization=org, period=month)
    assert fetched.values("login").distinct().count() == 120
    stored = CopilotUserMonth.objects.filter(organization=org).values("login").distinct()
    assert 0 < stored.count() <= 120


def test_a_rate_limit_puts_the_month_back(acme, dash):
    dash.control.fault(
        "secondary_rate_limit", "/settings/billing/ai_credit/usage", count=1, retry_after=30
    )
    copilot_month_enqueue(organization=acme, period=periods.current_month())
    result = org_copilot_collect(organization_id=acme.pk, holder="rl")
    month = CopilotMonth.objects.get(organization=acme, period=periods.current_month())
    assert result.retry_in is not None and result.retry_in > 0
    assert month.state == "queued" and month.not_before is not None
    assert "rate limit" in month.error


def test_logins_never_reach_logs_or_errors(acme, dash, caplog):
    logins = list(CopilotSeat.objects.filter(organization=acme).values_list("login", flat=True))
    month = periods.current_month()
    CopilotUserFetch.objects.filter(organization=acme, period=month).update(
        fetched_at=timezone.now() - timedelta(days=2)
    )
    dash.control.fault("status", "/settings/billing/ai_credit/usage", status=502)
    with caplog.at_level(logging.DEBUG):
        # No month due: straight to the per-user calls, which GitHub fails.
        assert org_copilot_collect(organization_id=acme.pk, holder="quiet").user_calls == 1
        copilot_month_enqueue(organization=acme, period=month)
        org_copilot_collect(organization_id=acme.pk, holder="quiet-2")
    dash.control.clear_faults()
    assert "per-user Copilot calls" in caplog.text
    errors = " ".join(
        CopilotMonth.objects.filter(organization=acme).values_list("error", flat=True)
    )
    assert "502" in errors or "attempt" in errors
    for login in logins:
        assert login not in caplog.text
        assert login not in errors
