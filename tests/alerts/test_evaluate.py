"""Rule evaluation against usage written by the real ingest: budget thresholds (once per
rule, month and threshold; a jump past several sends the highest only), projections,
anomalies (weekday-aware, the reason in words), new spend, data stopped; muting and
reruns; which months concern which rule. Dates come from Django's today."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from alerts import rules as rule_services
from alerts.firing import concerns, data_stopped_check, org_evaluate
from alerts.models import Delivery, FiredAlert, Rule
from tests.factories import ChannelFactory, CollectionRunFactory
from usage import periods
from usage.periods import month_end
from usage.vocabulary import sku_id

from .usage_data import days_back, put_usage

pytestmark = [pytest.mark.django_db, pytest.mark.dates]

SKU = "Actions Linux 4-core"
REPO = "acme-corp/api"


def make_rule(acme, kind: str, channels=(), **params) -> Rule:
    data = {"kind": kind, "channels": [c.pk for c in channels], **params}
    return rule_services.rule_create(organization=acme.org, user=acme.people["olivia"], data=data)


def evaluate(acme, period=None) -> list[FiredAlert]:
    return org_evaluate(organization=acme.org, period=period or periods.current_month())


def spend_today(acme, net, sku: str = SKU) -> None:
    put_usage(acme.org, [(periods.today(), "actions", sku, REPO, net)])


# --- budget thresholds -------------------------------------------------------------------


def test_each_threshold_fires_once_per_month(acme):
    channel = ChannelFactory(organization=acme.org)
    rule = make_rule(acme, "budget", [channel], amount="1000", scope="sku", target=SKU)
    assert rule.params["thresholds"] == [50, 75, 90, 100]
    spend_today(acme, 400)
    assert evaluate(acme) == []
    spend_today(acme, 800)
    (alert,) = evaluate(acme)
    assert (alert.key, alert.period) == ("own@75", periods.current_month())
    assert alert.message.startswith(
        f"SKU {SKU}: $800.00 spent in {periods.today():%B %Y}, 80% of the $1,000.00 budget, "
        "past the 75% threshold."
    )
    assert evaluate(acme) == [] and evaluate(acme) == []  # collection reruns
    (delivery,) = Delivery.objects.filter(alert=alert)
    assert delivery.channel == channel and delivery.event == "budget.threshold"
    spend_today(acme, 1500)
    (over,) = evaluate(acme)
    assert over.key == "own@100" and over.severity == "critical"
    assert FiredAlert.objects.count() == 2 and Delivery.objects.count() == 2


def test_a_jump_past_several_thresholds_sends_the_highest_only(acme):
    make_rule(acme, "budget", amount="100", thresholds=[50, 75, 90])
    spend_today(acme, 95)
    (alert,) = evaluate(acme)
    assert alert.key == "own@90"
    spend_today(acme, 60)  # a late adjustment lowers the month: nothing fires again
    assert evaluate(acme) == []
    assert list(FiredAlert.objects.values_list("key", flat=True)) == ["own@90"]


def test_githubs_budgets_as_read(acme):
    from usage.models import Budget

    Budget.objects.create(
        organization=acme.org,
        github_id="b-actions",
        budget_type="ProductPricing",
        budget_scope="organization",
        budget_amount=Decimal(200),
        product_skus=["actions"],
        fetched_at=timezone.now(),
    )
    make_rule(acme, "budget", budget="github", thresholds=[90])
    spend_today(acme, 190)
    (alert,) = evaluate(acme)
    assert alert.key == "github:b-actions@90"
    assert alert.title == "90% of a budget spent"
    assert alert.message.startswith("GitHub budget Actions · whole organization: $190.00 spent")


def test_projection_against_a_limit_and_against_last_month(acme):
    today = periods.today()
    days = (month_end(today) - periods.month_start(today)).days + 1
    last_month = periods.add_months(periods.current_month(), -1)
    put_usage(
        acme.org,
        [(last_month, "actions", SKU, REPO, 100), (today, "actions", SKU, REPO, today.day * 10)],
    )
    # $10 a day so far: $10 x days in the month by its end.
    projected = Decimal(10 * days)
    make_rule(acme, "projection", amount=str(projected - 1), min_days=1)
    make_rule(acme, "projection", amount=str(projected + 1), min_days=1)
    make_rule(acme, "projection", over_last_month_percent=50, min_days=1)
    fired = evaluate(acme)
    assert sorted(a.key for a in fired) == ["last_month+50", "own"]
    by_key = {a.key: a for a in fired}
    assert f"reaches ${projected:,.2f} by" in by_key["own"].message
    assert "more than last month's $100.00" in by_key["last_month+50"].message
    assert evaluate(acme) == []
    # Only this month is projected.
    assert evaluate(acme, last_month) == []


# --- anomalies ------------------------------------------------------------------------------


def anomaly_history(acme, *, spike_day, spike: int, quiet_weekday_value: int = 10):
    """Ten weeks of one SKU in one repository: $100 a day except on the spike day's
    weekday, usually `quiet_weekday_value` (the weekly rhythm), and `spike` on the day."""
    rows = []
    for day in days_back(70):
        usual = quiet_weekday_value if day.weekday() == spike_day.weekday() else 100
        rows.append((day, "actions", SKU, REPO, spike if day == spike_day else usual))
    put_usage(acme.org, rows)


def test_an_anomaly_with_its_reason_in_words(acme):
    spike_day = periods.today() - timedelta(days=2)
    anomaly_history(acme, spike_day=spike_day, spike=182)
    make_rule(acme, "anomaly")
    (alert,) = evaluate(acme)
    weekday = f"{spike_day:%A}"
    assert alert.message == (
        f"{SKU} in {REPO}: $182 on {spike_day:%a} {spike_day.day} {spike_day:%b}, usual "
        f"{weekday} $10."
    )
    assert (alert.period, alert.kind) == (spike_day, "anomaly")
    assert alert.data == {
        "day": spike_day.isoformat(),
        "amount": "182.0000000000",
        "product": "actions",
        "sku": sku_id(SKU),  # stored in GitHub's identifiers (usage.vocabulary)
        "repository": REPO,
    }
    assert dict(alert.facts)[f"Median of the last 8 {weekday}s"] == "$10.00"
    assert evaluate(acme) == []


def test_anomalies_are_weekday_aware(acme):
    """$100 is a usual workday for this repository but not for its quiet weekday."""
    spike_day = periods.today() - timedelta(days=1)
    anomaly_history(acme, spike_day=spike_day, spike=100)
    make_rule(acme, "anomaly", dimension="repository")
    (alert,) = evaluate(acme)
    assert alert.period == spike_day
    # Every other day of the window had $100 too, on weekdays where that is usual.
    assert FiredAlert.objects.count() == 1


def test_small_or_ordinary_days_never_alert(acme):
    spike_day = periods.today() - timedelta(days=1)
    anomaly_history(acme, spike_day=spike_day, spike=24, quiet_weekday_value=2)
    make_rule(acme, "anomaly", min_amount="25")
    assert evaluate(acme) == []
    make_rule(acme, "anomaly", min_amount="20", dimension="sku")
    (alert,) = evaluate(acme)
    assert alert.message.startswith(f"{SKU}: $24 on")  # org-wide: no repository
    assert alert.message.endswith(f"usual {alert.period:%A} $2.")


def test_anomalies_wait_for_the_backfill(acme):
    spike_day = periods.today() - timedelta(days=1)
    anomaly_history(acme, spike_day=spike_day, spike=500)
    make_rule(acme, "anomaly")
    run = CollectionRunFactory(
        organization=acme.org,
        period=periods.add_months(periods.current_month(), -5),
        trigger="backfill",
        state="running",
    )
    assert evaluate(acme) == []
    run.state = "succeeded"
    run.save()
    assert len(evaluate(acme)) == 1


# --- new spend, data stopped ------------------------------------------------------------------


def test_new_spend_fires_once_for_a_sku_never_paid_for(acme):
    today = periods.today()
    old = today - timedelta(days=60)
    put_usage(
        acme.org,
        [
            (old, "actions", "Actions Linux", REPO, 5),
            (old + timedelta(days=10), "copilot", "Copilot", "", 3),
            (today - timedelta(days=1), "actions", SKU, REPO, 12),
            (today, "copilot", "Copilot", "", 4),
            (today, "actions", "Actions Linux", REPO, 0),
        ],
    )
    make_rule(acme, "new_spend")
    (alert,) = evaluate(acme)
    assert (alert.key, alert.period, alert.title) == (
        f"sku:{sku_id(SKU)}",
        today - timedelta(days=1),
        "New spend",
    )
    assert alert.message.startswith(f"{SKU} cost $12.00 on ")
    assert "the first spend on this SKU" in alert.message
    assert evaluate(acme) == []


def test_data_stopped(acme):
    channel = ChannelFactory(organization=acme.org)
    make_rule(acme, "data_stopped", [channel], hours=24)
    now = timezone.now()
    acme.org.last_collected_at = now - timedelta(hours=23)
    acme.org.save()
    assert data_stopped_check(now=now) == 0
    acme.org.last_collected_at = now - timedelta(hours=26)
    acme.org.save()
    assert data_stopped_check(now=now) == 1
    assert data_stopped_check(now=now + timedelta(hours=5)) == 0  # the same outage
    alert = FiredAlert.objects.get()
    assert "has not collected acme-corp's usage since" in alert.message
    assert "no active installation" in alert.message or "App" in alert.message
    # Collected again, then stopped again: a new outage, a new alert.
    acme.org.last_collected_at = now + timedelta(hours=1)
    acme.org.save()
    assert data_stopped_check(now=now + timedelta(hours=30)) == 1
    # A collection never fires it (only beat looks).
    assert evaluate(acme) == []


# --- mute, months, rules that go away --------------------------------------------------------


def test_a_muted_rule_records_without_sending_and_does_not_fire_again(acme):
    channel = ChannelFactory(organization=acme.org)
    rule = make_rule(acme, "budget", [channel], amount="100", thresholds=[50])
    rule_services.rule_mute(
        rule=rule, user=acme.people["bill"], until=timezone.now() + timedelta(days=1)
    )
    spend_today(acme, 60)
    (alert,) = evaluate(acme)
    assert alert.muted and not Delivery.objects.exists()
    rule_services.rule_mute(rule=rule, user=acme.people["bill"], until=None)
    assert evaluate(acme) == []
    assert not Delivery.objects.exists()


def test_which_months_concern_which_rule(acme):
    today = periods.today()
    current = periods.current_month()
    previous = periods.add_months(current, -1)
    old = periods.add_months(current, -6)
    made_long_ago = timezone.now() - timedelta(days=90)
    kinds = {
        k: Rule(kind=k, params={"weeks": 8}, created_at=made_long_ago) for k in Rule.Kind.values
    }
    assert concerns(kinds["budget"], current, today)
    assert concerns(kinds["budget"], previous, today) == (today.day <= 10)
    # A rule made this month does not report on last month, which it never watched.
    assert not concerns(Rule(kind="budget", params={}), previous, today)
    assert not concerns(kinds["budget"], old, today)
    assert concerns(kinds["projection"], current, today)
    assert not concerns(kinds["projection"], previous, today)
    assert concerns(kinds["anomaly"], previous, today)
    assert not concerns(kinds["anomaly"], old, today)
    assert concerns(kinds["new_spend"], old, today)
    assert not any(concerns(kinds["data_stopped"], p, today) for p in (current, previous))


def test_deleting_a_rule_keeps_its_alerts(acme):
    rule = make_rule(acme, "budget", amount="10", thresholds=[100])
    spend_today(acme, 20)
    (alert,) = evaluate(acme)
    rule_services.rule_delete(rule=rule, user=acme.people["olivia"])
    alert.refresh_from_db()
    assert alert.rule is None and alert.message
