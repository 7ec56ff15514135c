"""Shared set-up of the benchmarks: a database of their own, the simulator in a separate
process (so it does not share our interpreter's lock), Django configured for both.

Environment: ``BENCH_DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/
billingdash_bench``, created and migrated if missing; ``sqlite:///...`` works too),
``REDIS_URL`` for the fan-out's broker.
"""

from __future__ import annotations

import math
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/billingdash_bench"


def database_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)


def _create_postgres_database(url: str) -> None:
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django() -> None:
    """Point Django at the benchmark database (created and migrated) and set it up."""
    url = database_url()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billingdash.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # The benchmarks run with the development keys, which need DEBUG on (off unless set).
    os.environ.setdefault("DEBUG", "true")
    if url.startswith("postgres"):
        _create_postgres_database(url)
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def simulator(**extra_env: str) -> Iterator[tuple[Any, str, str, Any]]:
    """The simulator in a child process (``python -m ghsim``, configured through the
    environment like ``make demo``, plus `extra_env`, e.g. ``SIM_USAGE_CACHE_MB``):
    yields (config, private_pem, web_url, control)."""
    from ghsim.config import SimConfig
    from ghsim.testing import ControlClient

    config, private_pem = SimConfig.generate()
    port = free_port()
    env = {
        **os.environ,
        **extra_env,
        "GITHUB_APP_ID": str(config.app_id),
        "GITHUB_APP_CLIENT_ID": config.app_client_id,
        "GITHUB_APP_CLIENT_SECRET": config.app_client_secret,
        "GITHUB_WEBHOOK_SECRET": config.webhook_secret,
        "GITHUB_APP_PRIVATE_KEY": private_pem,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "ghsim", "--port", str(port), "--quiet"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    web_url = f"http://127.0.0.1:{port}"
    control = ControlClient(web_url)
    deadline = time.monotonic() + 60
    while True:
        try:
            control.state()
            break
        except Exception:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("the simulator did not start") from None
            time.sleep(0.2)
    try:
        yield config, private_pem, web_url, control
    finally:
        proc.terminate()
        proc.wait(10)


def github_env(config: Any, private_pem: str, web_url: str) -> dict[str, str]:
    """The GITHUB_* settings that point billingdash at the simulator."""
    return {
        "GITHUB_WEB_URL": web_url,
        "GITHUB_API_URL": web_url + "/api/v3",
        "GITHUB_APP_ID": str(config.app_id),
        "GITHUB_APP_CLIENT_ID": config.app_client_id,
        "GITHUB_APP_CLIENT_SECRET": config.app_client_secret,
        "GITHUB_APP_PRIVATE_KEY": private_pem,
        "GITHUB_HTTP_READ_TIMEOUT": "120",
    }


def apply_settings(env: dict[str, str]) -> None:
    from django.conf import settings

    for key, value in env.items():
        current = getattr(settings, key, "")
        setattr(settings, key, value if isinstance(current, str) else type(current)(value))


def install_org(info: dict[str, Any], inst: dict[str, Any], **org_fields: Any) -> Any:
    """The simulator's org (`info`, from ``control.create_org``) and its App installation
    (`inst`, from ``control.install``) as our Organization and Installation, replacing
    what an earlier run left under the same login or ids; the installation token an
    earlier run's simulator issued is forgotten."""
    from django.db.models import Q

    from accounts.models import Installation, Organization
    from billingdash import github

    login = info["login"]
    Organization.objects.filter(Q(login=login) | Q(github_id=info["id"])).delete()
    org = Organization.objects.create(github_id=info["id"], login=login, **org_fields)
    Installation.objects.filter(installation_id=inst["id"]).delete()
    Installation.objects.create(
        installation_id=inst["id"],
        organization=org,
        account_id=info["id"],
        account_login=login,
        permissions=inst["permissions"],
    )
    github.forget_installation_token(inst["id"])
    return org


def vacuum(*tables: str, full: bool = False) -> None:
    """VACUUM (ANALYZE) tables (PostgreSQL; untimed set-up): what autovacuum would have
    done between two collections, so that earlier runs' dead rows do not weigh on the
    next measurement (the benchmark server may run with autovacuum off). `full` also
    compacts them (VACUUM FULL)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    options = "FULL, ANALYZE" if full else "ANALYZE"
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ({options}) {table}")


def checkpoint() -> bool:
    """CHECKPOINT (PostgreSQL; untimed set-up): a timed load then starts with the log
    written out, so a checkpoint forced by earlier loads' log does not land in the next
    measurement, whichever it is (a million-item month writes about 200 MB of log; a
    server with max_wal_size = 1GB checkpoints every few such loads).
    False where the server refuses (it needs superuser or the pg_checkpoint role)."""
    from django.db import DatabaseError, connection

    if connection.vendor != "postgresql":
        return False
    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError:
        return False
    return True


def peak_rss_mib() -> float:
    """Peak resident memory of this process (Linux reports KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stats(samples: list[float]) -> tuple[float, float]:
    """Median and p95 of `samples`, in ms."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered) * 1000, p95 * 1000


def timed(call: Callable[[], Any], runs: int) -> list[float]:
    """Seconds each of `runs` calls took, after three untimed ones."""
    for _ in range(3):  # warm caches (plans, templates, connection)
        call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples
