"""When digests are due, and sending them once.

- Weekly: Monday morning in the subscriber's time zone: due from Monday at
  `ALERTS_DIGEST_HOUR` (7:00) local time for 24 hours, about the week before (Monday to
  Sunday, GitHub's UTC days).
- Monthly: after GitHub's previous month settles (it is collected again until the
  10th): due from the 11th at that hour, for 3 days, about the previous month.

Beat runs `digests_send_due` every hour: a window longer than an hour means every due
digest is seen at least once, even across daylight-saving changes, and a beat that was
down for a while still catches up. A scheduled digest is sent once per channel, kind and
period (a database constraint), whoever of its subscribers made it due first; "send a
digest now" (`digest_send_now`) is an extra one that changes nothing in the schedule.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Membership, Organization, User
from accounts.roles.sync import BILLING_ROLES
from usage import periods

from .digest_content import Span, digest_message
from .models import Channel, Delivery, Digest, Subscription
from .services import delivery_enqueue

log = logging.getLogger(__name__)

WINDOWS = {Digest.Kind.WEEKLY: timedelta(hours=24), Digest.Kind.MONTHLY: timedelta(days=3)}
MONTHLY_DAY = 11  # the previous month is collected again until the 10th


def zone(name: str) -> ZoneInfo | None:
    """The time zone called `name` (IANA), None for a name that is not one."""
    if not isinstance(name, str) or not name or name not in zone_names():
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


_ZONES: set[str] = set()


def zone_names() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


def _opens(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(settings.ALERTS_DIGEST_HOUR), tzinfo=tz)


def due_span(kind: str, now: datetime, tz: ZoneInfo) -> Span | None:
    """The period whose `kind` digest is due at `now` (aware) for someone in `tz`."""
    local = now.astimezone(tz)
    if kind == Digest.Kind.WEEKLY:
        monday = local.date() - timedelta(days=local.weekday())
        opens = _opens(monday, tz)
        if not opens <= now < opens + WINDOWS[kind]:
            return None
        return Span(monday - timedelta(days=7), monday - timedelta(days=1))
    first = local.date().replace(day=1)
    opens = _opens(first.replace(day=MONTHLY_DAY), tz)
    if not opens <= now < opens + WINDOWS[kind]:
        return None
    previous = periods.add_months(first, -1)
    return Span(previous, first - timedelta(days=1))


def latest_span(kind: str, today: date) -> Span:
    """The last complete week (Monday to Sunday) or month before `today`: what "send a
    digest now" covers."""
    if kind == Digest.Kind.WEEKLY:
        monday = today - timedelta(days=today.weekday())
        return Span(monday - timedelta(days=7), monday - timedelta(days=1))
    first = today.replace(day=1)
    return Span(periods.add_months(first, -1), first - timedelta(days=1))


def may_see_billing(user: User, organization: Organization) -> bool:
    return Membership.objects.filter(
        user=user, organization=organization, role__in=BILLING_ROLES, state="active"
    ).exists()


def digest_send(
    *,
    organization: Organization,
    channel: Channel,
    kind: str,
    span: Span,
    on_demand: bool = False,
    user: User | None = None,
) -> Digest | None:
    """Record the digest and queue it to the channel; None when this scheduled digest
    was sent already."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                digest = Digest.objects.create(
                    organization=organization,
                    channel=channel,
                    kind=kind,
                    period_start=span.start,
                    period_end=span.end,
                    on_demand=on_demand,
                    requested_by=user,
                )
        except IntegrityError:
            return None
        message = digest_message(organization, kind, span)
        delivery_enqueue(channel=channel, message=message, digest=digest)
    log.info("%s digest %s of %s queued to channel %s", kind, span.start, organization, channel.pk)
    return digest


def digests_send_due(*, now: datetime | None = None) -> int:
    """Beat, hourly: send every digest due now (see the module docstring). Subscribers
    who may no longer see the organization's billing get nothing. Returns how many."""
    now = now or timezone.now()
    subscriptions = (
        Subscription.objects.filter(user__isnull=False, active=True, channel__enabled=True)
        .filter(Q(weekly=True) | Q(monthly=True))
        .filter(organization__last_collected_at__isnull=False)
        .select_related("organization", "channel", "user")
        .order_by("pk")
    )
    sent = 0
    for subscription in subscriptions:
        tz = zone(subscription.timezone) or ZoneInfo("UTC")
        for kind, wanted in (
            (Digest.Kind.WEEKLY, subscription.weekly),
            (Digest.Kind.MONTHLY, subscription.monthly),
        ):
            span = due_span(kind, now, tz) if wanted else None
            if span is None:
                continue
            if not may_see_billing(subscription.user, subscription.organization):
                continue
            done = digest_send(
                organization=subscription.organization,
                channel=subscription.channel,
                kind=kind,
                span=span,
            )
            sent += done is not None
    return sent


def digest_send_now(
    *, organization: Organization, channel: Channel, kind: str, user: User
) -> Delivery | None:
    """ "Send a digest now": the last complete week or month, to one channel, at once
    (an extra digest: the schedule is unchanged). The delivery, or None when the channel
    is off or its address unsubscribed."""
    span = latest_span(kind, periods.today())
    digest = digest_send(
        organization=organization,
        channel=channel,
        kind=kind,
        span=span,
        on_demand=True,
        user=user,
    )
    return digest.deliveries.first() if digest is not None else None
