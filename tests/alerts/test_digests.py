"""Digests: when they are due in each subscriber's time zone (hypothesis over zones and
instants, daylight-saving changes included), sent once per channel and period whoever
made them due, only to people who may still see the billing, what they say, and one
arriving by real SMTP."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.models import Membership
from alerts.delivery import delivery_attempt
from alerts.digest_content import Span, digest_message, movers
from alerts.digests import digests_send_due, due_span, latest_span
from alerts.dimensions import Subject
from alerts.models import Delivery, Digest, FiredAlert, Subscription
from alerts.services import channel_create
from tests.factories import ChannelFactory
from usage import periods

from .usage_data import days_back, put_usage

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "Australia/Lord_Howe",
    "America/St_Johns",
]
instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2032, 12, 31), timezones=st.just(UTC)
)


# --- when (pure) ----------------------------------------------------------------------------


@given(st.sampled_from(ZONES), instants)
def test_a_weekly_digest_is_due_on_monday_morning_about_the_week_before(name, now):
    tz = ZoneInfo(name)
    span = due_span("weekly", now, tz)
    local = now.astimezone(tz)
    if span is None:
        return
    assert span.start.weekday() == 0 and span.end - span.start == timedelta(days=6)
    monday = span.end + timedelta(days=1)
    opens = datetime.combine(monday, time(7), tzinfo=tz)
    assert opens <= now < opens + timedelta(hours=24)
    assert local.date() in (monday, monday + timedelta(days=1))


@given(st.sampled_from(ZONES), instants)
def test_a_monthly_digest_is_due_after_the_tenth_about_the_month_before(name, now):
    tz = ZoneInfo(name)
    span = due_span("monthly", now, tz)
    if span is None:
        return
    local = now.astimezone(tz).date()
    assert span.start.day == 1 and span.end == local.replace(day=1) - timedelta(days=1)
    assert 11 <= local.day <= 14


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(ZONES), instants)
def test_an_hourly_beat_sees_every_period_once(name, start):
    """Over ten weeks of hourly ticks (beat's schedule) every week's digest becomes due,
    in order, and no week is skipped, across daylight-saving changes."""
    tz = ZoneInfo(name)
    ticks = [start + timedelta(hours=h) for h in range(24 * 7 * 10)]
    weekly = []
    for tick in ticks:
        span = due_span("weekly", tick, tz)
        if span is not None and span not in weekly:
            weekly.append(span)
    assert len(weekly) >= 9
    for earlier, later in itertools.pairwise(weekly):
        assert later.start == earlier.start + timedelta(days=7)
    monthly = {due_span("monthly", t, tz) for t in ticks} - {None}
    assert len(monthly) in (2, 3)


def test_send_now_covers_the_last_complete_period():
    today = date(2030, 3, 5)  # pure: any day will do
    assert latest_span("weekly", today) == Span(date(2030, 2, 25), date(2030, 3, 3))
    assert latest_span("monthly", today) == Span(date(2030, 2, 1), date(2030, 2, 28))
    monday = date(2030, 3, 4)
    assert latest_span("weekly", monday) == Span(date(2030, 2, 25), date(2030, 3, 3))


def test_movers_up_and_down():
    a, b, c, d = (Subject(sku=x) for x in "abcd")
    up, down = movers({a: 10, b: 5, c: 1}, {a: 1, b: 5, d: 7})
    assert up == [(a, 9, 10), (c, 1, 1)] and down == [(d, -7, 0)]


# --- sending (database) ------------------------------------------------------------------


def last_monday_morning(tz: ZoneInfo) -> datetime:
    """The latest Monday 07:30 in `tz` that is not in the future."""
    now = datetime.now(UTC)
    local = now.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    moment = datetime.combine(monday, time(7, 30), tzinfo=tz)
    return moment if moment <= now else moment - timedelta(days=7)


@pytest.fixture
def collected(acme):
    """Two weeks of usage before last Monday (Berlin), the org marked as collected."""
    monday = last_monday_morning(ZoneInfo("Europe/Berlin")).date()
    rows = []
    for day in days_back(14, end=monday - timedelta(days=1)):
        this_week = day >= monday - timedelta(days=7)
        rows.append((day, "actions", "Actions Linux", "acme-corp/api", 30 if this_week else 10))
        rows.append((day, "copilot", "Copilot", "", 5 if this_week else 8))
    put_usage(acme.org, rows)
    acme.org.last_collected_at = datetime.now(UTC)
    acme.org.save()
    return monday


@pytest.mark.django_db
@pytest.mark.dates
def test_a_weekly_digest_is_sent_once_per_channel_and_period(acme, collected):
    channel = ChannelFactory(organization=acme.org)
    berlin = ZoneInfo("Europe/Berlin")
    for who, tz in (("olivia", "Europe/Berlin"), ("bill", "America/Los_Angeles")):
        Subscription.objects.create(
            organization=acme.org, channel=channel, user=acme.people[who], weekly=True, timezone=tz
        )
    now = last_monday_morning(berlin)
    assert digests_send_due(now=now) == 1
    assert digests_send_due(now=now + timedelta(hours=1)) == 0
    # Bill's Monday morning comes nine hours later: the channel had it already.
    assert digests_send_due(now=now + timedelta(hours=9)) == 0
    digest = Digest.objects.get()
    assert (digest.kind, digest.period_start, digest.period_end) == (
        "weekly",
        collected - timedelta(days=7),
        collected - timedelta(days=1),
    )
    (delivery,) = Delivery.objects.filter(digest=digest)
    assert delivery.event == "digest.weekly"
    # Not due outside the window.
    assert digests_send_due(now=now - timedelta(hours=1)) == 0


@pytest.mark.django_db
@pytest.mark.dates
def test_no_digest_for_someone_who_may_not_see_the_billing(acme, collected):
    channel = ChannelFactory(organization=acme.org)
    Subscription.objects.create(
        organization=acme.org, channel=channel, user=acme.people["olivia"], weekly=True
    )
    Membership.objects.filter(user=acme.people["olivia"]).update(role=Membership.Role.MEMBER)
    assert digests_send_due(now=last_monday_morning(ZoneInfo("UTC"))) == 0
    assert not Digest.objects.exists()


@pytest.mark.django_db
@pytest.mark.dates
def test_what_a_weekly_digest_says(acme, collected, settings):
    settings.SITE_URL = "https://billingdash.test"
    start, end = collected - timedelta(days=7), collected - timedelta(days=1)
    FiredAlert.objects.create(
        organization=acme.org,
        kind="anomaly",
        period=end,
        key="k",
        title="Unusual spend",
        message="Actions Linux in acme-corp/api: $182 on a day, usual $9–$14.",
        fired_at=datetime.combine(end, time(12), tzinfo=UTC),
    )
    message = digest_message(acme.org, "weekly", Span(start, end))
    assert message.title == (
        f"Weekly digest for acme-corp: $245.00, {start:%a} {start.day} {start:%b} to "
        f"{end:%a} {end.day} {end:%b} {end.year}"
    )
    text = message.text
    assert "acme-corp spent $245.00 net from" in text
    assert ", up $119.00 (+94.4%) from $126.00 the week before.\n" in text
    assert "Skus up the most" not in text
    assert "SKUs up the most: Actions Linux +$140.00 (now $210.00)." in text
    assert "SKUs down the most: Copilot −$21.00 (now $35.00)." in text
    assert "Repositories up the most: acme-corp/api +$140.00 (now $210.00)." in text
    assert "Alerts this week: 1. Actions Linux in acme-corp/api: $182" in text
    assert message.url == (
        "https://billingdash.test/orgs/acme-corp/?range=custom&"
        f"start={start.isoformat()}&end={end.isoformat()}"
    )
    assert dict(message.facts)["Spent"] == "$245.00"


@pytest.mark.django_db
@pytest.mark.dates
def test_a_digest_arrives_by_email(acme, collected, local_delivery, mailbox):
    channel, _ = channel_create(
        organization=acme.org,
        user=acme.people["olivia"],
        kind="email",
        destination="finops@example.com",
    )
    Subscription.objects.create(
        organization=acme.org,
        channel=channel,
        user=acme.people["olivia"],
        weekly=True,
        timezone="Europe/Berlin",
    )
    assert digests_send_due(now=last_monday_morning(ZoneInfo("Europe/Berlin"))) == 1
    delivery = Delivery.objects.get(digest__isnull=False)
    delivery_attempt(delivery_pk=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "sent", delivery.error
    (mail,) = mailbox.messages()
    assert mail["subject"].startswith("[billingdash] acme-corp: Weekly digest for acme-corp:")
    assert "SKUs up the most" in mail["text"] and "SKUs up the most" in mail["html"]
    assert periods.today() >= collected - timedelta(days=1)


@pytest.mark.django_db
@pytest.mark.dates
def test_a_month_not_collected_is_said_to_be_missing_never_totalled(acme):
    """Nothing collected for the period: the digest says so instead of "$0.00"."""
    span = latest_span("monthly", periods.today())
    message = digest_message(acme.org, "monthly", span)
    month = f"{span.start:%B %Y}"
    assert message.title == f"Monthly digest for acme-corp: {month} is not collected yet"
    assert message.text.startswith(
        f"billingdash has not collected {month} of acme-corp yet, so this digest cannot "
        f"total {month}."
    )
    assert "$0.00" not in message.text
    assert dict(message.facts) == {"Projected this month": "—", "Alerts": "0"}
