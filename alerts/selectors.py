"""Reads of the alerts app; each takes the tenant (the organization) it reads in."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.models import Organization

from .models import Channel, Delivery, Subscription

DELIVERIES_LIMIT = 100
MAX_ID = 2**63


def org_channels(*, organization: Organization) -> QuerySet[Channel]:
    return Channel.objects.filter(organization=organization).select_related("created_by")


def org_channel(*, organization: Organization, channel_id: int) -> Channel | None:
    """The organization's channel `channel_id`; None when it has no such channel."""
    if not 0 < channel_id < MAX_ID:  # a longer number would be a database error
        return None
    return org_channels(organization=organization).filter(pk=channel_id).first()


def org_deliveries(
    *, organization: Organization, channel_id: int | None = None, limit: int = DELIVERIES_LIMIT
) -> list[Delivery]:
    """The organization's newest deliveries (of one channel when given)."""
    deliveries = Delivery.objects.filter(channel__organization=organization)
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
