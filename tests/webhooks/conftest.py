"""Fixtures for the webhook tests: signing, posting, processing, and a broker that is
down."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import socket
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from accounts.models import WebhookDelivery
from accounts.webhook_handlers import webhook_delivery_process
from billingdash.celery import app as celery_app
from tests.shared import EXAMPLES

SECRET = "test-webhook-secret"


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text())


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def _reset_broker_pools() -> None:
    # Celery caches the broker connection pool (kombu's global pool for that URL) and
    # the producer pool on first use; forget both (as Celery does after a fork) so a
    # changed broker_url takes effect. The pools themselves stay usable for later.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextlib.contextmanager
def broker_url(url: str) -> Iterator[None]:
    """Point this process's Celery app at another broker for the duration."""
    saved = celery_app.conf.broker_url
    celery_app.conf.broker_url = url
    _reset_broker_pools()
    try:
        yield
    finally:
        celery_app.conf.broker_url = saved
        _reset_broker_pools()


@pytest.fixture
def broker_down() -> Iterator[str]:
    """The broker is a closed port: every publish fails at once."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    with broker_url(url):
        yield url


@pytest.fixture(autouse=True)
def _own_celery_queue(celery_queue: str) -> str:
    """Tasks published here (webhook processing; the usage app's backfill, queued by its
    installation_ready receiver) go to this test's own queue, never to a shared one."""
    return celery_queue
