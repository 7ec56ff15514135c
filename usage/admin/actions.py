"""Staff writes of the usage app (the admin's "collect now" and "backfill" actions).

Staff are not held to the owners' "refresh now" cool-down (`org_refresh_request`): they
act because something was broken and has been fixed. "Collect now" also makes the org's
queued runs due at once (a run waiting out a 5xx backoff would otherwise wait for its
``not_before``), and forces the summary and budgets to be read again. Queueing uses the
collection engineer's `run_enqueue` (one active run per org and month) and the same
``collect_org`` task (`usage.collection.collect`) the schedule sends, so the worker path is
the usual one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils import timezone
from kombu.exceptions import KombuError, OperationalError

from accounts.models import Organization
from usage import periods
from usage.collection.collect import collect_org
from usage.collection.selectors import installation_for_collection, org_final_months
from usage.collection.services import run_enqueue
from usage.models import CollectionRun, OrgCollectionState

log = logging.getLogger(__name__)

MAX_BACKFILL_MONTHS = 24


@dataclass
class Queued:
    """What a staff action queued for one organization."""

    organization: Organization
    runs: list[CollectionRun] = field(default_factory=list)
    new: int = 0  # runs created now (the others were already queued or running)
    made_due: int = 0  # queued runs whose retry wait was cut short
    skipped_final: int = 0  # backfill: months already final, not queued
    refused: str = ""  # why nothing was queued
    sent: bool = False  # the collect task reached the broker

    @property
    def periods(self) -> list[date]:
        return [run.period for run in self.runs]


def _refusal(organization: Organization) -> str:
    if organization.collection_paused:
        return "collection is paused"
    if installation_for_collection(organization) is None:
        return "no active installation of the App can read its billing"
    return ""


def _send(result: Queued) -> Queued:
    try:
        collect_org.delay(result.organization.pk)
    except (OperationalError, KombuError, OSError) as exc:
        # The runs are saved as queued: the sweeper sends them once the broker is back.
        log.warning("staff collection of %s not sent: %r", result.organization, exc)
    else:
        result.sent = True
    return result


def _queue_months(
    organization: Organization, months: list[date], *, trigger: str, force_extras: bool
) -> Queued:
    result = Queued(organization=organization)
    with transaction.atomic():
        # Runs waiting out a backoff or a rate-limit reset become due now.
        result.made_due = CollectionRun.objects.filter(
            organization=organization,
            state=CollectionRun.State.QUEUED,
            not_before__gt=timezone.now(),
        ).update(not_before=None)
        if force_extras:
            OrgCollectionState.objects.filter(organization=organization).update(
                extras_collected_at=None
            )
        for period in months:
            run, created = run_enqueue(
                organization=organization, period=period, trigger=trigger, send=False
            )
            result.runs.append(run)
            result.new += created
    if not result.runs and not result.made_due:
        return result
    return _send(result)


def org_collect_now(*, organization: Organization) -> Queued:
    """Collect the org's current month at once (and its summary and budgets)."""
    refused = _refusal(organization)
    if refused:
        return Queued(organization=organization, refused=refused)
    return _queue_months(
        organization,
        [periods.current_month()],
        trigger=CollectionRun.Trigger.ADMIN,
        force_extras=True,
    )


def org_collect_months(*, organization: Organization, months: list[date]) -> Queued:
    """Collect these months of the org again (a failed run's month, after a fix)."""
    refused = _refusal(organization)
    if refused:
        return Queued(organization=organization, refused=refused)
    wanted = [periods.month_start(p) for p in months]
    return _queue_months(
        organization,
        wanted,
        trigger=CollectionRun.Trigger.ADMIN,
        force_extras=periods.current_month() in wanted,
    )


def org_backfill(*, organization: Organization, months: int, include_final: bool = False) -> Queued:
    """Collect the org's last `months` months (this one included), newest first. Months
    collected after their late-adjustment window are final and skipped unless
    `include_final` (to repair data)."""
    months = max(1, min(int(months), MAX_BACKFILL_MONTHS))
    refused = _refusal(organization)
    if refused:
        return Queued(organization=organization, refused=refused)
    wanted = periods.last_months(months)
    final = set() if include_final else org_final_months(organization=organization, months=wanted)
    result = _queue_months(
        organization,
        [p for p in wanted if p not in final],
        trigger=CollectionRun.Trigger.ADMIN,
        force_extras=False,
    )
    result.skipped_final = len(final)
    return result
