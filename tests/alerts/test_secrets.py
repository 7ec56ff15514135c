"""Destinations and signing secrets are encrypted at rest and, once the channel is created,
never shown again: not in any API answer, the admin, the audit log, a log line or a
delivery's error, even when a receiver echoes them back or the connection fails."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client

from accounts.models import AuditEvent
from alerts.delivery import delivery_attempt
from alerts.messages import Message
from alerts.models import Channel, Delivery
from alerts.services import delivery_enqueue
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db

SLACK_PATH = "/services/T0SECRET1/B0SECRET2/Zx9SlackSecretTokenQ7"
TEAMS_PATH = "/workflows/0fa1b2c3d4e5f6/triggers/manual/paths/invoke"
TEAMS_QUERY = "api-version=2016-06-01&sig=TeamsSigSecretValue123456"
ADDRESS = "private.person@example.com"


def leaks(text: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s in text]


@pytest.fixture
def channels(acme, api, local_delivery, receiver, closed_port):
    """Channels of every kind made through the API, and the secrets they hold."""
    olivia = api("olivia")
    urls = {
        "slack": receiver.url + SLACK_PATH,
        "teams": f"{receiver.url}{TEAMS_PATH}?{TEAMS_QUERY}",
        "webhook": receiver.url + "/hooks/generic-Wh00kPathSecret",
        "down": f"http://127.0.0.1:{closed_port}/services/T1/B1/ClosedPortSecret99",
    }
    answers = {}
    for name, url in urls.items():
        kind = "slack" if name == "down" else name
        answers[name] = olivia.post("/channels", {"kind": kind, "url": url, "name": name})
        assert answers[name].status_code == 201
    answers["email"] = olivia.post("/channels", {"kind": "email", "address": ADDRESS})
    webhook_secret = answers["webhook"].json()["secret"]
    secrets = [
        *urls.values(),
        SLACK_PATH,
        "Zx9SlackSecretTokenQ7",
        "TeamsSigSecretValue123456",
        "generic-Wh00kPathSecret",
        "ClosedPortSecret99",
        webhook_secret,
        ADDRESS,
        "private.person",
    ]
    return olivia, answers, secrets


def deliver_everything(receiver, channels_with_echo: bool = True) -> list[Delivery]:
    """A delivery to each channel; the HTTP receivers answer 400/500 with the request's
    URL and the webhook secret in their body (a receiver that echoes what it got)."""
    message = Message(event="test", organization="acme-corp", title="T", text="x")
    deliveries = []
    for channel in Channel.objects.all():
        if channel.kind != "email" and channels_with_echo:
            path = urlsplit(str(channel.destination)).path
            echo = f"no such hook {channel.destination} (secret {channel.secret or '-'})"
            receiver.script(path, {"status": 500, "body": echo}, {"status": 400, "body": echo})
        delivery = delivery_enqueue(channel=channel, message=message)
        delivery_attempt(delivery_pk=delivery.pk)
        delivery_attempt(delivery_pk=delivery.pk)
        deliveries.append(delivery)
    return deliveries


def test_the_database_holds_ciphertext(channels):
    _, _, secrets = channels
    with connection.cursor() as cursor:
        cursor.execute("SELECT destination, secret, destination_hint FROM alerts_channel")
        rows = " ".join(" ".join(row) for row in cursor.fetchall())
    assert leaks(rows, secrets) == []
    assert Channel.objects.get(name="slack").destination.endswith(SLACK_PATH)


def test_no_secret_in_api_answers_after_creation(channels, receiver, mailbox):
    olivia, created, secrets = channels
    deliver_everything(receiver)
    texts = [olivia.get("/channels").content.decode(), olivia.get("/deliveries").content.decode()]
    for channel in Channel.objects.all():
        texts.append(olivia.get(f"/channels/{channel.pk}").content.decode())
        texts.append(olivia.post(f"/channels/{channel.pk}/test").content.decode())
    assert leaks("\n".join(texts), secrets) == []
    # Not vacuous: the errors came back, in words.
    errors = [d["error"] for d in olivia.get("/deliveries").json()["deliveries"]]
    assert any(e.startswith("127.0.0.1 answered 400: no such hook") for e in errors), errors
    assert any("connection refused" in e for e in errors), errors
    # The creation answer alone showed the webhook's secret.
    assert created["webhook"].json()["secret"] in secrets


def test_no_secret_in_delivery_errors(channels, receiver, mailbox):
    _, _, secrets = channels
    deliveries = deliver_everything(receiver)
    stored = " | ".join(Delivery.objects.values_list("error", flat=True))
    assert leaks(stored, secrets) == []
    assert "no such hook" in stored and "127.0.0.1:" in stored  # hints instead
    assert {d.channel.kind for d in deliveries} == {"slack", "teams", "webhook", "email"}


def test_no_secret_in_the_admin(channels, receiver, mailbox):
    _, _, secrets = channels
    deliver_everything(receiver)
    staff = Client()
    staff.force_login(StaffUserFactory(username="alerts-staff"))
    urls = ["/admin/alerts/channel/", "/admin/alerts/delivery/", "/admin/accounts/auditevent/"]
    urls += [f"/admin/alerts/channel/{c.pk}/change/" for c in Channel.objects.all()]
    urls += [f"/admin/alerts/delivery/{d.pk}/change/" for d in Delivery.objects.all()]
    urls += [f"/admin/accounts/auditevent/{e.pk}/change/" for e in AuditEvent.objects.all()]
    pages = {url: staff.get(url) for url in urls}
    assert {url: r.status_code for url, r in pages.items() if r.status_code != 200} == {}
    for url, page in pages.items():
        assert leaks(page.content.decode(), secrets) == [], url
    assert b"127.0.0.1:" in pages["/admin/alerts/channel/"].content  # the hints are there


def test_a_staff_change_cannot_reveal_or_replace_the_destination(channels):
    staff = Client()
    staff.force_login(StaffUserFactory(username="alerts-staff2"))
    channel = Channel.objects.get(name="slack")
    before = channel.destination
    staff.post(
        f"/admin/alerts/channel/{channel.pk}/change/",
        {"name": "renamed", "enabled": "", "destination": "https://evil.example/"},
    )
    channel.refresh_from_db()
    assert (channel.name, channel.enabled, channel.destination) == ("renamed", False, before)
    assert AuditEvent.objects.filter(action="staff.change").exists()


def test_no_secret_in_any_log_record(channels, receiver, mailbox, caplog):
    _, _, secrets = channels
    caplog.set_level(logging.DEBUG)
    deliver_everything(receiver)
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        assert leaks(text, secrets) == [], (record.name, text)
    assert any(r.name == "alerts.delivery" for r in caplog.records)  # not vacuous
