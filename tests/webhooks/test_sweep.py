"""Queueing: the broker being down never fails a delivery; the sweep queues it later."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from accounts.models import WebhookDelivery
from accounts.webhooks.handlers import sweep_stale_claims
from accounts.webhooks.tasks import sweep_webhook_deliveries

pytestmark = pytest.mark.django_db

PAYLOAD = {"action": "renamed", "organization": {"id": 1, "login": "x"}}


def queued_ids(redis_url: str, queue: str) -> list[int]:
    """The delivery pks of the task messages waiting in a Redis queue (kombu's envelope:
    JSON with a base64 body holding ``[args, kwargs, embed]``)."""
    ids = []
    for raw in redis.Redis.from_url(redis_url).lrange(queue, 0, -1):
        message = json.loads(raw)
        assert message["headers"]["task"] == "accounts.tasks.process_webhook_delivery"
        ids.append(json.loads(base64.b64decode(message["body"]))[0][0])
    return ids


def test_broker_down_still_answers_2xx_fast(
    post_webhook, broker_down, django_capture_on_commit_callbacks, caplog
):
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_webhook("organization", PAYLOAD, delivery="down-1")
    assert time.monotonic() - started < 5
    assert response.status_code == 202
    assert len(callbacks) == 1  # the enqueue ran, failed, and was caught
    assert "could not queue webhook delivery" in caplog.text
    assert WebhookDelivery.objects.get().state == WebhookDelivery.State.PENDING


def test_enqueue_goes_to_the_broker(
    post_webhook, celery_queue, redis_url, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_webhook("organization", PAYLOAD, delivery="up-1")
    assert queued_ids(redis_url, celery_queue) == [WebhookDelivery.objects.get().pk]


def test_sweep_queues_old_pending_deliveries_only(post_webhook, celery_queue, redis_url):
    for name in ("old", "young", "done"):
        post_webhook("organization", PAYLOAD, delivery=name)
    WebhookDelivery.objects.exclude(delivery_id="young").update(
        received_at=timezone.now() - timedelta(minutes=2)
    )
    WebhookDelivery.objects.filter(delivery_id="done").update(state=WebhookDelivery.State.PROCESSED)
    assert sweep_webhook_deliveries() == 1
    old = WebhookDelivery.objects.get(delivery_id="old")
    assert queued_ids(redis_url, celery_queue) == [old.pk]


def test_sweep_with_the_broker_still_down_does_nothing(post_webhook, broker_down):
    post_webhook("organization", PAYLOAD, delivery="old")
    WebhookDelivery.objects.update(received_at=timezone.now() - timedelta(minutes=2))
    assert sweep_webhook_deliveries() == 0
    assert WebhookDelivery.objects.get().state == WebhookDelivery.State.PENDING


def test_stale_claims_go_back_to_pending(post_webhook, settings):
    post_webhook("organization", PAYLOAD, delivery="stuck")
    post_webhook("organization", PAYLOAD, delivery="busy")
    limit = settings.CELERY_TASK_TIME_LIMIT + 301
    WebhookDelivery.objects.update(state=WebhookDelivery.State.PROCESSING)
    WebhookDelivery.objects.filter(delivery_id="stuck").update(
        processed_at=timezone.now() - timedelta(seconds=limit)
    )
    WebhookDelivery.objects.filter(delivery_id="busy").update(processed_at=timezone.now())
    assert sweep_stale_claims() == 1
    states = dict(WebhookDelivery.objects.values_list("delivery_id", "state"))
    assert states == {"stuck": "pending", "busy": "processing"}
