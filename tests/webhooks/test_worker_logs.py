"""Tokens are masked in what Celery processes write: a real worker logs a traceback that
holds a token, and neither its log file nor the stored `WebhookDelivery.error` shows it
(issue 14, finding 3: Celery replaces the root logger's handlers, which dropped
billingdash.logging's redaction filter)."""

from __future__ import annotations

import time

import pytest

from accounts.models import WebhookDelivery
from accounts.webhooks.tasks import enqueue_delivery
from tests.factories import WebhookDeliveryFactory

pytestmark = pytest.mark.integration

TOKEN = "ghs_" + "Zq7Xw9Vb3Nm1" * 3


def test_a_token_in_a_traceback_is_masked_in_the_worker_log_and_the_delivery(celery_worker):
    # GitHub would never send this: an installation id that is a token. The handler's
    # int() fails with a message that quotes it, inside a logged traceback.
    delivery = WebhookDeliveryFactory(
        event="installation",
        action="deleted",
        payload={"action": "deleted", "installation": {"id": TOKEN}},
    )
    assert enqueue_delivery(delivery.pk)
    deadline = time.monotonic() + 30
    while not WebhookDelivery.objects.filter(pk=delivery.pk).exclude(error="").exists():
        if time.monotonic() > deadline:
            pytest.fail(f"the worker did not process the delivery:\n{celery_worker.log()[-3000:]}")
        time.sleep(0.1)
    delivery.refresh_from_db()
    assert delivery.error.startswith("ValueError: invalid literal for int()"), delivery.error
    assert TOKEN not in delivery.error and "***" in delivery.error
    deadline = time.monotonic() + 10
    while "Traceback" not in celery_worker.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = celery_worker.log()
    assert "failed, attempt 1" in log and "Traceback" in log, log[-3000:]
    assert "invalid literal for int()" in log
    assert TOKEN not in log, log[-3000:]


def test_beats_logging_setup_masks_tokens_too():
    """Beat sets its logging up as the worker does (``app.log.setup``): in a process of
    its own, a token logged after that set-up is masked."""
    import subprocess
    import sys

    from django.conf import settings

    code = (
        "import logging, django; from billingdash.celery import app; django.setup(); "
        "app.log.setup(loglevel='INFO', redirect_stdouts=False); "
        f"logging.getLogger('celery.beat').warning('sending with {TOKEN}')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert "sending with ***" in output, output[-2000:]
    assert TOKEN not in output
