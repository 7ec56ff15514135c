"""Shared fixtures. Services are real: PostgreSQL and Redis from DATABASE_URL/REDIS_URL.

Under CI=true a test that needs a missing service fails; elsewhere it is skipped with
a message that says what to start.
"""

import os

import pytest
import redis
from django.conf import settings
from hypothesis import settings as hypothesis_settings

from tests import clock

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_configure(config) -> None:
    # TEST_TODAY moves this run's wall clock before anything reads it (tests/clock.py).
    clock.start()


# Property tests explore new inputs on every developer run; CI replays a fixed sequence,
# so a CI failure is reproducible and a green CI run cannot turn red by luck.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.load_profile("ci" if IN_CI else "default")


def require_service(ok: bool, what: str) -> None:
    """Fail under CI, skip elsewhere, when a service the test needs is missing."""
    if ok:
        return
    if IN_CI:
        pytest.fail(f"{what} is not available (CI=true: a missing service is a failure)")
    pytest.skip(f"{what} is not available")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix) -> None:
    """A test database of this run alone (`test_<name>_<pid>`), so that two runs on one
    machine (a developer's and CI's, or several engineers') never drop each other's."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.sqlite3":
        base = db.get("TEST", {}).get("NAME") or f"test_{db['NAME']}"
        db.setdefault("TEST", {})["NAME"] = f"{base}_{os.getpid()}"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """Before the test database is dropped, end the connections that live servers and
    worker processes may have left open: PostgreSQL refuses to drop a database in use,
    which would leave it behind on the machine."""
    yield
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        return
    import psycopg
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        conn.close()
    try:
        with psycopg.connect(
            host=db.get("HOST") or "127.0.0.1",
            port=db.get("PORT") or 5432,
            user=db.get("USER") or None,
            password=db.get("PASSWORD") or None,
            dbname="postgres",
            autocommit=True,
            connect_timeout=5,
        ) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [db["NAME"]],
            )
    except psycopg.Error:
        pass


@pytest.fixture(autouse=True)
def _clear_view_cache():
    """The dashboard's in-process view cache (usage.reporting.cache) is keyed by data
    version, which a rolled-back test resets: start every test without it."""
    from usage.reporting.cache import clear_local

    clear_local()


@pytest.fixture(autouse=True)
def _export_files(settings, tmp_path):
    """CSV exports kept as files (usage.web.export_files) go to this test's own folder."""
    settings.EXPORT_CACHE_DIR = tmp_path / "exports"


@pytest.fixture(autouse=True)
def _clear_database_cache(request, django_db_blocker):
    """The cache lives in a database table that is not a model, so transactional tests
    (which flush models, not that table) would leak cached installation tokens into the
    next test. Clear it after every test that committed anything."""
    yield
    if {"transactional_db", "live_server", "celery_worker"} & set(request.fixturenames):
        from django.core.cache import cache

        with django_db_blocker.unblock():
            cache.clear()


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = settings.REDIS_URL
    try:
        ok = bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        ok = False
    require_service(ok, f"Redis at {url}")
    return url


# --- Celery: a queue of one's own, and a real worker process ------------------------------


@pytest.fixture
def celery_queue(redis_url: str):
    """A Celery queue of this test alone: tasks this process publishes go there (not to
    the shared default queue another run's worker may be consuming). Deleted afterwards."""
    import uuid

    from billingdash.celery import app

    name = f"test-{os.getpid()}-{uuid.uuid4().hex[:10]}"
    saved = app.conf.task_default_queue
    app.conf.task_default_queue = name
    try:
        yield name
    finally:
        app.conf.task_default_queue = saved
        redis.Redis.from_url(redis_url).delete(name, f"_kombu.binding.{name}")


@pytest.fixture
def celery_worker_env() -> dict[str, str]:
    """Extra environment for the `celery_worker` process (e.g. the simulator's
    GITHUB_* values). Override this fixture in a test module or conftest."""
    return {}


class CeleryWorkerProcess:
    def __init__(self, process, queue: str, log_path) -> None:
        self.process, self.queue, self.log_path = process, queue, log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _database_url() -> str:
    from urllib.parse import quote

    db = settings.DATABASES["default"]
    auth = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    return f"postgres://{auth}@{host}/{quote(db['NAME'], safe='')}"


@pytest.fixture
def celery_worker(transactional_db, celery_queue, celery_worker_env, tmp_path):
    """A real ``celery -A billingdash worker`` process (solo pool) consuming
    `celery_queue`, on the *test* database (``settings.DATABASES["default"]["NAME"]``).
    The worker only sees committed rows, hence `transactional_db`. Its log is
    ``worker.log()``; the process is stopped after the test."""
    import signal
    import subprocess
    import time

    from billingdash.celery import app

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "billingdash.settings",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": app.conf.broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        # Tasks the worker queues itself (retries, follow-ups) stay on this test's queue.
        "CELERY_TASK_DEFAULT_QUEUE": celery_queue,
        "LOG_LEVEL": "INFO",
        **celery_worker_env,
    }
    log_path = tmp_path / "celery-worker.log"
    log_file = log_path.open("w")
    cmd = [
        *clock.command("celery", "-A", "billingdash", "worker"),
        *("-Q", celery_queue, "-n", f"{celery_queue}@%h", "-P", "solo", "-l", "INFO"),
        *("--without-gossip", "--without-mingle", "--without-heartbeat"),
    ]
    process = subprocess.Popen(
        cmd, env=env, cwd=settings.BASE_DIR, stdout=log_file, stderr=subprocess.STDOUT
    )
    worker = CeleryWorkerProcess(process, celery_queue, log_path)
    try:
        deadline = time.monotonic() + 60
        while " ready." not in worker.log():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not start:\n{worker.log()[-4000:]}")
            time.sleep(0.2)
        yield worker
    finally:
        # Cold shutdown (SIGQUIT): the test is over, a task still running (a backfill the
        # test set off) need not finish first.
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log_file.close()


# --- The GitHub simulator (ghsim): one per session, real HTTP -----------------------------
# Shared by every suite (hoisted from tests/github/conftest.py; names kept: `sim_app`,
# `simulator`, `gh`, `closed_port`; `sim` and `github_settings` are the same objects).


@pytest.fixture(scope="session")
def sim_app():
    """(config, private_key_pem) of the simulated GitHub App and OAuth App."""
    from ghsim.config import SimConfig

    return SimConfig.generate()


@pytest.fixture(scope="session")
def simulator(sim_app):
    from ghsim.testing import SimulatorServer

    config, _ = sim_app
    with SimulatorServer(config) as server:
        yield server


@pytest.fixture(scope="session")
def sim(simulator):
    """The session's simulator (`sim.web_url`, `sim.api_url`, `sim.control`)."""
    return simulator


@pytest.fixture
def github_settings(simulator, sim_app, settings):
    """The simulator, reset (demo world, no faults, empty request log, clock now), with
    Django's GITHUB_* settings pointing at it and short HTTP timeouts."""
    config, private_pem = sim_app
    simulator.control.reset()
    settings.GITHUB_WEB_URL = simulator.web_url
    settings.GITHUB_API_URL = simulator.api_url
    settings.GITHUB_APP_ID = str(config.app_id)
    settings.GITHUB_APP_SLUG = config.app_slug
    settings.GITHUB_APP_CLIENT_ID = config.app_client_id
    settings.GITHUB_APP_CLIENT_SECRET = config.app_client_secret
    settings.GITHUB_APP_PRIVATE_KEY = private_pem
    settings.GITHUB_WEBHOOK_SECRET = config.webhook_secret
    settings.GITHUB_OAUTH_CLIENT_ID = config.oauth_client_id
    settings.GITHUB_OAUTH_CLIENT_SECRET = config.oauth_client_secret
    settings.GITHUB_HTTP_CONNECT_TIMEOUT = 2.0
    settings.GITHUB_HTTP_READ_TIMEOUT = 5.0
    settings.GITHUB_HTTP_MAX_ATTEMPTS = 3
    settings.GITHUB_HTTP_BACKOFF_SECONDS = 0.01
    yield simulator
    simulator.control.reset()


@pytest.fixture
def gh(github_settings):
    """Alias of `github_settings` (the GitHub client suite's name)."""
    return github_settings


@pytest.fixture
def closed_port() -> int:
    """A local TCP port nobody listens on."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- Real browsers (Playwright + Debian's Chromium): shared by every browser suite -------
from tests.browser import chromium, pytest_runtest_makereport, tab, tabs  # noqa: E402, F401
