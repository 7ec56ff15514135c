"""Fixtures of the fault suite: services of our own that a test may stop, kill and restart
without touching the machine's shared ones (other runs use those).

- `own_redis`: a ``redis-server`` on a free port (no persistence: it comes back empty, as
  a crashed Redis without AOF would), ``stop()``/``kill()``/``start()`` on the same port.
- `pg_cluster`: a PostgreSQL cluster of this test (``initdb`` into a temporary folder as
  the ``postgres`` user, ``pg_ctl start/restart/stop``), migrated for billingdash.

Pointing Celery at another broker is `tests.helpers.celery_broker`; the scenery (an org
on both sides) is `tests.helpers.mirror_installed_org`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from django.conf import settings

from tests import clock
from tests.conftest import require_service
from tests.helpers import free_port, wait_for

# --- Redis of our own ----------------------------------------------------------------


class RedisServer:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        log = (self.folder / "redis.log").open("a")
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.folder)),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        wait_for(lambda: self._answers(client), timeout=20, what="redis-server to start")
        return self

    @staticmethod
    def _answers(client: redis.Redis) -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        """Shut down (SIGTERM; with no persistence configured nothing is written)."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """A crash: SIGKILL, whatever it held is gone."""
        self._end(signal.SIGKILL)

    def _end(self, sig: int) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=20)
        self.process = None


@pytest.fixture
def own_redis(tmp_path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        require_service(False, "redis-server (the binary, to run a Redis of the test's own)")
    server = RedisServer(tmp_path).start()
    try:
        yield server
    finally:
        server.kill()


# --- PostgreSQL of our own -----------------------------------------------------------


def _pg_bindir() -> Path | None:
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        if out.returncode == 0 and (Path(out.stdout.strip()) / "initdb").exists():
            return Path(out.stdout.strip())
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


class PostgresCluster:
    """A throw-away cluster: ``initdb`` (as ``postgres`` when we are root: initdb refuses
    to run as root), listening on 127.0.0.1:<free port>, trust authentication, fsync off
    (a test's data need not survive a power cut; a restart keeps it all the same)."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.folder = Path(tempfile.mkdtemp(prefix="billingdash-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(self.folder, user="postgres", group="postgres")
        self.dbname = "billingdash"
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/{self.dbname}"

    def _run(self, tool: str, *args: str) -> None:
        cmd = [*self.as_postgres, str(self.bindir / tool), *args]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def _ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.folder / "postgres.log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", action, *extra)

    def init(self) -> PostgresCluster:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self._ctl("start")
        import psycopg

        admin = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.dbname}"')
        env = {**os.environ, "DATABASE_URL": self.url, "LOG_LEVEL": "WARNING"}
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=settings.BASE_DIR,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        return self

    def restart(self) -> None:
        """``pg_ctl restart -m fast``: every session is ended, open transactions roll back."""
        self._ctl("restart", "-m", "fast")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def log(self) -> str:
        path = self.folder / "postgres.log"
        return path.read_text(errors="replace") if path.exists() else ""


@pytest.fixture
def pg_cluster() -> Iterator[PostgresCluster]:
    bindir = _pg_bindir()
    usable = bindir is not None and (os.geteuid() != 0 or shutil.which("runuser") is not None)
    require_service(usable, "PostgreSQL server binaries (initdb, pg_ctl) to run a cluster")
    cluster = PostgresCluster(bindir)
    try:
        yield cluster.init()
    finally:
        cluster.destroy()


@contextlib.contextmanager
def default_database_at(cluster: PostgresCluster, django_db_blocker) -> Iterator[None]:
    """This process's default connection (the ORM, the cache, the test client) goes to
    the cluster meanwhile; the per-run test database is left alone."""
    from django.db import connections

    conn = connections["default"]
    saved = dict(conn.settings_dict)
    with django_db_blocker.unblock():
        conn.close()
        conn.settings_dict.update(HOST="127.0.0.1", PORT=cluster.port, NAME=cluster.dbname)
        try:
            yield
        finally:
            conn.close()
            conn.settings_dict.clear()
            conn.settings_dict.update(saved)


# --- a web server of our own ----------------------------------------------------------


@contextlib.contextmanager
def gunicorn_on(database_url: str, folder: Path) -> Iterator[str]:
    """``gunicorn billingdash.wsgi`` (one sync worker, persistent database connections
    with health checks, as in production) on a free port; yields its base URL."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
    cmd = clock.command("gunicorn", "billingdash.wsgi", "-w", "1")
    with (folder / "gunicorn.log").open("w") as log:
        process = subprocess.Popen(
            [*cmd, "-b", f"127.0.0.1:{port}"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return requests.get(f"{base}/login/", timeout=5).status_code == 200
        except requests.RequestException:
            return process.poll() is not None  # died: fail below with its log

    try:
        wait_for(answers, timeout=60, what="gunicorn to start")
        assert process.poll() is None, (folder / "gunicorn.log").read_text()[-3000:]
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
