"""Fixtures for the staff admin and operations tests: a staff superuser, the simulator
with Django's GitHub settings pointed at it, orgs installed on both sides, a real worker
whose collection gives up after one attempt (so a fault fails a run at once), and a
helper that runs an admin action the way the admin's list form posts it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts.models import Organization
from tests.factories import InstallationFactory, OrganizationFactory, StaffUserFactory

STAFF_PASSWORD = "staff-password-123"
USAGE_PATH = r"/settings/billing/usage$"


def _github_env(sim, sim_app) -> dict[str, str]:
    config, private_pem = sim_app
    return {
        "GITHUB_WEB_URL": sim.web_url,
        "GITHUB_API_URL": sim.api_url,
        "GITHUB_APP_ID": str(config.app_id),
        "GITHUB_APP_SLUG": config.app_slug,
        "GITHUB_APP_CLIENT_ID": config.app_client_id,
        "GITHUB_APP_CLIENT_SECRET": config.app_client_secret,
        "GITHUB_APP_PRIVATE_KEY": private_pem,
        "GITHUB_OAUTH_CLIENT_ID": config.oauth_client_id,
        "GITHUB_OAUTH_CLIENT_SECRET": config.oauth_client_secret,
        "GITHUB_HTTP_CONNECT_TIMEOUT": "2",
        "GITHUB_HTTP_READ_TIMEOUT": "10",
        "GITHUB_HTTP_MAX_ATTEMPTS": "2",
        "GITHUB_HTTP_BACKOFF_SECONDS": "0.01",
        # One attempt: a run hit by a fault fails at once (no backoff to wait out).
        "COLLECTION_MAX_ATTEMPTS": "1",
        "COLLECTION_RETRY_BASE_SECONDS": "1",
        "COLLECTION_LEASE_SECONDS": "6",
        # An installation that becomes readable backfills this many months.
        "BACKFILL_MONTHS": "2",
    }


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
    return {**_github_env(simulator, sim_app), "CELERY_TASK_DEFAULT_QUEUE": celery_queue}


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
        info = gh.control.create_org(login, **options)
        inst = gh.control.install(login)
        org = OrganizationFactory(github_id=info["id"], login=info["login"])
        InstallationFactory(
            organization=org,
            installation_id=inst["id"],
            account_id=info["id"],
            account_login=info["login"],
            permissions=inst["permissions"],
        )
        return org

    return make


def wait_for(predicate: Callable[[], Any], *, timeout: float = 60, what: str = "") -> Any:
    """Poll until `predicate()` is truthy (waiting for the worker, not a timing check)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.1)


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def run_action(client: Client, model, action: str, objects, **extra: Any):
    """POST an admin action as the list's action form does (``index`` 0)."""
    data = {"action": action, "index": 0, "_selected_action": [o.pk for o in objects], **extra}
    return client.post(changelist(model), data)


def messages_of(response) -> list[str]:
    """The messages this request added (not older ones still waiting to be shown)."""
    return [str(m) for m in response.wsgi_request._messages._queued_messages]
