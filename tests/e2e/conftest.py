"""The real stack for the browser journeys: pytest-django's ``live_server`` (a real
threaded HTTP server on the per-run PostgreSQL test database), a real Celery worker
process on Redis (``celery_worker``), and a GitHub simulator of this suite's own whose
App Setup URL, OAuth callback and webhook URL all point at the live server.

The journeys use a small organization of their own, ``pied-piper`` (4 repositories x
2 SKUs, 2 budgets, 3 Copilot seats; olivia owner, bill billing manager, mia member), and
collect ``BACKFILL_MONTHS = 3`` months after an install, so one journey takes seconds.
Browser tabs come from `tests.browser` (``tabs``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from accounts.models import WebhookDelivery
from tests.helpers import allow_github_origin, apply_env, github_env

try:
    from ghsim.config import SimConfig
    from ghsim.testing import SimulatorServer
except ImportError as exc:  # pragma: no cover - the simulator ships with the repository
    pytest.fail(f"ghsim is not importable: {exc}", pytrace=False)

ORG = "pied-piper"
BACKFILL_MONTHS = 3
ORG_OPTIONS = {
    "name": "Pied Piper",
    "repos": 4,
    "skus_per_repo": 2,
    "budgets": 2,
    "copilot_seats": 3,
    "created_months_ago": 12,
    "members": {"olivia": "admin", "bill": "billing_manager", "mia": "member"},
}


@pytest.fixture(scope="session")
def e2e_app(live_server) -> tuple[SimConfig, str]:
    """The simulated GitHub App and OAuth App; GitHub sends people back to, and its
    webhooks to, this run's live server."""
    return SimConfig.generate(
        setup_url=live_server.url + "/github/setup/",
        webhook_url=live_server.url + "/github/webhook/",
        callback_urls=[live_server.url + "/complete/"],
    )


@pytest.fixture(scope="session")
def e2e_sim(e2e_app) -> Iterator[SimulatorServer]:
    config, _ = e2e_app
    with SimulatorServer(config) as sim:
        yield sim


def stack_env(sim: SimulatorServer, app: tuple[SimConfig, str]) -> dict[str, str]:
    """The GITHUB_* settings (and the backfill length) of the web server and worker."""
    return github_env(
        sim,
        app,
        GITHUB_SIGNIN_CLIENT="oauth",
        BACKFILL_MONTHS=str(BACKFILL_MONTHS),
        COLLECTION_RETRY_BASE_SECONDS="1",
    )


@pytest.fixture
def e2e(e2e_sim, e2e_app, settings, transactional_db) -> Iterator[SimulatorServer]:
    """The simulator reset to the demo world plus ``pied-piper`` (App not installed),
    with the live server's settings pointing at it and sign-in through the classic
    OAuth App (what `make demo` uses)."""
    e2e_sim.control.reset()
    e2e_sim.control.create_org(ORG, **ORG_OPTIONS)
    cache.clear()  # installation tokens of an earlier world
    apply_env(settings, stack_env(e2e_sim, e2e_app))
    allow_github_origin(settings, e2e_sim.web_url)
    yield e2e_sim
    # Nothing may reach this run's live server after the test (a later test's data).
    e2e_sim.control.wait_for_deliveries()
    e2e_sim.control.reset()


@pytest.fixture(autouse=True)
def _own_celery_queue(celery_queue: str) -> str:
    """What the live server publishes (the backfill, webhook processing) goes to a queue
    of this test's own, which its worker consumes."""
    return celery_queue


@pytest.fixture
def celery_worker_env(e2e_sim, e2e_app, celery_queue) -> dict[str, str]:
    return {**stack_env(e2e_sim, e2e_app), "CELERY_TASK_DEFAULT_QUEUE": celery_queue}


def deliveries_settled() -> bool:
    return not WebhookDelivery.objects.filter(
        state__in=[WebhookDelivery.State.PENDING, WebhookDelivery.State.PROCESSING]
    ).exists()
