"""The staff operations page, ``/staff/ops/``: what is broken right now, each row with a
link to the admin object (and action) that fixes it.

Everything but the queue section is read from the database, so the page renders when
Redis is down (the Django cache is the database cache too). Workers are asked with
``control.ping`` (Redis and the filesystem broker both carry it) by ``ops_workers``
(``/staff/ops/workers.json``), which the page's script calls once it is drawn: a ping
waits its whole 1 s timeout, which the page itself does not. Beat is known from the
heartbeat (`usage.heartbeat`), the queue depth is ``LLEN`` of the default queue.

Access: anonymous visitors are sent to the admin's sign-in page; signed-in people who
are not staff get a 404, like any page they may not see.
"""

from __future__ import annotations

import functools
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from django.contrib.auth.views import redirect_to_login
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.admin.users import STALE_COLLECTION
from accounts.models import Installation, Organization, WebhookDelivery
from billingdash.celery import app as celery_app
from billingdash.heartbeat import heartbeat_status
from usage.collection.selectors import orgs_collectable
from usage.models import CollectionRun, OrgCollectionState

# The admin's "stale" filter (which the page links to) and the page agree.
STALE_AFTER = STALE_COLLECTION
FAILED_WINDOW = timedelta(hours=24)
STUCK_WEBHOOK_AFTER = timedelta(minutes=5)
LIMIT = 50
# An installation with fewer calls left than this (before its reset) is running low.
LOW_BUDGET = 500
RUN = CollectionRun.State
# kombu's Redis transport keeps messages with a priority in "<queue>\x06\x16<n>" lists.
_PRIORITY_SEP = "\x06\x16"
_PRIORITY_STEPS = (3, 6, 9)


def staff_only(view):
    """Anonymous: the admin sign-in page. Signed in but not staff: 404."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not (request.user.is_active and request.user.is_staff):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapper


# --- reads about collection (also used by the admin's filters) ----------------------------


def unresolved_failures(*, now: datetime | None = None) -> QuerySet[CollectionRun]:
    """Runs that failed in the last 24 hours and whose month has not succeeded since."""
    return failed_runs(now=now).filter(resolved=False)


def failed_runs(*, now: datetime | None = None) -> QuerySet[CollectionRun]:
    """Runs that failed in the last 24 hours, each with `resolved`: its month of its org
    succeeded later."""
    now = now or timezone.now()
    later_success = CollectionRun.objects.filter(
        organization=OuterRef("organization"),
        period=OuterRef("period"),
        state=RUN.SUCCEEDED,
        finished_at__gt=OuterRef("finished_at"),
    )
    return CollectionRun.objects.filter(
        state=RUN.FAILED, finished_at__gte=now - FAILED_WINDOW
    ).annotate(resolved=Exists(later_success))


def retrying_runs() -> QuerySet[CollectionRun]:
    """Queued or running runs that already failed an attempt (waiting out a backoff or
    a rate-limit reset)."""
    return CollectionRun.objects.filter(state__in=CollectionRun.ACTIVE_STATES).exclude(error="")


def failing_org_ids(*, now: datetime | None = None) -> set[int]:
    ids = set(unresolved_failures(now=now).values_list("organization_id", flat=True))
    return ids | set(retrying_runs().values_list("organization_id", flat=True))


def stale_orgs(*, now: datetime) -> QuerySet[Organization]:
    """Collectable orgs whose last successful collection is older than 2 hours (or
    never happened)."""
    limit = now - STALE_AFTER
    return orgs_collectable().filter(Q(last_collected_at__lt=limit) | Q(last_collected_at=None))


# --- sections -----------------------------------------------------------------------------


def _admin(name: str, *args: Any) -> str:
    """An admin URL. A change page's URL is reversed once per view name and the pk put
    in its place: ``reverse()`` per row was a third of the page's time (hundreds of rows)."""
    if len(args) != 1:
        return reverse(f"admin:{name}", args=args)
    head, tail = _change_url_parts(name, get_script_prefix())
    return f"{head}{args[0]}{tail}"


@functools.lru_cache(maxsize=64)
def _change_url_parts(name: str, prefix: str) -> tuple[str, str]:
    url = reverse(f"admin:{name}", args=[_PK_MARK])
    head, _, tail = url.partition(str(_PK_MARK))
    return head, tail


_PK_MARK = 987654321987


def _org_rows(now: datetime) -> tuple[list[dict], int]:
    stale_ids = set(stale_orgs(now=now).values_list("pk", flat=True))
    unresolved = set(unresolved_failures(now=now).values_list("organization_id", flat=True))
    retrying = set(retrying_runs().values_list("organization_id", flat=True))
    problem_ids = stale_ids | unresolved | retrying  # failing_org_ids() and the stale
    last_run = (
        CollectionRun.objects.filter(organization=OuterRef("pk"))
        .order_by("-queued_at", "-pk")
        .values("pk")[:1]
    )
    orgs = list(
        Organization.objects.filter(pk__in=problem_ids)
        .annotate(last_run_pk=Subquery(last_run))
        .prefetch_related("installations")
        .order_by("login")[:LIMIT]
    )
    last_runs = CollectionRun.objects.in_bulk([o.last_run_pk for o in orgs if o.last_run_pk])
    rows = []
    for org in orgs:
        last = last_runs.get(org.last_run_pk)
        live = [i for i in org.installations.all() if i.state != Installation.State.DELETED]
        rows.append(
            {
                "org": org,
                "admin_url": _admin("accounts_organization_change", org.pk),
                "runs_url": _admin("usage_collectionrun_changelist")
                + f"?organization__id__exact={org.pk}",
                "failing": org.pk in unresolved and org.pk not in retrying,
                "retrying": org.pk in retrying,
                "stale": org.pk in stale_ids,
                "last_run": last,
                "last_run_url": _admin("usage_collectionrun_change", last.pk) if last else "",
                "installations": [(i, _admin("accounts_installation_change", i.pk)) for i in live],
            }
        )
    return rows, len(problem_ids)


def _sources() -> dict[str, Any]:
    """The source ladder (`usage.collection.sources`): how many orgs each source feeds,
    and the orgs not read by the App, with what GitHub refused and the step that would
    unlock the next source."""
    counts = dict(
        Organization.objects.exclude(collection_source="")
        .order_by()
        .values("collection_source")
        .annotate(n=Count("pk"))
        .values_list("collection_source", "n")
    )
    states = OrgCollectionState.objects.select_related("organization").filter(
        Q(organization__collection_source__in=("user_token", "owner_token", "reports"))
        | ~Q(source_refusals=[])
    )
    rows = []
    for state in states.order_by("organization__login")[:LIMIT]:
        org = state.organization
        refusals = list(state.source_refusals or [])
        rows.append(
            {
                "org": org,
                "admin_url": _admin("accounts_organization_change", org.pk),
                "detail": org.collection_source_detail,
                "refusals": refusals,
                "unlock": refusals[-1].get("unlock", "") if refusals else "",
            }
        )
    return {"counts": counts, "rows": rows}


def _installations() -> dict[str, Any]:
    by_state = Installation.objects.order_by().values("state").annotate(n=Count("pk"))
    counts = dict(by_state.values_list("state", "n"))
    changelist = _admin("accounts_installation_changelist")
    states = [
        {
            "value": value,
            "label": label,
            "count": counts.get(value, 0),
            "url": f"{changelist}?state__exact={value}",
            "bad": value != Installation.State.ACTIVE and value != Installation.State.DELETED,
        }
        for value, label in Installation.State.choices
    ]
    broken = Installation.objects.exclude(
        state__in=(Installation.State.ACTIVE, Installation.State.DELETED)
    ).order_by("-updated_at")
    rows = [(i, _admin("accounts_installation_change", i.pk)) for i in broken[:LIMIT]]
    return {"states": states, "broken": rows}


def _webhooks(now: datetime) -> dict[str, Any]:
    failed = WebhookDelivery.objects.filter(state=WebhookDelivery.State.FAILED)
    stuck = WebhookDelivery.objects.filter(
        state=WebhookDelivery.State.PENDING, received_at__lt=now - STUCK_WEBHOOK_AFTER
    )
    changelist = _admin("accounts_webhookdelivery_changelist")
    rows = [
        (d, _admin("accounts_webhookdelivery_change", d.pk))
        for d in failed.order_by("-received_at")[:LIMIT]
    ]
    return {
        "failed": rows,
        "failed_count": failed.count(),
        "failed_url": f"{changelist}?state__exact=failed",
        "stuck_count": stuck.count(),
        "stuck_url": f"{changelist}?state__exact=pending",
        "changelist": changelist,
    }


def _duration(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    return f"{seconds} s" if seconds < 120 else f"{round(seconds / 60)} min"


def _budgets(now: datetime) -> list[dict]:
    last_budget = (
        CollectionRun.objects.filter(
            organization=OuterRef("organization"), ratelimit_remaining__isnull=False
        )
        .order_by(F("finished_at").desc(nulls_last=True), "-pk")
        .values("ratelimit_remaining")[:1]
    )
    active = (
        Installation.objects.filter(state=Installation.State.ACTIVE)
        .annotate(run_budget=Subquery(last_budget))
        .order_by(F("ratelimit_remaining").asc(nulls_last=True), "installation_id")
    )
    rows = []
    for inst in active[:LIMIT]:
        resets_later = inst.ratelimit_reset_at is not None and inst.ratelimit_reset_at > now
        rows.append(
            {
                "installation": inst,
                "url": _admin("accounts_installation_change", inst.pk),
                "reset_in": _duration(inst.ratelimit_reset_at - now) if resets_later else None,
                "low": inst.ratelimit_remaining is not None
                and inst.ratelimit_remaining < LOW_BUDGET
                and resets_later,
            }
        )
    return rows


# --- the broker -----------------------------------------------------------------------------


def _redis_depth(url: str, queue: str) -> tuple[int, int]:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        keys = [queue, *(f"{queue}{_PRIORITY_SEP}{step}" for step in _PRIORITY_STEPS)]
        waiting = sum(int(client.llen(key)) for key in keys)
        in_flight = int(client.hlen("unacked"))
    finally:
        client.close()
    return waiting, in_flight


def _filesystem_depth(queue: str) -> int:
    folder = celery_app.conf.broker_transport_options.get("data_folder_in", "")
    return sum(1 for _ in Path(folder).glob(f"*.{queue}.msg")) if folder else 0


def broker_status(*, ping: bool = True) -> dict[str, Any]:
    """Queue depth and (with `ping`) the workers that answer a ping; "unavailable" when
    the broker is down (never raises). A ping waits its whole timeout (1 s) for replies,
    since nobody knows how many workers there are: the page asks without it and fetches
    the workers from `ops_workers` once drawn."""
    queue = celery_app.conf.task_default_queue
    status: dict[str, Any] = {"ok": False, "queue": queue, "depth": None, "in_flight": None}
    status.update(workers=[], error="", transport="")
    started = time.monotonic()
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
            status["transport"] = conn.transport.driver_type
            url = conn.as_uri(include_password=True)
            if status["transport"] == "redis":
                status["depth"], status["in_flight"] = _redis_depth(url, queue)
            elif status["transport"] == "filesystem":
                status["depth"] = _filesystem_depth(queue)
            status["ok"] = True
            replies = celery_app.control.ping(timeout=1.0, connection=conn) if ping else []
    except Exception as exc:  # any broker or driver error means "unavailable" here
        status["error"] = f"{type(exc).__name__}: {exc}"[:300]
        return status
    status["workers"] = sorted(name for reply in replies for name in reply)
    status["pinged"] = ping
    status["ms"] = round((time.monotonic() - started) * 1000)
    return status


# --- the page -------------------------------------------------------------------------------


def _with_urls(objects: QuerySet) -> list:
    """Runs and orgs with their admin pages' URLs (``admin_url``; runs also
    ``org_admin_url``), set here rather than by ``{% url %}`` once per row."""
    rows = list(objects)
    for obj in rows:
        if isinstance(obj, CollectionRun):
            obj.admin_url = _admin("usage_collectionrun_change", obj.pk)
            obj.org_admin_url = _admin("accounts_organization_change", obj.organization_id)
        else:
            obj.admin_url = _admin("accounts_organization_change", obj.pk)
    return rows


@never_cache
@require_GET
@staff_only
def ops(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    org_rows, problem_count = _org_rows(now)
    failed = failed_runs(now=now).select_related("organization").order_by("-finished_at")
    failed_counts = failed.aggregate(
        total=Count("pk"), unresolved=Count("pk", filter=Q(resolved=False))
    )
    retrying = retrying_runs().select_related("organization").order_by("-queued_at")
    context = {
        "now": now,
        "org_rows": org_rows,
        "problem_count": problem_count,
        "collectable_count": orgs_collectable().count(),
        "paused": _with_urls(
            Organization.objects.filter(collection_paused=True).order_by("login")[:LIMIT]
        ),
        "unavailable_count": Organization.objects.filter(
            billing_platform=Organization.BillingPlatform.UNAVAILABLE
        ).count(),
        "failed_runs": _with_urls(failed[:LIMIT]),
        "failed_count": failed_counts["total"],
        "unresolved_count": failed_counts["unresolved"],
        "retrying_runs": _with_urls(retrying[:LIMIT]),
        "ops_url": reverse("ops"),
        "installations": _installations(),
        "sources": _sources(),
        "webhooks": _webhooks(now),
        "budgets": _budgets(now),
        "low_budget": LOW_BUDGET,
        "broker": broker_status(ping=False),
        "heartbeat": heartbeat_status(now=now),
        "org_changelist": _admin("accounts_organization_changelist"),
        "runs_changelist": _admin("usage_collectionrun_changelist"),
        "stale_hours": int(STALE_AFTER.total_seconds() // 3600),
    }
    return render(request, "usage/ops.html", context)


@never_cache
@require_GET
@staff_only
def ops_workers(request: HttpRequest) -> JsonResponse:
    """``/staff/ops/workers.json``: the workers that answer a ping within 1 s (the page
    fills its "Workers answering" card from it, so that the page itself does not wait)."""
    status = broker_status(ping=True)
    return JsonResponse(
        {
            "ok": status["ok"],
            "workers": status["workers"],
            "error": status["error"],
            "ms": status.get("ms"),
        }
    )
