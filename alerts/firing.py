"""Firing alerts once: `org_evaluate` (after a month of an organization is collected),
`data_stopped_check` (beat, hourly), and `alert_fire`, which records a `FiredAlert` and
queues its deliveries in one transaction.

Idempotent: a `FiredAlert` is unique per (rule, period, key), so a collection that reruns,
a duplicated task or two workers evaluating at once fire nothing twice; the rule's row is
locked while one is fired. A muted rule's alerts are recorded (they will not fire again
for that period) but not sent.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Organization
from usage import periods
from usage.models import CollectionRun

from . import evaluate
from .evaluate import Firing
from .messages import Message
from .models import FiredAlert, Rule
from .services import delivery_enqueue

log = logging.getLogger(__name__)

EVENTS = {
    Rule.Kind.BUDGET: "budget.threshold",
    Rule.Kind.PROJECTION: "budget.projection",
    Rule.Kind.ANOMALY: "usage.anomaly",
    Rule.Kind.NEW_SPEND: "usage.new_spend",
    Rule.Kind.DATA_STOPPED: "data.stopped",
}
LATE_DAYS = 10  # GitHub adjusts the previous month until the 10th (usage.periods.is_final)
ACTIVE = (CollectionRun.State.QUEUED, CollectionRun.State.RUNNING)


def _covered(rule: Rule, firing: Firing) -> bool:
    """A budget threshold at or above this one already fired for the same budget."""
    keys = FiredAlert.objects.filter(rule=rule, period=firing.period).values_list("key", flat=True)
    for key in keys:
        group, _, level = key.rpartition("@")
        if group == firing.group and level.isdigit() and int(level) >= (firing.level or 0):
            return True
    return False


def alert_message(alert: FiredAlert) -> Message:
    return Message(
        event=EVENTS.get(alert.kind, f"alert.{alert.kind}"),
        organization=alert.organization.login,
        title=alert.title,
        text=alert.message,
        severity=alert.severity,
        facts=tuple((str(k), str(v)) for k, v in alert.facts),
        url=alert.url,
    )


def alert_fire(*, rule: Rule, firing: Firing, now: datetime | None = None) -> FiredAlert | None:
    """Record the alert and queue it to the rule's channels; None when it fired already
    (or a higher threshold of the same budget did), or the rule is gone or off."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Rule.objects.select_for_update().filter(pk=rule.pk, enabled=True).first()
        if locked is None:
            return None
        if firing.level is not None and _covered(locked, firing):
            return None
        try:
            with transaction.atomic():
                alert = FiredAlert.objects.create(
                    organization_id=locked.organization_id,
                    rule=locked,
                    kind=locked.kind,
                    period=firing.period,
                    key=firing.key,
                    title=firing.title[:300],
                    message=firing.message,
                    severity=firing.severity,
                    facts=[list(f) for f in firing.facts],
                    data=firing.data,
                    url=firing.url[:500],
                    fired_at=now,
                    muted=locked.is_muted(now),
                )
        except IntegrityError:
            return None
        if not alert.muted:
            message = alert_message(alert)
            for channel in locked.channels.filter(enabled=True):
                delivery_enqueue(channel=channel, message=message, alert=alert)
    log.info("alert %s fired: rule %s, %s %s", alert.pk, rule.pk, alert.period, alert.key)
    return alert


def concerns(rule: Rule, period: date, today: date) -> bool:
    """Whether collecting `period`'s month can change what `rule` finds."""
    current = periods.month_start(today)
    if rule.kind == Rule.Kind.BUDGET:
        # The previous month, while GitHub still adjusts it, for a rule that watched it
        # (one made since would only report a month already over).
        late = period == periods.add_months(current, -1) and today.day <= LATE_DAYS
        return period == current or (late and rule.created_at.date() < current)
    if rule.kind == Rule.Kind.PROJECTION:
        return period == current
    if rule.kind == Rule.Kind.ANOMALY:
        weeks = int(rule.params.get("weeks", 8))
        oldest = today - timedelta(days=evaluate.LOOKBACK_DAYS + 7 * weeks)
        return periods.month_start(oldest) <= period <= current
    if rule.kind == Rule.Kind.NEW_SPEND:
        return period <= current
    return False  # data stopped: beat looks (`data_stopped_check`)


def _history_complete(organization: Organization) -> bool:
    """No backfill is under way: "never before" and "usual" need the earlier months."""
    return not CollectionRun.objects.filter(
        organization=organization, trigger=CollectionRun.Trigger.BACKFILL, state__in=ACTIVE
    ).exists()


def findings(rule: Rule, period: date, today: date) -> list[Firing]:
    if rule.kind == Rule.Kind.BUDGET:
        return evaluate.evaluate_budget(rule, period, today)
    if rule.kind == Rule.Kind.PROJECTION:
        return evaluate.evaluate_projection(rule, period, today)
    if not _history_complete(rule.organization):
        return []
    if rule.kind == Rule.Kind.ANOMALY:
        return evaluate.evaluate_anomaly(rule, today)
    if rule.kind == Rule.Kind.NEW_SPEND:
        return evaluate.evaluate_new_spend(rule, today)
    return []


def org_evaluate(*, organization: Organization, period: date) -> list[FiredAlert]:
    """Evaluate the organization's rules that `period`'s month concerns; fire what they
    find (once). Returns the alerts fired now."""
    today = periods.today()
    fired = []
    rules = Rule.objects.filter(organization=organization, enabled=True).select_related(
        "organization"
    )
    for rule in rules:
        if not concerns(rule, period, today):
            continue
        for firing in findings(rule, period, today):
            alert = alert_fire(rule=rule, firing=firing)
            if alert is not None:
                fired.append(alert)
    return fired


def data_stopped_check(*, now: datetime | None = None) -> int:
    """Beat: fire the data-stopped rules whose organization was not collected for their
    number of hours. Returns how many fired."""
    now = now or timezone.now()
    count = 0
    rules = Rule.objects.filter(kind=Rule.Kind.DATA_STOPPED, enabled=True).select_related(
        "organization"
    )
    for rule in rules:
        for firing in evaluate.evaluate_data_stopped(rule, now):
            count += alert_fire(rule=rule, firing=firing, now=now) is not None
    return count
