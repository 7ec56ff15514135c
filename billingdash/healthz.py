"""`/healthz`: does the database, the broker and a worker answer?"""

import time

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from billingdash.celery import app as celery_app


def _check_database() -> dict:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def _check_broker() -> dict:
    started = time.monotonic()
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
            transport = conn.transport_cls
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    return {
        "ok": True,
        "transport": str(transport),
        "ms": round((time.monotonic() - started) * 1000, 1),
    }


def _check_worker(broker_ok: bool) -> dict:
    if not broker_ok:
        return {"ok": False, "error": "broker unavailable"}
    try:
        replies = celery_app.control.ping(timeout=1.0)
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": bool(replies), "workers": len(replies)}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database = _check_database()
    broker = _check_broker()
    worker = _check_worker(broker["ok"])
    body = {
        "status": "ok" if database["ok"] and broker["ok"] and worker["ok"] else "degraded",
        "database": database,
        "broker": broker,
        "worker": worker,
    }
    if not database["ok"]:
        body["status"] = "down"
    return JsonResponse(body, status=200 if database["ok"] else 503)
