"""Queueing without a worker: refresh cool-down, broker down, backfill on the
installation_ready signal, the beat's entries, the Celery options that make redelivery
safe."""

from __future__ import annotations

import contextlib
import socket
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import Installation, Organization
from accounts.signals import installation_ready
from billingdash.celery import app as celery_app
from tests.factories import InstallationFactory, OrganizationFactory
from usage import periods
from usage.collection.selectors import org_collection_progress
from usage.collection.services import (
    QueueUnavailable,
    RefreshCoolingDown,
    org_backfill_start,
    org_refresh_request,
    schedule_previous_month,
)
from usage.models import CollectionRun, OrgCollectionState

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.dates]


@pytest.fixture(autouse=True)
def _own_queue(celery_queue):
    return celery_queue


@pytest.fixture
def org():
    return InstallationFactory().organization


def test_refresh_has_a_cool_down(org, settings):
    settings.REFRESH_COOLDOWN_SECONDS = 300
    run = org_refresh_request(organization=org)
    assert run.trigger == "manual" and run.period == periods.current_month()
    with pytest.raises(RefreshCoolingDown) as exc:
        org_refresh_request(organization=org)
    assert 290 <= exc.value.seconds_left <= 300
    # Once the cool-down has passed, a new request is accepted (the month is already
    # queued, so that run is returned rather than a second one).
    OrgCollectionState.objects.filter(organization=org).update(
        refresh_requested_at=timezone.now() - timedelta(seconds=301)
    )
    assert org_refresh_request(organization=org) == run
    assert CollectionRun.objects.filter(organization=org).count() == 1


def test_refresh_of_an_org_that_cannot_be_collected_is_none():
    paused = InstallationFactory(organization__collection_paused=True).organization
    bare = OrganizationFactory()
    unreadable = InstallationFactory(permissions={"members": "read"}).organization
    for organization in (paused, bare, unreadable):
        assert org_refresh_request(organization=organization) is None
    assert not CollectionRun.objects.exists()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def broker_down():
    saved = celery_app.conf.broker_url
    celery_app.conf.broker_url = f"redis://127.0.0.1:{_closed_port()}/0"
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    try:
        yield
    finally:
        celery_app.conf.broker_url = saved
        celery_app._pool = None
        celery_app.amqp._producer_pool = None


def test_refresh_says_when_the_queue_is_unavailable(org):
    with broker_down(), pytest.raises(QueueUnavailable):
        org_refresh_request(organization=org)
    # Nothing was claimed: once the broker is back the refresh goes through.
    assert org_refresh_request(organization=org) is not None


def test_installation_ready_starts_the_backfill(settings):
    settings.BACKFILL_MONTHS = 24
    installation = InstallationFactory()
    installation_ready.send(sender=Installation, installation=installation, reason="created")
    runs = CollectionRun.objects.filter(organization=installation.organization)
    assert sorted(runs.values_list("period", flat=True), reverse=True) == periods.last_months(24)
    assert set(runs.values_list("trigger", flat=True)) == {"backfill"}
    progress = org_collection_progress(organization=installation.organization)
    assert progress["months_total"] == 24 and progress["months_done"] == 0
    assert progress["running"]
    # Sent again (reconciliation): nothing is queued twice.
    installation_ready.send(sender=Installation, installation=installation, reason="reconciled")
    assert runs.count() == 24


def test_backfill_skips_months_that_are_already_final(org, settings):
    settings.BACKFILL_MONTHS = 4
    old = periods.add_months(periods.current_month(), -3)
    done = CollectionRun.objects.create(organization=org, period=old, trigger="backfill")
    CollectionRun.objects.filter(pk=done.pk).update(state="succeeded", finished_at=timezone.now())
    runs = org_backfill_start(organization=org)
    assert [r.period for r in runs] == periods.last_months(3)
    progress = org_collection_progress(organization=org)
    assert (progress["months_total"], progress["months_done"]) == (4, 1)


def test_previous_month_only_until_the_tenth(org):
    queued = schedule_previous_month()
    expected = 1 if periods.today().day <= 10 else 0
    assert queued == expected
    legacy = InstallationFactory(
        organization__billing_platform=Organization.BillingPlatform.UNAVAILABLE
    ).organization
    assert schedule_previous_month() == 1  # the legacy org's current month, daily
    assert CollectionRun.objects.get(organization=legacy).period == periods.current_month()


def test_beat_schedule_and_at_least_once_options():
    # What a worker does at start: import the apps' tasks modules (autodiscovery).
    celery_app.loader.import_default_modules()
    beat = settings.CELERY_BEAT_SCHEDULE
    for name in ("schedule_current_month", "schedule_previous_month", "sweep_stale_runs"):
        task = f"usage.tasks.{name}"
        assert any(entry["task"] == task for entry in beat.values())
        assert task in celery_app.tasks
    conf = celery_app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_time_limit and conf.task_soft_time_limit < conf.task_time_limit
    assert conf.accept_content == ["json"] and conf.task_serializer == "json"
    visibility = conf.broker_transport_options["visibility_timeout"]
    assert visibility > conf.task_time_limit + settings.CELERY_MAX_COUNTDOWN_SECONDS
    assert conf.task_soft_time_limit > settings.COLLECTION_TASK_BUDGET_SECONDS
    assert settings.COLLECTION_RETRY_BASE_SECONDS * 2**4 <= settings.CELERY_MAX_COUNTDOWN_SECONDS
