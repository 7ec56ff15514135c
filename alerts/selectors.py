"""Reads of the alerts app; each takes the tenant (the organization) it reads in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone

from accounts.models import Organization

from .models import Channel, Delivery, FiredAlert, Rule, Subscription
from .rule_params import describe

DELIVERIES_LIMIT = 100
ALERTS_LIMIT = 100
MAX_ID = 2**63
# An alert counts as open on /orgs/ until acknowledged, for this long after it fired.
OPEN_DAYS = 31


def org_channels(*, organization: Organization) -> QuerySet[Channel]:
    return Channel.objects.filter(organization=organization).select_related("created_by")


def _valid_id(value: int) -> bool:
    return 0 < value < MAX_ID  # a longer number would be a database error


def org_channel(*, organization: Organization, channel_id: int) -> Channel | None:
    """The organization's channel `channel_id`; None when it has no such channel."""
    if not _valid_id(channel_id):
        return None
    return org_channels(organization=organization).filter(pk=channel_id).first()


def org_rules(*, organization: Organization) -> QuerySet[Rule]:
    return (
        Rule.objects.filter(organization=organization)
        .select_related("created_by")
        .prefetch_related("channels")
        .annotate(fired=Count("alerts"))
    )


def org_rule(*, organization: Organization, rule_id: int) -> Rule | None:
    if not _valid_id(rule_id):
        return None
    return org_rules(organization=organization).filter(pk=rule_id).first()


def org_alerts(
    *,
    organization: Organization,
    kind: str | None = None,
    acknowledged: bool | None = None,
    limit: int = ALERTS_LIMIT,
) -> list[FiredAlert]:
    """The organization's newest fired alerts, with their deliveries."""
    alerts = FiredAlert.objects.filter(organization=organization)
    if kind:
        alerts = alerts.filter(kind=kind)
    if acknowledged is not None:
        alerts = alerts.filter(acknowledged_at__isnull=not acknowledged)
    deliveries = Prefetch(
        "deliveries", queryset=Delivery.objects.select_related("channel").order_by("pk")
    )
    alerts = alerts.select_related("acknowledged_by", "rule").prefetch_related(deliveries)
    return list(alerts.order_by("-fired_at", "-pk")[:limit])


def org_alert(*, organization: Organization, alert_id: int) -> FiredAlert | None:
    if not _valid_id(alert_id):
        return None
    deliveries = Prefetch("deliveries", queryset=Delivery.objects.order_by("pk"))
    alerts = FiredAlert.objects.filter(organization=organization, pk=alert_id)
    return alerts.prefetch_related(deliveries).first()


def open_alert_counts(organization_ids: list[int]) -> dict[int, int]:
    """Unacknowledged alerts of the last `OPEN_DAYS` days, per organization."""
    since = timezone.now() - timedelta(days=OPEN_DAYS)
    rows = (
        FiredAlert.objects.filter(
            organization_id__in=organization_ids, acknowledged_at__isnull=True, fired_at__gte=since
        )
        .order_by()
        .values("organization_id")
        .annotate(n=Count("pk"))
    )
    return {row["organization_id"]: row["n"] for row in rows}


def org_subscriptions(*, organization: Organization) -> QuerySet[Subscription]:
    """The people's digest subscriptions in the organization."""
    return (
        Subscription.objects.filter(organization=organization, user__isnull=False)
        .select_related("channel", "user")
        .order_by("pk")
    )


def org_subscription(*, organization: Organization, subscription_id: int) -> Subscription | None:
    if not _valid_id(subscription_id):
        return None
    return org_subscriptions(organization=organization).filter(pk=subscription_id).first()


def org_deliveries(
    *, organization: Organization, channel_id: int | None = None, limit: int = DELIVERIES_LIMIT
) -> list[Delivery]:
    """The organization's newest deliveries (of one channel when given)."""
    deliveries = Delivery.objects.filter(channel__organization=organization).select_related(
        "channel"
    )
    if channel_id is not None:
        deliveries = deliveries.filter(channel_id=channel_id)
    return list(deliveries.order_by("-created_at", "-pk")[:limit])


def channel_subscribed(channel: Channel) -> bool | None:
    """Whether an e-mail channel's address still wants its e-mail (None: not e-mail)."""
    if channel.kind != Channel.Kind.EMAIL:
        return None
    subscription = Subscription.objects.filter(channel=channel, user=None).first()
    return subscription is None or subscription.active


def channel_json(channel: Channel) -> dict[str, Any]:
    """A channel as the API shows it: never its destination or secret."""
    creator = channel.created_by
    return {
        "id": channel.pk,
        "kind": channel.kind,
        "name": channel.name,
        "destination_hint": channel.destination_hint,
        "enabled": channel.enabled,
        "subscribed": channel_subscribed(channel),
        "created_at": channel.created_at.isoformat(),
        "created_by": (creator.github_login or creator.username) if creator else None,
    }


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    def when(value):
        return value.isoformat() if value else None

    return {
        "id": str(delivery.delivery_id),
        "channel": delivery.channel_id,
        "event": delivery.event,
        "summary": delivery.summary,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "max_attempts": delivery.max_attempts,
        "next_attempt_at": when(delivery.next_attempt_at if delivery.status == "pending" else None),
        "last_status_code": delivery.last_status_code,
        "error": delivery.error,
        "created_at": when(delivery.created_at),
        "sent_at": when(delivery.sent_at),
    }


def _when(value) -> str | None:
    return value.isoformat() if value else None


def rule_json(rule: Rule) -> dict[str, Any]:
    creator = rule.created_by
    return {
        "id": rule.pk,
        "kind": rule.kind,
        "name": rule.name,
        "description": describe(rule.kind, rule.params),
        **rule.params,
        "channels": sorted(c.pk for c in rule.channels.all()),
        "enabled": rule.enabled,
        "muted_until": _when(rule.muted_until if rule.is_muted() else None),
        "created_at": _when(rule.created_at),
        "created_by": (creator.github_login or creator.username) if creator else None,
    }


def alert_period(alert: FiredAlert) -> str:
    """ "2026-12" for a month (budgets, projections), "2026-12-01" for a day."""
    if alert.kind in (Rule.Kind.BUDGET, Rule.Kind.PROJECTION):
        return f"{alert.period:%Y-%m}"
    return alert.period.isoformat()


def alert_json(alert: FiredAlert) -> dict[str, Any]:
    """A fired alert as the API lists it."""
    return {
        "id": alert.pk,
        "rule": alert.rule_id,
        "kind": alert.kind,
        "fired_at": _when(alert.fired_at),
        "period": alert_period(alert),
        "message": alert.message,
        "acknowledged": alert.acknowledged_at is not None,
        "deliveries": [delivery_json(d) for d in alert.deliveries.all()],
    }


def subscription_json(subscription: Subscription) -> dict[str, Any]:
    user = subscription.user
    return {
        "id": subscription.pk,
        "channel": subscription.channel_id,
        "user": (user.github_login or user.username) if user else None,
        "weekly": subscription.weekly,
        "monthly": subscription.monthly,
        "timezone": subscription.timezone,
        "active": subscription.active,
        "created_at": _when(subscription.created_at),
    }
