"""Fixtures for the collection tests: the simulator over real HTTP, Django's GitHub settings
pointed at it, orgs installed on both sides, real Celery worker processes (the shared
`celery_worker` fixture, and `workers` for tests that kill and restart them)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings as django_settings

from accounts.models import Installation, Organization
from tests import clock
from tests.conftest import _database_url
from tests.helpers import apply_env, github_env, mirror_installed_org, wait_for
from usage import periods
from usage.models import CollectionRun

try:
    from ghsim.config import SimConfig
    from ghsim.testing import SimulatorServer
except ImportError as exc:  # pragma: no cover - the simulator is a dev dependency
    SimConfig = SimulatorServer = None  # type: ignore[assignment,misc]
    SIM_IMPORT_ERROR: Exception | None = exc
else:
    SIM_IMPORT_ERROR = None

TERMINAL = (CollectionRun.State.SUCCEEDED, CollectionRun.State.FAILED, CollectionRun.State.SKIPPED)


@pytest.fixture(scope="session")
def sim_app():
    if SIM_IMPORT_ERROR is not None:
        pytest.fail(f"ghsim is not importable: {SIM_IMPORT_ERROR}")
    return SimConfig.generate()


@pytest.fixture(scope="session")
def simulator(sim_app):
    config, _ = sim_app
    with SimulatorServer(config) as sim:
        yield sim


def _github_env(sim, sim_app) -> dict[str, str]:
    """The worker's (and this process's) settings: no OAuth App, no webhook secret."""
    return github_env(
        sim,
        sim_app,
        GITHUB_WEBHOOK_SECRET=None,
        GITHUB_OAUTH_CLIENT_ID=None,
        GITHUB_OAUTH_CLIENT_SECRET=None,
        GITHUB_HTTP_MAX_ATTEMPTS="3",
        # Task-level retries and leases short enough for a test.
        COLLECTION_RETRY_BASE_SECONDS="1",
        COLLECTION_LEASE_SECONDS="6",
    )


@pytest.fixture
def gh(simulator, sim_app, settings):
    """The simulator, reset, with this process's settings pointing at it (and no
    installation token cached from an earlier test's simulator world)."""
    from django.core.cache import cache

    simulator.control.reset()
    cache.clear()
    apply_env(settings, _github_env(simulator, sim_app))
    yield simulator
    simulator.control.reset()


@pytest.fixture
def celery_worker_env(simulator, sim_app, celery_queue) -> dict[str, str]:
    # The worker's own re-queues (rate limits, backoff) must land on this test's queue.
    return {**_github_env(simulator, sim_app), "CELERY_TASK_DEFAULT_QUEUE": celery_queue}


@pytest.fixture
def installed_org(gh) -> Callable[..., Organization]:
    """installed_org("Big-Org", repos=3) creates the org in the simulator, installs the App
    there, and mirrors both in our database (what the webhook would have done)."""

    def make(login: str, **options: Any) -> Organization:
        return mirror_installed_org(gh, login, **options)

    return make


def runs_settled(org: Organization, count: int | None = None) -> bool:
    runs = CollectionRun.objects.filter(organization=org)
    if count is not None and runs.count() < count:
        return False
    return not runs.exclude(state__in=TERMINAL).exists()


def wait_settled(org: Organization, count: int | None = None, timeout: float = 120) -> None:
    wait_for(lambda: runs_settled(org, count), timeout=timeout, what=f"runs of {org} to finish")


def usage_calls(sim, org_login: str, since: int = 0) -> list[dict[str, Any]]:
    """Requests the simulator saw for the org's usage report."""
    path = f"/organizations/{org_login.lower()}/settings/billing/usage"
    return [r for r in sim.control.requests_log(since) if (r["api_path"] or "").lower() == path]


def sim_month_totals(sim, login: str, period: date, group_by: str = "day") -> dict[str, Any]:
    """The simulator's own sums for a month (its `end` is inclusive)."""
    last = periods.add_months(period, 1) - timedelta(days=1)
    return sim.control.totals(login, period.isoformat(), last.isoformat(), group_by)


def dec(value: str | int) -> Decimal:
    return Decimal(str(value))


class Workers:
    """Start, kill and stop real ``celery worker`` processes on this test's queue."""

    def __init__(self, queue: str, env: dict[str, str], tmp_path) -> None:
        self.queue, self.env, self.tmp_path = queue, env, tmp_path
        self.procs: list[tuple[subprocess.Popen, Any]] = []

    def start(self, *, pool: str = "solo", concurrency: int = 1, **env: str):
        from billingdash.celery import app

        n = len(self.procs)
        log_path = self.tmp_path / f"worker-{n}.log"
        log_file = log_path.open("w")
        full_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "billingdash.settings",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": app.conf.broker_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "LOG_LEVEL": "INFO",
            **self.env,
            **env,
        }
        cmd = [
            *clock.command("celery", "-A", "billingdash", "worker"),
            *("-Q", self.queue, "-n", f"w{n}-{self.queue}@%h", "-P", pool),
            *("-c", str(concurrency), "-l", "INFO"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
        ]
        proc = subprocess.Popen(
            cmd,
            env=full_env,
            cwd=django_settings.BASE_DIR,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() takes the children too
        )
        self.procs.append((proc, log_path))
        wait_for(
            lambda: " ready." in log_path.read_text() or proc.poll() is not None,
            timeout=60,
            what="the worker to start",
        )
        assert proc.poll() is None, log_path.read_text()[-4000:]
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL the worker and its pool processes: no shutdown, no ack, no cleanup."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for _, p in self.procs)

    def stop_all(self) -> None:
        for proc, _ in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=15)
                except (subprocess.TimeoutExpired, ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


@pytest.fixture
def workers(transactional_db, celery_queue, celery_worker_env, tmp_path) -> Iterator[Workers]:
    pool = Workers(celery_queue, celery_worker_env, tmp_path)
    try:
        yield pool
    finally:
        pool.stop_all()


def installation_of(org: Organization) -> Installation:
    return Installation.objects.get(organization=org)


# --- GitHub's dialects, and collection in this process -------------------------------------

#: The simulator's dialects (ghsim/dialects.py) and the status each answers an org
#: without the enhanced billing platform: the REST description documents 400, the real
#: API answers 404.
DIALECTS = {"documented": 400, "observed": 404}


@pytest.fixture
def gh_in_process(gh, settings):
    """`gh`, for tests that collect in this process inside the test's transaction: a
    lease that needs no renewal by the keeper's thread (which cannot see the uncommitted
    lock row)."""
    settings.COLLECTION_LEASE_SECONDS = 600
    return gh


def not_enhanced_org(sim, login: str, dialect: str) -> Organization:
    """An org without the enhanced billing platform, the App installed, in `dialect`."""
    return mirror_installed_org(sim, login, repos=2, enhanced_billing=False, dialect=dialect)
