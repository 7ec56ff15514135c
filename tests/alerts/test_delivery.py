"""Delivery to chat and webhook receivers over real HTTP (ghsim.chat_receiver): each
format as its receiver takes it, the generic webhook's signature, retries with backoff
on 5xx/408/429 (Retry-After honoured) until success or N attempts, no retry on other
4xx or a redirect, the claim taken once."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.db import transaction
from django.utils import timezone

from alerts import services
from alerts.delivery import backoff_seconds, deliveries_sweep, delivery_attempt
from alerts.messages import Message
from alerts.models import Channel, Delivery
from alerts.senders import parse_retry_after

pytestmark = pytest.mark.django_db

MESSAGE = Message(
    event="budget.threshold",
    organization="acme-corp",
    title="Actions passed 80% of its budget",
    text="Actions spent $812.40 of $1,000.00 this month <& counting>.",
    severity="warning",
    facts=(("Product", "Actions"), ("Spent", "$812.40"), ("Budget", "$1,000.00")),
    url="https://billingdash.test/orgs/acme-corp/",
)


def make_channel(acme, kind: str, url: str) -> tuple[Channel, str]:
    return services.channel_create(
        organization=acme.org, user=acme.people["olivia"], kind=kind, destination=url
    )


def enqueue(channel: Channel, message: Message = MESSAGE) -> Delivery:
    """Queue as the rule engine does (the task is sent after the commit, which the test
    transaction never makes: the tests attempt it themselves)."""
    return services.delivery_enqueue(channel=channel, message=message)


def attempt_until_final(delivery: Delivery, limit: int = 20) -> Delivery:
    """What the task does, in this process: attempt, wait out the backoff, again."""
    for _ in range(limit):
        result = delivery_attempt(delivery_pk=delivery.pk)
        delivery.refresh_from_db()
        if delivery.status in Delivery.FINAL:
            return delivery
        assert result.retry_in is not None
        time.sleep(result.retry_in)
    raise AssertionError(f"still {delivery.status} after {limit} attempts")


def test_slack_gets_text_and_blocks(acme, local_delivery, receiver):
    channel, _ = make_channel(acme, "slack", receiver.url + "/services/T1/B1/secretpart")
    delivery = attempt_until_final(enqueue(channel))
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("sent", 1, 200)
    (arrived,) = receiver.messages()
    assert arrived["kind"] == "slack" and arrived["status"] == 200
    body = arrived["json"]
    assert body["text"].startswith("Actions passed 80% of its budget: Actions spent")
    assert [b["type"] for b in body["blocks"]] == ["header", "section", "section", "context"]
    assert body["blocks"][1]["text"]["text"].endswith("&lt;&amp; counting&gt;.")
    assert body["blocks"][2]["fields"][0] == {"type": "mrkdwn", "text": "*Product*\nActions"}
    assert "<https://billingdash.test/orgs/acme-corp/|Open in billingdash>" in json.dumps(body)


def test_teams_gets_an_adaptive_card_as_workflows_take_it(acme, local_delivery, receiver):
    channel, _ = make_channel(acme, "teams", receiver.url + "/workflows/abc/invoke?sig=s1g")
    delivery = attempt_until_final(enqueue(channel))
    assert (delivery.status, delivery.last_status_code) == ("sent", 202)
    (arrived,) = receiver.messages()
    assert arrived["kind"] == "teams" and arrived["query"] == "sig=s1g"
    (attachment,) = arrived["json"]["attachments"]
    card = attachment["content"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert card["body"][0]["text"] == MESSAGE.title and card["body"][0]["color"] == "Warning"
    assert card["body"][2]["facts"][1] == {"title": "Spent", "value": "$812.40"}
    assert card["actions"][0]["url"] == MESSAGE.url


def test_the_generic_webhook_is_signed(acme, local_delivery, receiver):
    channel, secret = make_channel(acme, "webhook", receiver.url + "/generic")
    receiver.set_secret("/generic", secret)
    delivery = attempt_until_final(enqueue(channel))
    assert delivery.status == "sent"
    (arrived,) = receiver.messages()
    assert arrived["kind"] == "webhook" and arrived["signature_valid"] is True
    headers, raw = arrived["headers"], arrived["raw"].encode()
    expected = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    assert headers["X-Billingdash-Signature-256"] == expected
    assert headers["X-Billingdash-Event"] == "budget.threshold"
    assert headers["X-Billingdash-Delivery"] == str(delivery.delivery_id)
    body = arrived["json"]
    assert headers["X-Billingdash-Timestamp"] == str(body["timestamp"])
    assert abs(body["timestamp"] - time.time()) < 600
    assert body["schema"] == "billingdash.alert/v1"
    assert body["delivery_id"] == str(delivery.delivery_id)
    assert body["organization"] == {"login": "acme-corp"}
    assert body["alert"]["facts"][0] == {"name": "Product", "value": "Actions"}


def test_a_receiver_with_another_secret_refuses_and_we_do_not_retry(acme, local_delivery, receiver):
    channel, _ = make_channel(acme, "webhook", receiver.url + "/generic")
    receiver.set_secret("/generic", "bdwhsec_not-the-one")
    delivery = attempt_until_final(enqueue(channel))
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, 401)
    assert receiver.messages()[0]["signature_valid"] is False


def test_5xx_is_retried_with_backoff_then_sent(acme, local_delivery, receiver):
    channel, _ = make_channel(acme, "slack", receiver.url + "/flaky")
    receiver.script("/flaky", {"status": 503}, {"status": 500}, {"status": 502})
    delivery = enqueue(channel)
    first = delivery_attempt(delivery_pk=delivery.pk)
    delivery.refresh_from_db()
    assert (first.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 503)
    assert delivery.error == "127.0.0.1 answered 503"
    assert delivery.next_attempt_at >= delivery.updated_at
    # Not due yet: a duplicate message finds nothing to claim.
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    assert delivery_attempt(delivery_pk=delivery.pk).status is None
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    delivery = attempt_until_final(delivery)
    assert (delivery.status, delivery.attempts, delivery.error) == ("sent", 4, "")
    assert [m["status"] for m in receiver.messages()] == [503, 500, 502, 200]


def test_429_honours_retry_after(acme, local_delivery, receiver):
    local_delivery.ALERTS_RETRY_MAX_SECONDS = 3600
    channel, _ = make_channel(acme, "teams", receiver.url + "/busy")
    receiver.script("/busy", {"status": 429, "retry_after": "120"})
    delivery = enqueue(channel)
    result = delivery_attempt(delivery_pk=delivery.pk)
    delivery.refresh_from_db()
    assert result.status == "pending" and 120 <= result.retry_in <= 121
    wait = (delivery.next_attempt_at - delivery.updated_at).total_seconds()
    assert 119 <= wait <= 121
    receiver.script("/timeout", {"status": 408})
    channel408, _ = make_channel(acme, "teams", receiver.url + "/timeout")
    assert delivery_attempt(delivery_pk=enqueue(channel408).pk).status == "pending"


def test_gives_up_after_the_last_attempt(acme, local_delivery, receiver):
    local_delivery.ALERTS_DELIVERY_MAX_ATTEMPTS = 3
    channel, _ = make_channel(acme, "webhook", receiver.url + "/down")
    receiver.script("/down", *[{"status": 500, "body": "boom"}] * 5)
    delivery = attempt_until_final(enqueue(channel))
    assert (delivery.status, delivery.attempts) == ("gave_up", 3)
    assert delivery.error == "127.0.0.1 answered 500: boom"
    assert len(receiver.messages()) == 3
    assert delivery_attempt(delivery_pk=delivery.pk).status is None  # final: never again


@pytest.mark.parametrize("status", [400, 403, 404, 410, 413])
def test_other_4xx_are_not_retried(acme, local_delivery, receiver, status):
    channel, _ = make_channel(acme, "slack", receiver.url + "/no")
    receiver.script("/no", {"status": status, "body": "invalid_token"})
    delivery = attempt_until_final(enqueue(channel))
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        "failed",
        1,
        status,
    )
    assert delivery.error == f"127.0.0.1 answered {status}: invalid_token"


def test_a_redirect_fails_without_being_followed(acme, local_delivery, receiver):
    channel, _ = make_channel(acme, "slack", receiver.url + "/old")
    receiver.script("/old", {"status": 301, "location": receiver.url + "/new"})
    delivery = attempt_until_final(enqueue(channel))
    assert (delivery.status, delivery.last_status_code) == ("failed", 301)
    assert "does not follow redirects" in delivery.error
    assert [m["path"] for m in receiver.messages()] == ["/old"]


def test_network_errors_are_retried(acme, local_delivery, closed_port):
    local_delivery.ALERTS_DELIVERY_MAX_ATTEMPTS = 2
    channel, _ = make_channel(acme, "slack", f"http://127.0.0.1:{closed_port}/hook")
    delivery = attempt_until_final(enqueue(channel))
    assert (delivery.status, delivery.attempts) == ("gave_up", 2)
    assert delivery.error == "could not connect to 127.0.0.1 (127.0.0.1): connection refused"


def test_a_timeout_is_retried(acme, local_delivery, receiver):
    local_delivery.ALERTS_HTTP_READ_TIMEOUT = 0.3
    channel, _ = make_channel(acme, "slack", receiver.url + "/slow")
    receiver.script("/slow", {"delay": 3})
    delivery = enqueue(channel)
    assert delivery_attempt(delivery_pk=delivery.pk).status == "pending"
    delivery.refresh_from_db()
    assert delivery.error == "127.0.0.1 (127.0.0.1) did not answer in time (timed out)"


def test_a_destination_that_became_private_is_refused_at_send_time(acme, local_delivery, receiver):
    """Checked when created and again at every attempt (DNS may change meanwhile)."""
    channel, _ = make_channel(acme, "slack", receiver.url + "/x")
    local_delivery.ALERTS_ALLOWED_PRIVATE_NETWORKS = []
    delivery = attempt_until_final(enqueue(channel))
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.error == "refused: 127.0.0.1 is a loopback address"
    assert receiver.messages() == []


def test_a_turned_off_channel_gets_nothing(acme, local_delivery, receiver):
    channel, _ = make_channel(acme, "slack", receiver.url + "/x")
    delivery = enqueue(channel)
    Channel.objects.filter(pk=channel.pk).update(enabled=False)
    channel.refresh_from_db()
    assert enqueue(channel) is None
    delivery = attempt_until_final(delivery)
    assert (delivery.status, delivery.error) == ("failed", "the channel is turned off")
    assert receiver.messages() == []


def test_a_claim_is_taken_once(acme, local_delivery, receiver):
    channel, _ = make_channel(acme, "slack", receiver.url + "/x")
    delivery = enqueue(channel)
    Delivery.objects.filter(pk=delivery.pk).update(status="sending", claimed_at=timezone.now())
    assert delivery_attempt(delivery_pk=delivery.pk).status is None
    assert receiver.messages() == []
    # A claim whose worker died is given back by the sweep, then sent.
    Delivery.objects.filter(pk=delivery.pk).update(
        claimed_at=timezone.now() - timedelta(minutes=10)
    )
    deliveries_sweep()
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert attempt_until_final(delivery).status == "sent"


def test_backoff_grows_with_jitter_within_the_cap(settings):
    settings.ALERTS_RETRY_BASE_SECONDS = 30
    settings.ALERTS_RETRY_MAX_SECONDS = 3600
    for attempt, full in ((1, 30), (2, 60), (3, 120), (5, 480), (8, 3600), (20, 3600)):
        waits = [backoff_seconds(attempt) for _ in range(200)]
        assert all(full / 2 <= w <= full for w in waits), (attempt, min(waits), max(waits))
        assert len(set(waits)) > 1  # jitter
    assert backoff_seconds(1, retry_after=900) == 900
    assert backoff_seconds(1, retry_after=99999) == 3600


def test_retry_after_values():
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 - 60) == 60
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 + 60) == 0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_a_rolled_back_enqueue_leaves_nothing(acme, local_delivery, receiver):
    """delivery_enqueue inside a transaction that rolls back leaves no delivery (and
    sends no task: that happens on commit); the rule engine's transaction decides."""
    channel, _ = make_channel(acme, "slack", receiver.url + "/x")
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue(channel)
        raise RuntimeError
    assert not Delivery.objects.exists()


def test_the_tasks_and_the_sweep_are_registered(settings):
    from billingdash.celery import app as celery_app

    celery_app.loader.import_default_modules()  # what a worker does at start
    tasks = {
        "alerts.deliver",
        "alerts.sweep_deliveries",
        "alerts.evaluate_org",
        "alerts.check_data_stopped",
        "alerts.send_digests",
    }
    assert tasks <= set(celery_app.tasks)
    entries = {
        e["task"]: e["schedule"]
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"].startswith("alerts.")
    }
    assert entries["alerts.sweep_deliveries"] == 60.0
    # Hourly: the digests' windows (24 hours and more) are each seen at least once.
    assert entries["alerts.send_digests"] == crontab(minute=3)
    assert entries["alerts.check_data_stopped"] == crontab(minute=27)
    # A retry's countdown never outlives the broker's visibility timeout.
    visibility = celery_app.conf.broker_transport_options["visibility_timeout"]
    assert backoff_seconds(50, retry_after=10**9) <= settings.CELERY_MAX_COUNTDOWN_SECONDS
    assert (
        visibility
        > settings.CELERY_MAX_COUNTDOWN_SECONDS + celery_app.tasks["alerts.deliver"].time_limit
    )
