"""Alert e-mail over real SMTP (ghsim.mailbox, aiosmtpd): both parts, the RFC 8058
headers, the one-click unsubscribe POST without a session (and the page for people),
SMTP refusals in words, and no mail to an address that unsubscribed."""

from __future__ import annotations

import re

import pytest
import requests
from django.test import Client

from accounts.models import AuditEvent
from alerts import services
from alerts.delivery import delivery_attempt
from alerts.mail import unsubscribe_token
from alerts.messages import Message
from alerts.models import Delivery, Subscription

pytestmark = pytest.mark.django_db

MESSAGE = Message(
    event="usage.anomaly",
    organization="acme-corp",
    title="Copilot spend doubled <yesterday>",
    text="Copilot cost $40.00 yesterday,\ntwice the daily average & more.",
    severity="critical",
    facts=(("Product", "Copilot"), ("Yesterday", "$40.00")),
    url="https://billingdash.test/orgs/acme-corp/?product=copilot",
)


def email_channel(acme, address: str = "owner.olivia@example.com"):
    channel, _ = services.channel_create(
        organization=acme.org, user=acme.people["olivia"], kind="email", destination=address
    )
    return channel


def send(channel, message: Message = MESSAGE) -> Delivery:
    delivery = services.delivery_enqueue(channel=channel, message=message)
    delivery_attempt(delivery_pk=delivery.pk)
    delivery.refresh_from_db()
    return delivery


def header(message: dict, name: str) -> str | None:
    return next((v for k, v in message["headers"] if k.lower() == name.lower()), None)


def unsubscribe_path(message: dict) -> str:
    url = re.fullmatch(
        r"<(https://billingdash\.test(/[^>]+))>", header(message, "List-Unsubscribe")
    )
    assert url, header(message, "List-Unsubscribe")
    return url.group(2)


def test_the_email_has_both_parts_and_the_one_click_headers(acme, local_delivery, mailbox):
    channel = email_channel(acme)
    delivery = send(channel)
    assert (delivery.status, delivery.attempts, delivery.error) == ("sent", 1, "")
    (mail,) = mailbox.messages()
    assert mail["rcpt_tos"] == ["owner.olivia@example.com"]
    assert mail["subject"] == "[billingdash] acme-corp: Copilot spend doubled <yesterday>"
    assert header(mail, "From") == "billingdash <alerts@billingdash.test>"
    assert header(mail, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert header(mail, "Auto-Submitted") == "auto-generated"
    assert header(mail, "X-Billingdash-Delivery") == str(delivery.delivery_id)
    path = unsubscribe_path(mail)
    assert path.startswith("/alerts/unsubscribe/") and path.endswith("/")
    text, html = mail["text"], mail["html"]
    assert "Copilot spend doubled <yesterday>" in text and "twice the daily average & more" in text
    assert "Yesterday: $40.00" in text and f"https://billingdash.test{path}" in text
    assert "Copilot spend doubled &lt;yesterday&gt;" in html
    assert "<br>twice the daily average &amp; more" in html
    assert f'href="https://billingdash.test{path}"' in html
    assert 'href="https://billingdash.test/orgs/acme-corp/?product=copilot"' in html


def test_one_click_unsubscribe_needs_no_session(acme, local_delivery, mailbox):
    channel = email_channel(acme)
    send(channel)
    path = unsubscribe_path(mailbox.messages()[0])
    # What a mail provider sends: a POST, no cookies, no CSRF token.
    provider = Client(enforce_csrf_checks=True)
    answer = provider.post(path, {"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200 and b"Unsubscribed" in answer.content
    subscription = Subscription.objects.get(channel=channel)
    assert subscription.active is False and subscription.unsubscribed_at is not None
    event = AuditEvent.objects.get(action="alerts.unsubscribe")
    assert event.actor is None and event.organization == acme.org
    # Twice is harmless; nothing more is sent or queued to that address.
    assert provider.post(path, {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert AuditEvent.objects.filter(action="alerts.unsubscribe").count() == 1
    assert services.delivery_enqueue(channel=channel, message=MESSAGE) is None
    test = services.channel_send_test(channel=channel, user=acme.people["olivia"])
    assert (test.status, test.error) == (
        "failed",
        "the recipient unsubscribed from this channel's e-mail",
    )
    assert len(mailbox.messages()) == 1


def test_the_page_asks_first_and_can_subscribe_again(acme, local_delivery, mailbox):
    channel = email_channel(acme)
    send(channel)
    path = unsubscribe_path(mailbox.messages()[0])
    visitor = Client(enforce_csrf_checks=True)
    page = visitor.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Stop alert e-mail?" in html and "o***@example.com" in html
    assert "owner.olivia" not in html
    assert Subscription.objects.get(channel=channel).active  # a GET changes nothing
    visitor.post(path, {"action": "unsubscribe"})
    again = visitor.post(path, {"action": "resubscribe"})
    assert b"Subscribed again" in again.content
    assert Subscription.objects.get(channel=channel).active
    assert send(channel).status == "sent"
    assert len(mailbox.messages()) == 2


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_forged_or_damaged_token_changes_nothing(acme, local_delivery, method):
    channel = email_channel(acme)
    token = unsubscribe_token(Subscription.objects.get(channel=channel))
    client = Client(enforce_csrf_checks=True)
    for bad in ("x", token[:-2] + "xx", token.replace(":", ":A", 1), "eyJzIjoxfQ:forged"):
        answer = getattr(client, method)(f"/alerts/unsubscribe/{bad}/")
        assert answer.status_code == 404, bad
        assert b"This unsubscribe link does not work" in answer.content
    assert Subscription.objects.get(channel=channel).active
    channel.delete()  # a deleted channel's link names nothing any more
    assert client.get(f"/alerts/unsubscribe/{token}/").status_code == 404


def test_the_mailbox_unsubscribes_as_a_mail_provider(acme, local_delivery, mailbox, live_server):
    """The demo's mailbox page has a one-click button: the mailbox itself POSTs to the
    List-Unsubscribe URL (no cookies), as Gmail or Yahoo do."""
    local_delivery.SITE_URL = live_server.url
    channel = email_channel(acme)
    send(channel)
    (mail,) = requests.get(mailbox.web_url + "/messages.json", timeout=10).json()
    assert header(mail, "List-Unsubscribe").startswith(f"<{live_server.url}/alerts/")
    page = requests.get(mailbox.web_url + "/", timeout=10).text
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in page
    answer = requests.post(f"{mailbox.web_url}/messages/{mail['id']}/unsubscribe", timeout=30)
    assert answer.status_code == 200
    assert Subscription.objects.get(channel=channel).active is False
    html = requests.get(f"{mailbox.web_url}/messages/{mail['id']}/html", timeout=10)
    assert "sandbox" in html.headers["Content-Security-Policy"]
    assert "Copilot cost $40.00" in html.text


def test_a_refused_address_fails_and_its_error_hides_the_address(acme, local_delivery, mailbox):
    channel = email_channel(acme, "reject.me@example.com")
    delivery = send(channel)
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.error.startswith("the mail server refused the address: 550 5.1.1")
    assert "reject.me" not in delivery.error and "r***@example.com" in delivery.error
    assert mailbox.messages() == []


def test_a_temporary_refusal_is_retried(acme, local_delivery, mailbox):
    channel = email_channel(acme, "tempfail@example.com")
    delivery = send(channel)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "451 4.2.0" in delivery.error and "tempfail@" not in delivery.error


def test_no_mail_server_is_retried(acme, local_delivery, mailbox, closed_port, settings):
    settings.EMAIL_PORT = closed_port
    settings.ALERTS_DELIVERY_MAX_ATTEMPTS = 1
    delivery = send(email_channel(acme))
    assert (delivery.status, delivery.error) == (
        "gave_up",
        "could not connect to the mail server: refused",
    )
