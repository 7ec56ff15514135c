"""Missed webhooks are recovered from the App's delivery log (issue 14, missing piece 7):
billingdash is down, the simulator's deliveries fail; once it is back, the scheduled
recovery asks GitHub to redeliver them (``POST /app/hook/deliveries/{id}/attempts``), a
real worker processes each once, and a second run has nothing to do. Bounded by a window,
a number per run and a number of attempts per delivery."""

from __future__ import annotations

import time

import pytest
from django.conf import settings as django_settings

from accounts.installations.services import installations_reconcile
from accounts.models import Installation, Organization, WebhookDelivery
from accounts.webhooks.tasks import recover_webhook_deliveries
from tests.webhooks.test_live import (  # noqa: F401 (fixtures)
    ACME_INSTALLATION,
    GLOBEX,
    celery_worker_env,
    github_sim,
    hook_app,
    hook_sim,
    settled,
    wait_until,
)

pytestmark = pytest.mark.integration


def down(sim, port: int) -> None:
    """billingdash is down: GitHub's deliveries cannot connect."""
    sim.control.set_webhook_url(f"http://127.0.0.1:{port}/github/webhook/")


def failed_guids(sim) -> set[str]:
    sim.control.wait_for_deliveries()
    return {d["guid"] for d in sim.control.deliveries() if d["status_code"] != 200}


def test_the_recovery_runs_on_beats_schedule():
    entry = django_settings.CELERY_BEAT_SCHEDULE["accounts-recover-webhook-deliveries"]
    assert entry["task"] == "accounts.tasks.recover_webhook_deliveries"
    assert entry["schedule"] <= 15 * 60


def test_deliveries_missed_while_down_are_redelivered_and_processed_once(
    github_sim,  # noqa: F811 (the fixture imported above)
    live_server,
    celery_worker,
    closed_port,
):
    installations_reconcile()  # acme-corp, as billingdash knew it before going down
    down(github_sim, closed_port)
    github_sim.control.install("globex")
    github_sim.control.rename_org("acme-corp", "acme-inc")
    missed = failed_guids(github_sim)  # installation.created; organization and
    assert len(missed) == 3 and not WebhookDelivery.objects.exists()  # installation_target renamed

    github_sim.control.set_webhook_url(live_server.url + "/github/webhook/")  # back up
    assert recover_webhook_deliveries() == {
        "scanned": 3,
        "missed": 3,
        "redelivered": 3,
        "gave_up": 0,
    }
    github_sim.control.wait_for_deliveries()
    wait_until(lambda: WebhookDelivery.objects.count() == 3 and settled(), "redelivered")
    stored = {d.delivery_id: d for d in WebhookDelivery.objects.all()}
    assert set(stored) == missed
    assert {(d.state, d.attempts, d.redeliveries) for d in stored.values()} == {
        (WebhookDelivery.State.PROCESSED, 1, 0)
    }
    assert Installation.objects.get(organization__github_id=GLOBEX).state == "active"
    assert Organization.objects.filter(login="acme-inc").exists()

    # The schedule runs again: the log now shows them delivered; nothing is asked twice.
    result = recover_webhook_deliveries()
    assert (result["missed"], result["redelivered"]) == (0, 0)
    github_sim.control.wait_for_deliveries()
    assert WebhookDelivery.objects.filter(redeliveries__gt=0).count() == 0


def test_each_run_is_bounded(github_sim, closed_port, settings, db):  # noqa: F811
    settings.WEBHOOK_RECOVERY_MAX_PER_RUN = 1
    settings.WEBHOOK_RECOVERY_MAX_ATTEMPTS = 2
    down(github_sim, closed_port)
    github_sim.control.install("globex")
    github_sim.control.suspend(ACME_INSTALLATION)
    assert len(failed_guids(github_sim)) == 2
    # Still down: one redelivery per run, each failing again.
    first = recover_webhook_deliveries()
    assert (first["missed"], first["redelivered"]) == (2, 1)
    github_sim.control.wait_for_deliveries()
    second = recover_webhook_deliveries()
    assert (second["redelivered"], second["gave_up"]) == (1, 1)  # the other one; one gave up
    github_sim.control.wait_for_deliveries()
    third = recover_webhook_deliveries()
    assert (third["redelivered"], third["gave_up"]) == (0, 2)  # both tried twice: left alone
    # Outside the window: not even looked at.
    settings.WEBHOOK_RECOVERY_WINDOW_SECONDS = 1
    time.sleep(1.5)
    assert recover_webhook_deliveries() == {
        "scanned": 1,
        "missed": 0,
        "redelivered": 0,
        "gave_up": 0,
    }
