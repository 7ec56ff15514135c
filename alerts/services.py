"""Writes of the alerts app: channels, deliveries, subscriptions.

For the rule engine: `delivery_enqueue(channel=, message=)` queues one `Message` to one
channel (None when the channel is off or its address unsubscribed). For the API and
pages: `channel_create`, `channel_delete`, `channel_send_test`. Channel changes are
audited (`accounts.audit.audit_log`) with the display hint, never the destination.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.audit import audit_log
from accounts.models import Organization, User

from . import ssrf
from .delivery import delivery_attempt, enqueue
from .mail import channel_subscription
from .messages import Message
from .models import Channel, Delivery, Digest, FiredAlert, Subscription

MAX_CHANNELS_PER_ORG = 50
MAX_NAME = 100
SECRET_PREFIX = "bdwhsec_"
HTTP_KINDS = (Channel.Kind.SLACK, Channel.Kind.TEAMS, Channel.Kind.WEBHOOK)


class ChannelInvalid(ValueError):
    """The channel cannot be created as asked; `str()` says why (a 400's message)."""


def url_hint(url: str) -> str:
    """``hooks.slack.com/…/XXXX``: the host and the URL's last four characters."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if parts.port:
        host = f"{host}:{parts.port}"
    rest = (parts.path + ("?" + parts.query if parts.query else "")).rstrip("/")
    return f"{host}/…/{rest[-4:]}" if len(rest) >= 8 else f"{host}/…"


def email_hint(address: str) -> str:
    """``o***@example.com``."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"


def _email(address: str) -> str:
    address = address.strip()
    if len(address) > 254:
        raise ChannelInvalid("the address is longer than 254 characters")
    try:
        EmailValidator()(address)
    except ValidationError as error:
        raise ChannelInvalid(f"{address!r} is not an e-mail address") from error
    return address


def channel_create(
    *,
    organization: Organization,
    user: User,
    kind: str,
    destination: str,
    name: str = "",
    request: HttpRequest | None = None,
) -> tuple[Channel, str]:
    """A new channel and, for a webhook, its signing secret (to show once; "" for other
    kinds). Raises `ChannelInvalid` with the reason (a refused URL, a bad address)."""
    if kind not in Channel.Kind.values:
        raise ChannelInvalid(f"kind must be one of {', '.join(Channel.Kind.values)}")
    if not isinstance(destination, str) or not destination.strip():
        what = "address" if kind == Channel.Kind.EMAIL else "url"
        raise ChannelInvalid(f"{what} is required for a {kind} channel")
    if kind == Channel.Kind.EMAIL:
        destination = _email(destination)
        hint = email_hint(destination)
    else:
        destination = destination.strip()
        checked = ssrf.check_url(destination)
        if isinstance(checked, ssrf.Refused):
            raise ChannelInvalid(str(checked))
        hint = url_hint(destination)
    name = " ".join(str(name or "").split())
    if len(name) > MAX_NAME:
        raise ChannelInvalid(f"name must be at most {MAX_NAME} characters")
    name = name or f"{Channel.Kind(kind).label} {hint}"[:MAX_NAME]
    secret = SECRET_PREFIX + secrets.token_urlsafe(32) if kind == Channel.Kind.WEBHOOK else ""
    with transaction.atomic():
        # Lock the org row: two concurrent creations cannot both pass the limit.
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        if Channel.objects.filter(organization=organization).count() >= MAX_CHANNELS_PER_ORG:
            raise ChannelInvalid(
                f"an organization has at most {MAX_CHANNELS_PER_ORG} alert channels: "
                "delete one first"
            )
        channel = Channel.objects.create(
            organization=organization,
            kind=kind,
            name=name,
            destination=destination,
            destination_hint=hint,
            secret=secret,
            created_by=user,
        )
        if kind == Channel.Kind.EMAIL:
            channel_subscription(channel)
        audit_log(
            actor=user,
            action="alerts.channel_create",
            organization=organization,
            target=f"channel {channel.pk}: {name}",
            request=request,
            details={"channel": channel.pk, "kind": kind, "name": name, "destination": hint},
        )
    return channel, secret


def channel_delete(*, channel: Channel, user: User, request: HttpRequest | None = None) -> None:
    """Delete the channel with its deliveries and subscriptions (its secrets go too)."""
    with transaction.atomic():
        audit_log(
            actor=user,
            action="alerts.channel_delete",
            organization=channel.organization,
            target=f"channel {channel.pk}: {channel.name}",
            request=request,
            details={
                "channel": channel.pk,
                "kind": channel.kind,
                "name": channel.name,
                "destination": channel.destination_hint,
            },
        )
        channel.delete()


def _create_delivery(
    channel: Channel, message: Message, *, max_attempts: int, **about: Any
) -> Delivery:
    return Delivery.objects.create(
        channel=channel,
        event=message.event,
        summary=" ".join(message.title.split())[:300],
        message=message.as_json(),
        max_attempts=max_attempts,
        next_attempt_at=timezone.now(),
        **about,
    )


def delivery_enqueue(
    *,
    channel: Channel,
    message: Message,
    alert: FiredAlert | None = None,
    digest: Digest | None = None,
) -> Delivery | None:
    """Queue `message` (about `alert` or `digest`, when given) to `channel` (sent by a
    worker after the commit, retried with backoff). None when the channel is turned off
    or its address unsubscribed."""
    if not channel.enabled:
        return None
    if channel.kind == Channel.Kind.EMAIL and not channel_subscription(channel).active:
        return None
    delivery = _create_delivery(
        channel,
        message,
        max_attempts=max(1, settings.ALERTS_DELIVERY_MAX_ATTEMPTS),
        alert=alert,
        digest=digest,
    )
    transaction.on_commit(lambda: enqueue(delivery.pk))
    return delivery


def channel_test_message(channel: Channel, user: User) -> Message:
    login = channel.organization.login
    who = user.github_login or user.username
    return Message(
        event="test",
        organization=login,
        title="Test message from billingdash",
        text=f"This is a test of the alert channel \u201c{channel.name}\u201d of {login}. "
        "If you can read it, billingdash's alerts will reach you here.",
        facts=(("Organization", login), ("Channel", channel.name), ("Sent by", who)),
        url=f"{settings.SITE_URL}/orgs/{login}/",
    )


def channel_send_test(
    *, channel: Channel, user: User, request: HttpRequest | None = None
) -> Delivery:
    """Send a test message now, in this process, once (no retries): the answer says at
    once whether the channel works, and why not."""
    delivery = _create_delivery(channel, channel_test_message(channel, user), max_attempts=1)
    delivery_attempt(delivery_pk=delivery.pk)
    delivery.refresh_from_db()
    audit_log(
        actor=user,
        action="alerts.channel_test",
        organization=channel.organization,
        target=f"channel {channel.pk}: {channel.name}",
        request=request,
        details={"channel": channel.pk, "delivery": str(delivery.delivery_id)},
    )
    return delivery


def subscription_set_active(*, subscription: Subscription, active: bool) -> Subscription:
    """Unsubscribe (the signed link; no sign-in) or subscribe again; audited."""
    updated = Subscription.objects.filter(pk=subscription.pk, active=not active).update(
        active=active, unsubscribed_at=None if active else timezone.now()
    )
    subscription.refresh_from_db()
    if updated:
        audit_log(
            actor=None,
            action="alerts.resubscribe" if active else "alerts.unsubscribe",
            organization=subscription.organization,
            target=f"channel {subscription.channel_id}: {subscription.channel.name}",
            details={"channel": subscription.channel_id, "user": subscription.user_id},
        )
    return subscription
