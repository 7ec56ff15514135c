"""Fixtures for the webhook tests: signing, posting, processing, and a broker that is
down."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from accounts.models import WebhookDelivery
from accounts.webhooks.handlers import webhook_delivery_process
from ghsim.reference import EXAMPLES
from tests.helpers import celery_broker, free_port

SECRET = "test-webhook-secret"


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text())


@pytest.fixture
def webhook_settings(settings):
    settings.GITHUB_WEBHOOK_SECRET = SECRET
    # No App credentials and an API nobody answers: a handler that asks GitHub falls
    # back to the payload at once instead of reaching the real api.github.com.
    settings.GITHUB_API_URL = f"http://127.0.0.1:{free_port()}"
    settings.GITHUB_APP_PRIVATE_KEY = ""
    settings.GITHUB_HTTP_MAX_ATTEMPTS = 1
    return settings


@pytest.fixture
def post_webhook(client: Client, webhook_settings) -> Callable[..., Any]:
    """post_webhook(event, payload) signs and posts like GitHub; returns the response."""

    def post(
        event: str,
        payload: Any = None,
        *,
        body: bytes | None = None,
        delivery: str | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        raw = body if body is not None else json.dumps(payload).encode()
        extra = {
            "HTTP_X_GITHUB_EVENT": event,
            "HTTP_X_GITHUB_DELIVERY": delivery or str(uuid.uuid4()),
            "HTTP_X_HUB_SIGNATURE_256": signature if signature is not None else sign(raw),
            "HTTP_USER_AGENT": "GitHub-Hookshot/test",
        }
        if signature == "":
            del extra["HTTP_X_HUB_SIGNATURE_256"]
        extra.update(headers or {})
        return client.post("/github/webhook/", data=raw, content_type="application/json", **extra)

    return post


@pytest.fixture
def deliver(post_webhook, django_capture_on_commit_callbacks):
    """deliver(event, payload) -> the processed WebhookDelivery (the on-commit signal
    runs; the Celery enqueue is skipped: processing is called here directly)."""

    def run(event: str, payload: dict) -> WebhookDelivery:
        response = post_webhook(event, payload)
        assert response.status_code in (200, 202), response.content
        delivery = WebhookDelivery.objects.get(delivery_id=response.json()["delivery"])
        with django_capture_on_commit_callbacks(execute=True):
            webhook_delivery_process(delivery_pk=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.state != WebhookDelivery.State.FAILED, delivery.error
        return delivery

    return run


@pytest.fixture
def broker_down() -> Iterator[str]:
    """The broker is a closed port: every publish fails at once."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    with celery_broker(url):
        yield url


@pytest.fixture(autouse=True)
def _own_celery_queue(celery_queue: str) -> str:
    """Tasks published here (webhook processing; the usage app's backfill, queued by its
    installation_ready receiver) go to this test's own queue, never to a shared one."""
    return celery_queue
