"""Fixtures for the staff admin and operations tests: a staff superuser, the simulator
with Django's GitHub settings pointed at it, orgs installed on both sides, a real worker
whose collection gives up after one attempt (so a fault fails a run at once), and a
helper that runs an admin action the way the admin's list form posts it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts.models import Organization
from tests.factories import StaffUserFactory
from tests.helpers import github_env, mirror_installed_org

STAFF_PASSWORD = "staff-password-123"
USAGE_PATH = r"/settings/billing/usage$"


@pytest.fixture
def gh(github_settings, settings):
    """The simulator (reset), this process's settings pointing at it, and no
    installation token cached from another test's simulator world."""
    cache.clear()
    settings.COLLECTION_MAX_ATTEMPTS = 1
    yield github_settings
    cache.clear()


@pytest.fixture
def celery_worker_env(simulator, sim_app, celery_queue) -> dict[str, str]:
    return github_env(
        simulator,
        sim_app,
        GITHUB_WEBHOOK_SECRET=None,
        # One attempt: a run hit by a fault fails at once (no backoff to wait out).
        COLLECTION_MAX_ATTEMPTS="1",
        COLLECTION_RETRY_BASE_SECONDS="1",
        COLLECTION_LEASE_SECONDS="6",
        # An installation that becomes readable backfills this many months.
        BACKFILL_MONTHS="2",
        CELERY_TASK_DEFAULT_QUEUE=celery_queue,
    )


@pytest.fixture
def staff_user(db):
    return StaffUserFactory(username="ops-admin")


@pytest.fixture
def staff_client(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def installed_org(gh) -> Callable[..., Organization]:
    """installed_org("acme-ops", repos=2) creates the org in the simulator, installs the
    App there, and mirrors both here (what the installation webhook would have done)."""

    def make(login: str, **options: Any) -> Organization:
        options.setdefault("repos", 2)
        options.setdefault("skus_per_repo", 2)
        return mirror_installed_org(gh, login, **options)

    return make


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def run_action(client: Client, model, action: str, objects, **extra: Any):
    """POST an admin action as the list's action form does (``index`` 0)."""
    data = {"action": action, "index": 0, "_selected_action": [o.pk for o in objects], **extra}
    return client.post(changelist(model), data)


def messages_of(response) -> list[str]:
    """The messages this request added (not older ones still waiting to be shown)."""
    return [str(m) for m in response.wsgi_request._messages._queued_messages]
