"""A real Celery worker process delivers: `alerts.deliver` sent on commit by
`delivery_enqueue`, retried by the worker itself (countdown) after a 503, an e-mail to the
real SMTP mailbox; the beat sweep re-sends a delivery whose message was lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts import services
from alerts.delivery import deliveries_sweep
from alerts.messages import Message
from alerts.models import Delivery
from tests.helpers import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

MESSAGE = Message(
    event="data.stopped",
    organization="acme-corp",
    title="No usage data for 2 days",
    text="GitHub has not reported usage for acme-corp since the day before yesterday.",
)


@pytest.fixture
def celery_worker_env(mailbox_server) -> dict[str, str]:
    return {
        "ALERTS_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8,::1/128",
        "ALERTS_ALLOW_HTTP": "true",
        "ALERTS_RETRY_BASE_SECONDS": "0.2",
        "ALERTS_RETRY_MAX_SECONDS": "1",
        "ALERTS_DELIVERY_MAX_ATTEMPTS": "3",
        "EMAIL_URL": f"smtp://127.0.0.1:{mailbox_server.smtp_port}",
        "DEFAULT_FROM_EMAIL": "billingdash <alerts@billingdash.test>",
        "SITE_URL": "https://billingdash.test",
    }


def final(delivery: Delivery) -> Delivery:
    def done():
        delivery.refresh_from_db()
        return delivery.status in Delivery.FINAL

    wait_for(done, timeout=60, what=f"delivery {delivery.pk} to finish")
    return delivery


def test_a_worker_delivers_retries_and_mails(
    acme, local_delivery, receiver, mailbox, celery_worker
):
    olivia = acme.people["olivia"]
    slack, _ = services.channel_create(
        organization=acme.org, user=olivia, kind="slack", destination=receiver.url + "/w/slack"
    )
    email, _ = services.channel_create(
        organization=acme.org, user=olivia, kind="email", destination="ops@example.com"
    )
    receiver.script("/w/slack", {"status": 503})
    to_slack = services.delivery_enqueue(channel=slack, message=MESSAGE)
    to_email = services.delivery_enqueue(channel=email, message=MESSAGE)
    assert (final(to_slack).status, to_slack.attempts) == ("sent", 2), celery_worker.log()[-3000:]
    assert [m["status"] for m in receiver.messages()] == [503, 200]
    assert (final(to_email).status, to_email.attempts) == ("sent", 1), celery_worker.log()[-3000:]
    (mail,) = mailbox.messages()
    assert mail["rcpt_tos"] == ["ops@example.com"] and mail["html"] and mail["text"]
    assert "alerts.deliver" in celery_worker.log()


def test_the_sweep_sends_a_delivery_whose_message_was_lost(
    acme, local_delivery, receiver, celery_worker
):
    channel, _ = services.channel_create(
        organization=acme.org,
        user=acme.people["bill"],
        kind="teams",
        destination=receiver.url + "/w/teams",
    )
    # As if the broker had been down when it was queued: a row, no message.
    lost = Delivery.objects.create(
        channel=channel,
        event=MESSAGE.event,
        summary=MESSAGE.title,
        message=MESSAGE.as_json(),
        max_attempts=3,
        next_attempt_at=timezone.now() - timedelta(minutes=5),
    )
    assert deliveries_sweep() == 1
    assert final(lost).status == "sent"
    assert [m["kind"] for m in receiver.messages()] == ["teams"]
