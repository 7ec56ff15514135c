"""Plain helpers shared by several suites (not fixtures: each suite's conftest keeps its
own fixtures and calls these).

- `wait_for(predicate)`: poll until it is truthy (a progress wait, not a timing check).
- `github_env(sim, app, **overrides)`: the environment (GITHUB_* and the like) of a web
  server or worker pointed at a simulator; `apply_env(settings, env)` puts such values
  into Django's settings, and `allow_github_origin(settings, url)` lets the browser go to
  (and load avatars from) a simulator that was started after the settings were read.
- `mirror_installed_org(sim, login, **options)`: an org created in the simulator, the
  App installed there, and both mirrored in our database; `mirror_installation(...)` is
  the installation half of that.
- `free_port()`, `celery_broker(url)`: a port nobody listens on, and this process's
  Celery app publishing to another broker meanwhile.
- `scratch_database()`: an empty PostgreSQL database of the test's own (its URL),
  dropped afterwards.
- `processes(folder)`: start long-running children (gunicorn, a worker, beat) that
  share this run's clock, each logging to a file; all stopped at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from accounts.models import Installation, Organization
from billingdash.celery import app as celery_app
from tests.factories import InstallationFactory, OrganizationFactory


def wait_for(predicate: Callable[[], Any], *, timeout: float = 90, what: str = "") -> Any:
    """Poll until `predicate()` is truthy and return its value (a progress wait, not a
    timing assertion); AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.1)


# --- the environment of a process pointed at the simulator ---------------------------------


def github_env(sim: Any, app: tuple[Any, str], **overrides: str | None) -> dict[str, str]:
    """The simulator's URLs, its App's (and OAuth App's) credentials and short HTTP
    timeouts as environment variables, with `overrides` added or replacing them; an
    override of None leaves that variable out (the setting keeps its default)."""
    config, private_pem = app
    env: dict[str, str | None] = {
        "GITHUB_WEB_URL": sim.web_url,
        "GITHUB_API_URL": sim.api_url,
        "GITHUB_APP_ID": str(config.app_id),
        "GITHUB_APP_SLUG": config.app_slug,
        "GITHUB_APP_CLIENT_ID": config.app_client_id,
        "GITHUB_APP_CLIENT_SECRET": config.app_client_secret,
        "GITHUB_APP_PRIVATE_KEY": private_pem,
        "GITHUB_WEBHOOK_SECRET": config.webhook_secret,
        "GITHUB_OAUTH_CLIENT_ID": config.oauth_client_id or "",
        "GITHUB_OAUTH_CLIENT_SECRET": config.oauth_client_secret or "",
        "GITHUB_HTTP_CONNECT_TIMEOUT": "2",
        "GITHUB_HTTP_READ_TIMEOUT": "10",
        "GITHUB_HTTP_MAX_ATTEMPTS": "2",
        "GITHUB_HTTP_BACKOFF_SECONDS": "0.01",
        **overrides,
    }
    return {key: value for key, value in env.items() if value is not None}


def apply_env(settings: Any, env: dict[str, str]) -> None:
    """Set each of `env`'s settings in this process, as the type the setting has."""
    for key, value in env.items():
        current = getattr(settings, key)
        setattr(settings, key, value if isinstance(current, str) else type(current)(value))


def allow_github_origin(settings: Any, web_url: str) -> None:
    """The sign-in form is answered with a redirect to GitHub (the simulator), which
    browsers check against CSP form-action; avatars come from its origin too. Settings
    do this for GITHUB_WEB_URL at start-up; a simulator's URL comes after start-up."""
    csp = json.loads(json.dumps(settings.CONTENT_SECURITY_POLICY))
    for directive in ("form-action", "img-src"):
        csp["DIRECTIVES"][directive].append(web_url)
    settings.CONTENT_SECURITY_POLICY = csp


# --- organizations on both sides -------------------------------------------------------------


def mirror_installation(
    org: Organization, info: dict[str, Any], inst: dict[str, Any]
) -> Installation:
    """Our row for the simulator's installation `inst` on the org `info` (what the
    installation webhook would have created)."""
    return InstallationFactory(
        organization=org,
        installation_id=inst["id"],
        account_id=info["id"],
        account_login=info["login"],
        permissions=inst["permissions"],
    )


def mirror_installed_org(sim: Any, login: str, **options: Any) -> Organization:
    """Create the org in the simulator (`options` as ``control.create_org`` takes them),
    install the App there, and mirror both here (what the installation webhook would
    have done)."""
    info = sim.control.create_org(login, **options)
    inst = sim.control.install(login)
    org = OrganizationFactory(github_id=info["id"], login=info["login"])
    mirror_installation(org, info, inst)
    return org


# --- ports and brokers -----------------------------------------------------------------------


def free_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _reset_broker_pools() -> None:
    # Celery caches the broker connection pool (kombu's global pool for that URL) and
    # the producer pool on first use; forget both (as Celery does after a fork) so a
    # changed broker_url takes effect. The pools themselves stay usable for later.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextlib.contextmanager
def celery_broker(url: str) -> Iterator[None]:
    """This process's Celery app (a live server's too, the same object) publishes to
    `url` meanwhile."""
    saved = celery_app.conf.broker_url
    celery_app.conf.broker_url = url
    _reset_broker_pools()
    try:
        yield
    finally:
        celery_app.conf.broker_url = saved
        _reset_broker_pools()


# --- processes of a test's own -----------------------------------------------------------


class Processes:
    """Children started with `start` (``python -m <module> args`` on this run's clock,
    tests/clock.py), each in its own process group with its log in `folder`."""

    def __init__(self, folder: Path, cwd: Path) -> None:
        self.folder, self.cwd = folder, cwd
        self.started: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, module: str, *args: str, env: dict[str, str]) -> subprocess.Popen:
        from tests import clock

        log = (self.folder / f"{name}.log").open("w")
        process = subprocess.Popen(
            clock.command(module, *args),
            cwd=self.cwd,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.started.append((name, process))
        return process

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self, tail: int = 3000) -> str:
        return "\n".join(f"--- {n} ---\n{self.log(n)[-tail:]}" for n, _ in self.started)

    def alive(self) -> bool:
        return all(p.poll() is None for _, p in self.started)

    def stop(self) -> None:
        for _, process in reversed(self.started):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for _, process in self.started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextlib.contextmanager
def processes(folder: Path, cwd: Path) -> Iterator[Processes]:
    started = Processes(folder, cwd)
    try:
        yield started
    finally:
        started.stop()


@contextlib.contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """An empty database named ``<prefix>_<pid>_<random>`` on the suite's PostgreSQL
    (the one DATABASE_URL names); yields its URL and drops it afterwards."""
    import uuid

    import psycopg
    from django.conf import settings

    from tests.conftest import _database_url, require_service

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        require_service(False, "PostgreSQL (DATABASE_URL)")
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = _database_url().rsplit("/", 1)[0] + "/postgres"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        require_service(False, f"PostgreSQL that lets this role create a database ({exc})")
    try:
        yield admin.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
