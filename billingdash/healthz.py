"""`/healthz`: can this site serve, and do its worker and beat run? Cheap enough for a
load balancer to poll as often as it likes.

- **database**: one query, which also reads the tables that exist and the migrations
  applied: a table the site needs (a model's, the database cache's) that is missing, or
  a migration on disk that was never applied, is named (``missing_tables``,
  ``unapplied_migrations``): the site cannot serve then, as when the database does not
  answer.
- **worker** and **beat**: read from the heartbeat billingdash keeps
  (`billingdash.heartbeat`: beat sends one a minute, a worker records it), never by
  connecting to the broker or pinging workers (a ping held a web thread for up to a
  second per call). A heartbeat that ran proves beat, the broker and a worker together.

The whole answer is kept for ``HEALTHZ_CACHE_SECONDS`` (5) per process: a burst of
calls costs one check; while one thread checks, the others answer the previous result.

200 ``{"status": "ok"}`` when everything answers, 200 ``"degraded"`` when the worker or
beat is late (pages work; collection waits), 503 ``"down"`` when the database does not
answer or is not ready. Fields: ``status``, ``database`` (``ok``, ``ms`` or ``error``,
``missing_tables``, ``unapplied_migrations``), ``worker`` and ``beat`` (``ok``,
``last_seen_seconds_ago``: None when never seen), ``checked_at`` (ISO time of the
check) and ``max_age_seconds`` (how long it is reused).
"""

from __future__ import annotations

import threading
import time
from contextlib import nullcontext
from functools import lru_cache
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from billingdash.heartbeat import heartbeat_status

_lock = threading.Lock()
_cached: tuple[float, dict[str, Any], int] | None = None

_TABLES_AND_MIGRATIONS = {
    "postgresql": (
        # text, not pg_tables' type `name` (63 bytes), which would cut migration names.
        "SELECT 't', tablename::text FROM pg_catalog.pg_tables "
        "WHERE schemaname = ANY (current_schemas(false)) "
        "UNION ALL SELECT 'm', app || '.' || name FROM django_migrations"
    ),
    "sqlite": (
        "SELECT 't', name FROM sqlite_master WHERE type = 'table' "
        "UNION ALL SELECT 'm', app || '.' || name FROM django_migrations"
    ),
}


@lru_cache(maxsize=1)
def _needed() -> tuple[frozenset[str], dict[str, tuple[str, ...]]]:
    """The tables the site needs (every model's, the database cache's) and the
    migrations on disk ({name: the migrations it replaces}), read once per process."""
    from django.db.migrations.loader import MigrationLoader

    tables = {
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }
    for cache in settings.CACHES.values():
        if cache.get("BACKEND", "").endswith("DatabaseCache"):
            tables.add(cache["LOCATION"])
    loader = MigrationLoader(None, ignore_no_migrations=True)
    migrations = {
        f"{app}.{name}": tuple(f"{a}.{n}" for a, n in (migration.replaces or ()))
        for (app, name), migration in loader.disk_migrations.items()
    }
    return frozenset(tables), migrations


def _unapplied(applied: set[str], on_disk: dict[str, tuple[str, ...]]) -> list[str]:
    """Migrations on disk not applied (a squashed one counts as applied when all it
    replaces are; the ones it replaces are not asked for separately)."""
    replaced = {name for replaces in on_disk.values() for name in replaces}
    return sorted(
        name
        for name, replaces in on_disk.items()
        if name not in replaced
        and name not in applied
        and not (replaces and set(replaces) <= applied)
    )


def _database() -> dict[str, Any]:
    started = time.monotonic()
    sql = _TABLES_AND_MIGRATIONS.get(connection.vendor)
    # Inside a transaction (tests), a failed query must not poison it: a savepoint.
    scope = transaction.atomic() if connection.in_atomic_block else nullcontext()
    try:
        with scope, connection.cursor() as cursor:
            if sql is None:  # another database: Django's introspection, two queries
                rows = [("t", t) for t in connection.introspection.table_names(cursor)]
                cursor.execute("SELECT app, name FROM django_migrations")
                rows += [("m", f"{app}.{name}") for app, name in cursor.fetchall()]
            else:
                cursor.execute(sql)
                rows = cursor.fetchall()
    except DatabaseError as exc:
        return _without_migrations_table(exc)
    except Exception as exc:  # any driver error means "down"
        return {"ok": False, "error": type(exc).__name__}
    tables = {name for kind, name in rows if kind == "t"}
    applied = {name for kind, name in rows if kind == "m"}
    needed_tables, on_disk = _needed()
    result: dict[str, Any] = {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}
    missing = sorted(needed_tables - tables)
    unapplied = _unapplied(applied, on_disk)
    if missing or unapplied:
        result.update(ok=False, missing_tables=missing, unapplied_migrations=unapplied)
    return result


def _without_migrations_table(exc: DatabaseError) -> dict[str, Any]:
    """The query failed: the database is down, or it answers but was never migrated
    (``django_migrations`` itself is missing)."""
    try:
        with connection.cursor() as cursor:
            tables = set(connection.introspection.table_names(cursor))
    except Exception:
        return {"ok": False, "error": type(exc).__name__}
    needed_tables, on_disk = _needed()
    return {
        "ok": False,
        "missing_tables": sorted(needed_tables - tables),
        "unapplied_migrations": sorted(_unapplied(set(), on_disk)),
    }


def _heartbeat(database_ok: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    if not database_ok:
        unknown = {"ok": False, "last_seen_seconds_ago": None}
        return unknown, dict(unknown)
    try:
        beat = heartbeat_status()
    except DatabaseError as exc:
        unknown = {"ok": False, "last_seen_seconds_ago": None, "error": type(exc).__name__}
        return unknown, dict(unknown)

    def age(seconds: float | None) -> float | None:
        return None if seconds is None else round(seconds, 1)

    worker = {"ok": beat.worker_ok, "last_seen_seconds_ago": age(beat.worker_age)}
    ticks = {"ok": beat.beat_ok, "last_seen_seconds_ago": age(beat.beat_age)}
    return worker, ticks


def health() -> tuple[dict[str, Any], int]:
    """Check now: (the answer, its HTTP status)."""
    database = _database()
    worker, beat = _heartbeat(database["ok"])
    if not database["ok"]:
        status = "down"
    elif worker["ok"] and beat["ok"]:
        status = "ok"
    else:
        status = "degraded"
    body = {
        "status": status,
        "database": database,
        "worker": worker,
        "beat": beat,
        "checked_at": timezone.now().isoformat(timespec="seconds"),
        "max_age_seconds": settings.HEALTHZ_CACHE_SECONDS,
    }
    return body, 503 if status == "down" else 200


def cached_health() -> tuple[dict[str, Any], int]:
    """`health`, reused for ``HEALTHZ_CACHE_SECONDS`` by this process. One thread checks
    at a time; the others answer the previous result meanwhile (or wait for the first)."""
    global _cached
    now = time.monotonic()
    current = _cached
    if current is not None and now - current[0] < settings.HEALTHZ_CACHE_SECONDS:
        return current[1], current[2]
    if not _lock.acquire(blocking=current is None):
        return current[1], current[2]  # type: ignore[index]
    try:
        current = _cached
        if current is not None and time.monotonic() - current[0] < settings.HEALTHZ_CACHE_SECONDS:
            return current[1], current[2]
        body, status = health()
        _cached = (time.monotonic(), body, status)
        return body, status
    finally:
        _lock.release()


def forget() -> None:
    """Drop the kept answer (tests)."""
    global _cached
    _cached = None


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    body, status = cached_health()
    return JsonResponse(body, status=status)
