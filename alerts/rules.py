"""Writes of rules, fired alerts and digest subscriptions, for the page and the API (the
same services, the same checks). Every change is audited (`accounts.audit.audit_log`).

- `rule_create`, `rule_delete`, `rule_mute` (until a moment; None unmutes);
- `alert_acknowledge`;
- `subscription_save` (a person's weekly/monthly digest on one channel, in their time
  zone), `subscription_delete`;
- `digest_request` ("send a digest now", with a cool-down per organization).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.audit import audit_log
from accounts.models import Organization, User

from .digests import digest_send_now, zone
from .models import Channel, Delivery, Digest, FiredAlert, Rule, Subscription
from .rule_params import RuleInvalid, describe, parse_params

MAX_RULES_PER_ORG = 100
MAX_NAME = 100
MAX_MUTE_DAYS = 366


class DigestTooSoon(Exception):
    def __init__(self, seconds_left: int) -> None:
        super().__init__(f"a digest was sent moments ago: try again in {seconds_left} s")
        self.seconds_left = seconds_left


def _channels(organization: Organization, value: Any) -> list[Channel]:
    if value is None or value == "":
        return []
    if not isinstance(value, list) or len(value) > 50:
        raise RuleInvalid("channels must be a list of channel ids, e.g. [1, 2]")
    ids = set()
    for item in value:
        text = str(item).strip()
        if isinstance(item, bool) or not text.isdigit() or len(text) > 18:
            raise RuleInvalid(f"channels must be channel ids (numbers), not {item!r}")
        ids.add(int(text))
    found = list(Channel.objects.filter(organization=organization, pk__in=ids))
    missing = sorted(ids - {c.pk for c in found})
    if missing:
        raise RuleInvalid(f"{organization.login} has no alert channel {missing[0]}")
    return found


def rule_create(
    *,
    organization: Organization,
    user: User,
    data: dict[str, Any],
    request: HttpRequest | None = None,
) -> Rule:
    """A new rule from the API's JSON or the page's form. Raises `RuleInvalid` with the
    reason."""
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in Rule.Kind.values:
        raise RuleInvalid(f"kind must be one of {', '.join(Rule.Kind.values)}")
    params = parse_params(organization, kind, data)
    channels = _channels(organization, data.get("channels"))
    name = data.get("name") or ""
    if not isinstance(name, str):
        raise RuleInvalid("name must be a string")
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        raise RuleInvalid(f"name must be at most {MAX_NAME} characters")
    with transaction.atomic():
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        if Rule.objects.filter(organization=organization).count() >= MAX_RULES_PER_ORG:
            raise RuleInvalid(
                f"an organization has at most {MAX_RULES_PER_ORG} alert rules: delete one first"
            )
        rule = Rule.objects.create(
            organization=organization, kind=kind, name=name, params=params, created_by=user
        )
        rule.channels.set(channels)
        audit_log(
            actor=user,
            action="alerts.rule_create",
            organization=organization,
            target=f"rule {rule.pk}: {describe(kind, params)}"[:300],
            request=request,
            details={"rule": rule.pk, "kind": kind, "params": params},
        )
    return rule


def rule_delete(*, rule: Rule, user: User, request: HttpRequest | None = None) -> None:
    """Delete the rule; its fired alerts stay in the history (without their rule)."""
    with transaction.atomic():
        audit_log(
            actor=user,
            action="alerts.rule_delete",
            organization=rule.organization,
            target=f"rule {rule.pk}: {describe(rule.kind, rule.params)}"[:300],
            request=request,
            details={"rule": rule.pk, "kind": rule.kind},
        )
        rule.delete()


def mute_until(data: dict[str, Any], now: datetime | None = None) -> datetime | None:
    """``{"days": n}`` (from now) or ``{"until": "YYYY-MM-DD"}`` (to the end of that UTC
    day); ``{"days": 0}`` unmutes (None). Raises `RuleInvalid`."""
    now = now or timezone.now()
    days, until = data.get("days"), data.get("until")
    if (days is None) == (until is None):
        raise RuleInvalid('give either "days" (0 to 366) or "until" (YYYY-MM-DD)')
    if days is not None:
        text = str(days).strip()
        if isinstance(days, bool) or not text.isdigit() or int(text) > MAX_MUTE_DAYS:
            raise RuleInvalid(f"days must be a whole number from 0 to {MAX_MUTE_DAYS}")
        return now + timedelta(days=int(text)) if int(text) else None
    try:
        day = date.fromisoformat(str(until))
    except ValueError:
        raise RuleInvalid(f"until must be a date (YYYY-MM-DD), not {until!r}") from None
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)
    if end <= now or end > now + timedelta(days=MAX_MUTE_DAYS + 1):
        raise RuleInvalid(f"until must be a day from today to {MAX_MUTE_DAYS} days ahead")
    return end


def rule_mute(
    *, rule: Rule, user: User, until: datetime | None, request: HttpRequest | None = None
) -> Rule:
    """Mute the rule until `until` (its alerts are recorded, not sent); None unmutes."""
    with transaction.atomic():
        Rule.objects.filter(pk=rule.pk).update(muted_until=until)
        rule.refresh_from_db()
        audit_log(
            actor=user,
            action="alerts.rule_mute" if until else "alerts.rule_unmute",
            organization=rule.organization,
            target=f"rule {rule.pk}",
            request=request,
            details={"rule": rule.pk, "until": until.isoformat() if until else None},
        )
    return rule


def alert_acknowledge(
    *, alert: FiredAlert, user: User, request: HttpRequest | None = None
) -> FiredAlert:
    """Mark the alert as seen and handled (once; a second time changes nothing)."""
    updated = FiredAlert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=user
    )
    alert.refresh_from_db()
    if updated:
        audit_log(
            actor=user,
            action="alerts.acknowledge",
            organization=alert.organization,
            target=f"alert {alert.pk}: {alert.title}"[:300],
            request=request,
            details={"alert": alert.pk},
        )
    return alert


def _flag(data: dict[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if isinstance(value, bool):
        return value
    if value in ("on", "true", "1", 1, "yes"):
        return True
    if value in ("", "off", "false", "0", 0, "no", None):
        return False
    raise RuleInvalid(f"{name} must be true or false")


def subscription_save(
    *,
    organization: Organization,
    user: User,
    data: dict[str, Any],
    request: HttpRequest | None = None,
) -> tuple[Subscription, bool]:
    """The person's digest subscription on one channel (``channel``, ``weekly``,
    ``monthly``, ``timezone``), made or changed; True when made. Raises `RuleInvalid`."""
    (channel,) = _channels(organization, [data.get("channel")]) if data.get("channel") else [None]
    if channel is None:
        raise RuleInvalid("channel is required (the id of one of the organization's channels)")
    weekly, monthly = _flag(data, "weekly"), _flag(data, "monthly")
    if not weekly and not monthly:
        raise RuleInvalid("choose weekly, monthly or both (to stop, delete the subscription)")
    name = data.get("timezone") or "UTC"
    if zone(name) is None:
        raise RuleInvalid(f"timezone must be an IANA time zone such as Europe/Berlin, not {name!r}")
    with transaction.atomic():
        subscription, created = Subscription.objects.update_or_create(
            channel=channel,
            user=user,
            defaults={
                "organization": organization,
                "weekly": weekly,
                "monthly": monthly,
                "timezone": name,
                "active": True,
                "unsubscribed_at": None,
            },
        )
        audit_log(
            actor=user,
            action="alerts.subscribe",
            organization=organization,
            target=f"channel {channel.pk}: {channel.name}",
            request=request,
            details={"channel": channel.pk, "weekly": weekly, "monthly": monthly, "tz": name},
        )
    return subscription, created


def subscription_delete(
    *, subscription: Subscription, user: User, request: HttpRequest | None = None
) -> None:
    with transaction.atomic():
        audit_log(
            actor=user,
            action="alerts.subscription_delete",
            organization=subscription.organization,
            target=f"channel {subscription.channel_id}: {subscription.channel.name}",
            request=request,
            details={"subscription": subscription.pk, "user": subscription.user_id},
        )
        subscription.delete()


def digest_request(
    *,
    organization: Organization,
    channel: Channel,
    kind: str,
    user: User,
    request: HttpRequest | None = None,
) -> Delivery | None:
    """ "Send a digest now" (the last complete week or month) to one channel; at most
    once per ``ALERTS_DIGEST_NOW_COOLDOWN_SECONDS`` per organization. Raises
    `DigestTooSoon`, `RuleInvalid` for a kind that is not weekly or monthly."""
    if kind not in Digest.Kind.values:
        raise RuleInvalid("kind must be weekly or monthly")
    cooldown = timedelta(seconds=settings.ALERTS_DIGEST_NOW_COOLDOWN_SECONDS)
    with transaction.atomic():
        # One request per cool-down, however many race: they queue on the org's row.
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        last = (
            Digest.objects.filter(organization=organization, on_demand=True)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        now = timezone.now()
        if last is not None and last > now - cooldown:
            raise DigestTooSoon(max(1, int((last + cooldown - now).total_seconds() + 0.999)))
        delivery = digest_send_now(organization=organization, channel=channel, kind=kind, user=user)
    audit_log(
        actor=user,
        action="alerts.digest_now",
        organization=organization,
        target=f"channel {channel.pk}: {channel.name}",
        request=request,
        details={"channel": channel.pk, "kind": kind},
    )
    return delivery
