"""Load test (`make load`): gunicorn (2 gthread workers of 4 threads, DEBUG off) on
loopback; one org with ~1,000,000 line items over 12 months; locust
(`bench/locustfile.py`, headless, its own process on the same cores) steps signed-in
users up (no think time) while signed GitHub webhooks stream in and the full-year CSV is
exported. Per step: requests/s, median, p99 and errors per endpoint and in total, and
the CPU each party used; then the highest rate with 0 errors and p99 under 1 s.
``python -m bench.load --help`` lists the options.

A database of its own (``LOAD_DATABASE_URL``, default ``billingdash_load``: created, filled
through the collection path by `bench.dashboard_org`'s loader, dropped unless ``--keep``); an
owner and a billing manager with fresh memberships and Django sessions made here;
generated secrets; ``collectstatic`` into a temporary ``STATIC_ROOT`` (whitenoise); the
broker is Redis database 14 (a queue of this run, deleted at the end, consumed by no
worker: the webhook endpoint stores and queues).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ghsim import reference

from . import common, dashboard_org
from .load_report import conclude, report_step

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/billingdash_load"
EXAMPLES = os.environ.get("GITHUB_API_EXAMPLES", str(reference.EXAMPLES))
PERSONAS = (("olivia-load", 5_990_001, "owner"), ("bill-load", 5_990_002, "billing_manager"))
SESSIONS_PER_PERSONA = 4
MIX = (
    "dashboard this month 20, 12 months 8, 12 months + one repository 4, custom range 4, "
    "last month + product + sort 4; overview 10; API group_by day/product/sku/repository "
    "over 12 months 12; CSV this month 1"
)


def _database_url() -> str:
    return os.environ.get("LOAD_DATABASE_URL", DEFAULT_DB)


def _broker_url() -> str:
    parts = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    return urlunsplit(parts._replace(path="/14"))


# --- data and sessions ---------------------------------------------------------------


def prepare(items: int, reload: bool) -> dict[str, Any]:
    """The org (loaded through the collection path when missing), its size, and the
    values the scenario needs."""
    from django.db import connection

    from usage.models import DailyUsage, MonthlyRepositoryUsage, UsageItem
    from usage.periods import month_end

    started = time.perf_counter()
    org, loaded = dashboard_org.load_org(items, reload)
    load_s = time.perf_counter() - started
    with connection.cursor() as cursor:
        for table in ("usage_dailyusage", "usage_monthlyrepositoryusage", "usage_usageitem"):
            cursor.execute(f"VACUUM ANALYZE {table}")  # what autovacuum does after a load
        cursor.execute("SELECT pg_database_size(current_database())")
        db_bytes = cursor.fetchone()[0]
    months = dashboard_org.bench_months()
    repos = MonthlyRepositoryUsage.objects.filter(organization=org, month=months[0])
    top = repos.exclude(repository="").order_by("-net_amount").first()
    rows = {m.__name__: m.objects.filter(organization=org).count() for m in (UsageItem, DailyUsage)}
    return {
        **{"org": org, "loaded": loaded, "load_s": load_s, "db_bytes": db_bytes},
        **{"items": rows["UsageItem"], "daily": rows["DailyUsage"], "repository": top.repository},
        "repo_months": MonthlyRepositoryUsage.objects.filter(organization=org).count(),
        "span": (months[-1].isoformat(), month_end(months[0]).isoformat()),
        "custom": (str(months[1] + timedelta(days=14)), str(months[0] + timedelta(days=9))),
    }


def sessions(org: Any) -> list[str]:
    """An owner and a billing manager (fresh memberships), several signed-in sessions
    each: what `django.contrib.auth.login` stores, made without a browser."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.models import Membership, User
    from accounts.signin.middleware import SIGNED_IN_AT

    keys = []
    for login, github_id, role in PERSONAS:
        user, _ = User.objects.update_or_create(
            username=f"github-{github_id}", defaults={"github_id": github_id, "github_login": login}
        )
        Membership.objects.update_or_create(
            user=user, organization=org, defaults={"role": role, "state": "active"}
        )
        for _ in range(SESSIONS_PER_PERSONA):
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session[SIGNED_IN_AT] = time.time()
            session.create()
            keys.append(session.session_key)
    keep_fresh(org)
    return keys


def keep_fresh(org: Any) -> None:
    """Roles verified now (before every step), so that no page asks GitHub (there is none
    here) within the production ``MEMBERSHIP_TTL_SECONDS``."""
    from django.utils import timezone

    from accounts.models import Membership, User

    now, logins = timezone.now(), [p[0] for p in PERSONAS]
    User.objects.filter(github_login__in=logins).update(memberships_synced_at=now)
    Membership.objects.filter(organization=org, user__github_login__in=logins).update(
        verified_at=now
    )


# --- the server ------------------------------------------------------------------------


def server_env(tmp: Path, queue: str, webhook_secret: str) -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "billingdash.settings",
        "DEBUG": "false",
        "SECRET_KEY": os.environ["SECRET_KEY"],
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on loopback: no redirect to https, cookies sent without TLS.
        **dict.fromkeys(("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE"), "false"),
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": _broker_url(),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "GITHUB_WEBHOOK_SECRET": webhook_secret,
        "STATIC_ROOT": str(tmp / "static"),
        # CSV exports kept as files (usage.web.export_files): this run's own, deleted with
        # it; the first year CSV of a run renders, the next ones are sent from the file.
        "EXPORT_CACHE_DIR": str(tmp / "exports"),
        "LOG_LEVEL": "WARNING",
    }


def start_gunicorn(
    env: dict[str, str], tmp: Path, workers: int, threads: int, port: int = 0
) -> tuple:
    """collectstatic, then gunicorn on `port` (0: a free one); (process, base URL, log)."""
    manage = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"]
    subprocess.run(manage, cwd=common.ROOT, env=env, check=True)
    port = port or common.free_port()
    log_path = tmp / "gunicorn.log"
    cmd = [
        *(sys.executable, "-m", "gunicorn", "billingdash.wsgi", "-b", f"127.0.0.1:{port}"),
        *("-w", str(workers), "--threads", str(threads)),
        # A full-year CSV (100+ MiB) streams for longer than the default 30 s under load.
        *("--timeout", "120", "--graceful-timeout", "10"),
    ]
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, cwd=common.ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(base + "/login/", timeout=5) as response,
        ):
            if response.status == 200:
                return proc, base, log_path
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("gunicorn did not start:\n" + log_path.read_text()[-3000:])
        time.sleep(0.3)


# --- one step --------------------------------------------------------------------------


def _cpu_seconds(pids: list[int]) -> dict[int, float]:
    import psutil

    out = {}
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            t = psutil.Process(pid).cpu_times()
            out[pid] = t.user + t.system + t.children_user + t.children_system
    return out


def _tree(pid: int) -> list[int]:
    import psutil

    return [pid, *(c.pid for c in psutil.Process(pid).children(recursive=True))]


def _db_backends() -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


def run_step(
    users: int, seconds: int, base: str, config_path: Path, server_pid: int, export: bool = True
) -> dict:
    """One headless locust run; its figures (written by the locustfile) and CPU use."""
    import psutil

    results = config_path.with_suffix(f".{users}.json")
    config = json.loads(config_path.read_text())
    config_path.write_text(json.dumps({**config, "results": str(results), "export": export}))
    cmd = [
        *(sys.executable, "-m", "locust", "-f", str(common.ROOT / "bench" / "locustfile.py")),
        *("--headless", "--host", base, "-u", str(users + 2), "-r", str(users + 2)),
        *("-t", f"{seconds}s", "--stop-timeout", "120", "--only-summary"),
        *("--loglevel", "ERROR", "--exit-code-on-error", "0"),
    ]
    server = _tree(server_pid)
    cpu0, db0, srv0 = psutil.cpu_times(), _cpu_seconds(_db_backends()), _cpu_seconds(server)
    mine0, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    env = {**os.environ, "LOAD_CONFIG": str(config_path)}
    with results.with_suffix(".log").open("w+") as log:
        proc = subprocess.Popen(cmd, cwd=common.ROOT, env=env, stdout=log, stderr=log)
        db_seen = dict(db0)
        while proc.poll() is None:  # backends come and go (CONN_MAX_AGE): last CPU seen
            db_seen.update(_cpu_seconds(_db_backends()))
            time.sleep(1)
        log.seek(0)
        output = log.read()
    # Waited for, locust's CPU time is now in our children's (gunicorn is not waited for).
    wall, cpu1 = time.monotonic() - started, psutil.cpu_times()
    mine1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if not results.exists():
        raise RuntimeError(f"locust wrote no results:\n{output[-3000:]}")

    def used(before: dict[int, float], after: dict[int, float]) -> float:
        return sum(after[p] - before.get(p, 0.0) for p in after)

    cpu = {
        "gunicorn": used(srv0, _cpu_seconds(server)),
        "postgres": used(db0, {**db_seen, **_cpu_seconds(_db_backends())}),
        "locust": mine1.ru_utime + mine1.ru_stime - mine0.ru_utime - mine0.ru_stime,
        "all": sum(cpu1) - cpu1.idle - cpu1.iowait - (sum(cpu0) - cpu0.idle - cpu0.iowait),
    }
    load = os.getloadavg()
    return {
        "users": users,
        "wall": wall,
        "cpu": cpu,
        "load": load,
        **json.loads(results.read_text()),
    }


# --- main ------------------------------------------------------------------------------


def _clean_up(gunicorn: Any, queue: str, tmp: Path, keep: bool) -> None:
    import psycopg
    import redis
    from django.db import connections

    if gunicorn is not None:
        gunicorn.terminate()
        try:
            gunicorn.wait(timeout=20)
        except subprocess.TimeoutExpired:
            gunicorn.kill()
    with contextlib.suppress(redis.RedisError):
        broker = redis.Redis.from_url(_broker_url())
        for key in broker.scan_iter(match=f"*{queue}*"):
            broker.delete(key)
    shutil.rmtree(tmp, ignore_errors=True)
    if keep:
        print(f"database kept for the next run: {_database_url()} (--keep)")
        return
    connections.close_all()
    parts = urlsplit(_database_url())
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("--steps", default="2,4,8,16,24,32", help="browsing users per step")
    parser.add_argument("--step-seconds", type=int, default=20)
    parser.add_argument("--long", action="store_true", help="60 s steps, 2 to 48 users")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help=">1: gthread workers; 1: sync")
    parser.add_argument("--webhook-rate", type=float, default=5.0, help="deliveries/s")
    parser.add_argument("--csv-every", type=float, default=30.0, help="s between year CSVs")
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (0: any free)")
    parser.add_argument("--reload", action="store_true", help="load the data again")
    args = parser.parse_args(argv)
    if args.long:
        args.step_seconds, args.steps = max(args.step_seconds, 60), "2,4,6,8,12,16,24,32,48"
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    started = time.perf_counter()
    # The sessions are signed with the server's SECRET_KEY: this process uses it too.
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(64)
    os.environ["BENCH_DATABASE_URL"] = _database_url()
    common.setup_django()
    import psutil

    cores = psutil.cpu_count() or 2
    tmp = Path(tempfile.mkdtemp(prefix="billingdash-load-"))
    queue, webhook_secret, gunicorn = f"load-{os.getpid()}", secrets.token_hex(20), None
    try:
        data = prepare(args.items, args.reload)
        org = data["org"]
        keys = ("span", "custom", "repository", "items")
        config = {
            **{k: data[k] for k in keys},
            **{"org": org.login, "sessions": sessions(org), "examples": EXAMPLES},
            **{"webhook_secret": webhook_secret, "webhook_rate": args.webhook_rate},
            "csv_every": args.csv_every,
        }
        config_path = tmp / "config.json"
        config_path.write_text(json.dumps(config))
        gunicorn, base, log_path = start_gunicorn(
            server_env(tmp, queue, webhook_secret), tmp, args.workers, args.threads, args.port
        )
        kind = f"gthread, {args.threads} threads" if args.threads > 1 else "sync"
        how = f"loaded through the collection path in {data['load_s']:.0f} s"
        print(
            f"== load: gunicorn billingdash.wsgi -w {args.workers} ({kind}) on {base}, DEBUG "
            f"off; locust 2.47 (FastHttpUser) in its own process on the same {cores} cores ==\n"
            f"data: {data['items']:,} line items of one org ({org.login}), {data['span'][0]} "
            f"to {data['span'][1]}; rollups {data['daily']:,} daily + {data['repo_months']:,} "
            f"repository-month rows; database {data['db_bytes'] / 2**30:.2f} GiB "
            f"({how if data['loaded'] else 'kept from an earlier --keep run'})\n"
            f"mix per browsing user (weights): {MIX}. Plus GitHub webhooks at "
            f"{args.webhook_rate:g}/s (signed, unique delivery ids, GitHub's example payloads) "
            f"and the full-year CSV every {args.csv_every:g} s. CSV latency = first byte; "
            "whole downloads are listed apart.\n"
            f"machine: {cores} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
            "before the run (other work on this machine makes every figure below noisier)"
        )
        run_step(4, 5, base, config_path, gunicorn.pid, export=False)  # warm-up, unreported
        results, offset = [], len(log_path.read_text(errors="replace"))
        for users in (int(s) for s in args.steps.split(",")):
            keep_fresh(org)
            step = run_step(users, args.step_seconds, base, config_path, gunicorn.pid)
            text = log_path.read_text(errors="replace")  # server errors in this step
            counts = {k: text[offset:].count(k) for k in ("Traceback", "TIMEOUT", "ERROR")}
            step["server_errors"] = ", ".join(f"{v} x {k}" for k, v in counts.items() if v)
            offset = len(text)
            results.append(step)
            report_step(step, cores)
        conclude(results)
        print(
            f"(locust shares the {cores} cores with gunicorn and PostgreSQL, and so do other "
            "runs on this machine: the CPU lines above say how much each took)"
        )
    finally:
        _clean_up(gunicorn, queue, tmp, args.keep)
    print(f"load test done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
