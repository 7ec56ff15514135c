"""Usage collection: queueing (this module) and the worker side (`usage.collect`).

Every collection of a month of an org is a `CollectionRun` row; queueing one creates the
row (at most one queued-or-running run per org and month, a database constraint) and
sends ``usage.collection.collect.collect_org(organization_id)`` on commit. That task takes the org's
lease (`usage.locks`) and collects the org's queued months, newest first.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import KombuError, OperationalError

from accounts.models import Organization
from billingdash.celery import app
from usage import periods
from usage.collection.collect import collect_org
from usage.collection.locks import lease_is_live
from usage.collection.selectors import (
    org_final_months,
    orgs_collectable,
    orgs_unavailable_due,
)
from usage.collection.sources import org_rungs
from usage.models import CollectionRun, OrgCollectionState

log = logging.getLogger(__name__)

ACTIVE = (CollectionRun.State.QUEUED, CollectionRun.State.RUNNING)


class RefreshCoolingDown(Exception):
    """A "refresh now" came too soon after the previous one."""

    def __init__(self, seconds_left: int) -> None:
        super().__init__(f"refreshed recently; try again in {seconds_left} s")
        self.seconds_left = seconds_left


class QueueUnavailable(Exception):
    """The Celery broker cannot be reached: nothing could be queued."""


def _send_collect(organization_id: int) -> None:
    collect_org.delay_on_commit(organization_id)


def run_enqueue(
    *, organization: Organization, period: date, trigger: str, send: bool = True
) -> tuple[CollectionRun, bool]:
    """Queue a collection of `period`'s month unless one is already queued or running
    (then that one is returned, with False). The task is sent on commit."""
    period = periods.month_start(period)
    active = CollectionRun.objects.filter(
        organization=organization, period=period, state__in=ACTIVE
    )
    existing = active.first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            run = CollectionRun.objects.create(
                organization=organization, period=period, trigger=trigger
            )
    except IntegrityError:
        # A concurrent caller (a second beat, a double click) queued it first.
        existing = active.first()
        if existing is None:
            raise
        return existing, False
    if send:
        _send_collect(organization.pk)
    return run, True


def _state(organization: Organization) -> OrgCollectionState:
    state, _ = OrgCollectionState.objects.get_or_create(organization=organization)
    return state


def _check_broker() -> None:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except (OperationalError, KombuError, OSError) as exc:
        raise QueueUnavailable(f"the task queue is unavailable ({type(exc).__name__})") from exc


def org_refresh_request(
    *, organization: Organization, user=None, trigger: str = CollectionRun.Trigger.MANUAL
) -> CollectionRun | None:
    """ "Refresh now": queue the current month at once (summary and budgets too).

    Raises `RefreshCoolingDown` within ``REFRESH_COOLDOWN_SECONDS`` of the previous
    request for the org, `QueueUnavailable` when the broker cannot be reached. Returns
    None when the org cannot be collected now (paused, no installation that can read
    billing, or not on the enhanced billing platform), else the queued (or already
    queued) run. A run whose message could not be sent stays queued and the sweeper
    sends it once the broker is back.
    """
    if organization.collection_paused or not org_rungs(organization):
        return None
    if organization.billing_platform == Organization.BillingPlatform.UNAVAILABLE:
        return None
    _check_broker()
    now = timezone.now()
    cooldown = timedelta(seconds=settings.REFRESH_COOLDOWN_SECONDS)
    _state(organization)
    try:
        with transaction.atomic():
            # Compare-and-swap: only one request per cool-down wins, however many race.
            claimed = (
                OrgCollectionState.objects.filter(organization=organization)
                .filter(
                    Q(refresh_requested_at__isnull=True)
                    | Q(refresh_requested_at__lte=now - cooldown)
                )
                .update(refresh_requested_at=now, extras_collected_at=None)
            )
            if not claimed:
                last = OrgCollectionState.objects.get(organization=organization)
                left = (last.refresh_requested_at + cooldown - now).total_seconds()
                raise RefreshCoolingDown(max(1, int(left + 0.999)))
            run, _ = run_enqueue(
                organization=organization, period=periods.current_month(), trigger=trigger
            )
    except (OperationalError, KombuError) as exc:
        # Sent on commit, after the row was saved: the sweeper will send it later.
        raise QueueUnavailable(f"the task queue is unavailable ({type(exc).__name__})") from exc
    log.info("refresh of %s requested by %s: run %s", organization, user or "staff", run.pk)
    return run


def org_backfill_start(
    *, organization: Organization, trigger: str = CollectionRun.Trigger.BACKFILL
) -> list[CollectionRun]:
    """Queue the last ``BACKFILL_MONTHS`` months (this month included), newest first.

    Months already collected after their late-adjustment window are final and skipped,
    so a repeated ``installation_ready`` (reconciliation) costs nothing. Returns the
    runs queued (or already queued)."""
    started = timezone.now()
    months = periods.last_months(settings.BACKFILL_MONTHS)
    final = org_final_months(organization=organization, months=months)
    runs: list[CollectionRun] = []
    with transaction.atomic():
        for period in months:  # newest first: the dashboard fills from today backwards
            if period in final:
                continue
            run, _ = run_enqueue(
                organization=organization, period=period, trigger=trigger, send=False
            )
            runs.append(run)
        OrgCollectionState.objects.update_or_create(
            organization=organization,
            defaults={
                "backfill_started_at": started,
                "backfill_months": len(months),
                "backfill_months_skipped": len(final),
            },
        )
        if runs:
            _send_collect(organization.pk)
    return runs


def orgs_schedule_period(*, period: date, trigger: str, include_unavailable: bool = False) -> int:
    """Queue `period` for every collectable org (the beat's hourly and daily entries).
    Returns how many runs were newly queued. Running it twice queues nothing twice."""
    queued = 0
    orgs = orgs_collectable(include_unavailable=include_unavailable)
    for organization in orgs.iterator():
        _, created = run_enqueue(organization=organization, period=period, trigger=trigger)
        queued += created
    return queued


def orgs_recheck_unavailable() -> int:
    """Queue the current month of each org GitHub said cannot use the usage report once
    its re-check is due (``COLLECTION_UNAVAILABLE_RECHECK_SECONDS`` after GitHub's
    answer, a day): GitHub is asked about such an org about once a day, never hourly."""
    queued = 0
    for organization in orgs_unavailable_due().iterator():
        queued += run_enqueue(
            organization=organization,
            period=periods.current_month(),
            trigger=CollectionRun.Trigger.SCHEDULE,
        )[1]
    return queued


def schedule_current_month() -> int:
    """Hourly: the current month of every collectable org, and the re-checks due of the
    orgs that cannot use the usage report."""
    queued = orgs_schedule_period(
        period=periods.current_month(), trigger=CollectionRun.Trigger.SCHEDULE
    )
    return queued + orgs_recheck_unavailable()


def schedule_previous_month() -> int:
    """Daily: the previous month until the 10th (GitHub adjusts usage late), and the
    re-checks due of orgs that cannot use the usage report."""
    queued = 0
    if periods.today().day <= 10:
        queued += orgs_schedule_period(
            period=periods.previous_month(), trigger=CollectionRun.Trigger.LATE
        )
    return queued + orgs_recheck_unavailable()


def runs_sweep_stale() -> int:
    """Re-send the task of every org with a due run nobody works on: a running run whose
    lease expired (its worker was killed), or a queued run that waited longer than
    ``COLLECTION_STALE_QUEUED_SECONDS`` (its message was lost, or the broker was down).
    Sending too often is harmless: the lease and the per-month constraint dedupe."""
    now = timezone.now()
    stale_queued = now - timedelta(seconds=settings.COLLECTION_STALE_QUEUED_SECONDS)
    candidates = (
        CollectionRun.objects.filter(
            Q(state=CollectionRun.State.RUNNING)
            | Q(state=CollectionRun.State.QUEUED, queued_at__lte=stale_queued)
        )
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .values_list("organization_id", flat=True)
        .distinct()
    )
    sent = 0
    for organization_id in candidates:
        if lease_is_live(organization_id=organization_id):
            continue
        _send_collect(organization_id)
        sent += 1
    if sent:
        log.info("sweeper re-sent the collection of %d organization(s)", sent)
    return sent
