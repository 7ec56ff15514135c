"""Reads about collection: which orgs to collect, their last run, backfill progress."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import date
from functools import reduce
from operator import or_
from typing import Any, TypeVar

from django.db.models import Model, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import BILLING_PERMISSION, BILLING_READABLE, Installation, Organization
from usage import periods
from usage.models import CollectionRun, EndpointAvailability, OrgCollectionState

M = TypeVar("M", bound=Model)


def _readable_installations() -> Q:
    # SQL twin of `Installation.can_read_billing` (`accounts.models.grants_billing`).
    return Q(
        installations__state=Installation.State.ACTIVE,
        **{f"installations__permissions__{BILLING_PERMISSION}__in": BILLING_READABLE},
    )


def orgs_collectable(*, include_unavailable: bool = False) -> QuerySet[Organization]:
    """Orgs the schedule collects: not paused, with an active installation that can read
    billing or a token an owner added, and (unless asked) on the enhanced billing platform."""
    # ...or a token an owner added (the source ladder's third rung).
    sources = _readable_installations() | Q(access_token__isnull=False)
    orgs = Organization.objects.filter(collection_paused=False).filter(sources)
    if not include_unavailable:
        orgs = orgs.exclude(billing_platform=Organization.BillingPlatform.UNAVAILABLE)
    return orgs.distinct().order_by("pk")


def orgs_unavailable_due() -> QuerySet[Organization]:
    """Orgs GitHub said cannot use the usage report (400/404), whose re-check is due:
    ``COLLECTION_UNAVAILABLE_RECHECK_SECONDS`` after GitHub's last such answer."""
    waiting = EndpointAvailability.objects.filter(
        endpoint=EndpointAvailability.Endpoint.USAGE,
        available=False,
        next_check_at__gt=timezone.now(),
    ).values("organization_id")
    return (
        orgs_collectable(include_unavailable=True)
        .filter(billing_platform=Organization.BillingPlatform.UNAVAILABLE)
        .exclude(pk__in=waiting)
    )


def org_usage_availability(*, organization: Organization) -> EndpointAvailability | None:
    """What GitHub last answered to the org's usage report, when the answer was a
    refusal (None: it answered, or was never refused): `status` (400, 403, 404),
    `reason` (``not_available``, ``missing_permission``, ``refused``, ``org_deleted``),
    `detail` (GitHub's message), `missing_permission` (GitHub's
    ``x-accepted-github-permissions``), `checked_at` and `next_check_at` (when it is
    asked again)."""
    return orgs_usage_availability(organization_ids=[organization.pk]).get(organization.pk)


def orgs_usage_availability(
    *, organization_ids: Collection[int]
) -> dict[int, EndpointAvailability]:
    """`org_usage_availability` of each org that has one, by org pk, in one query."""
    if not organization_ids:
        return {}
    refusals = EndpointAvailability.objects.filter(
        organization_id__in=organization_ids,
        endpoint=EndpointAvailability.Endpoint.USAGE,
        available=False,
    )
    return {refusal.organization_id: refusal for refusal in refusals}


def installation_for_collection(organization: Organization) -> Installation | None:
    """The org's installation whose token can read billing (the newest if several)."""
    candidates = Installation.objects.filter(
        organization=organization, state=Installation.State.ACTIVE
    ).order_by("-updated_at", "-pk")
    return next((inst for inst in candidates if inst.can_read_billing), None)


def org_final_months(*, organization: Organization, months: Iterable[date]) -> set[date]:
    """Months whose usage was collected after their late-adjustment window closed."""
    wanted = set(months)
    done = (
        CollectionRun.objects.filter(
            organization=organization,
            state=CollectionRun.State.SUCCEEDED,
            period__in=wanted,
        )
        .values_list("period", "finished_at")
        .order_by()
    )
    return {period for period, finished in done if periods.is_final(period, finished.date())}


def org_last_collection(*, organization: Organization) -> CollectionRun | None:
    """The org's last successful run ("updated N minutes ago")."""
    return orgs_last_collection(organization_ids=[organization.pk]).get(organization.pk)


def orgs_last_collection(*, organization_ids: Collection[int]) -> dict[int, CollectionRun]:
    """`org_last_collection` of each org that has one, by org pk, in one query."""
    succeeded = CollectionRun.objects.filter(state=CollectionRun.State.SUCCEEDED)
    return newest_per_org(succeeded, organization_ids, "-finished_at", "-pk")


def newest_per_org(
    rows: QuerySet[M], organization_ids: Collection[int], *order: str
) -> dict[int, M]:
    """The first of `rows` in `order` of each org that has one, by org pk, in one query
    (none when no org is asked)."""
    if not organization_ids:
        return {}
    newest = rows.filter(organization=OuterRef("pk")).order_by(*order).values("pk")[:1]
    firsts = Organization.objects.filter(pk__in=organization_ids).values(first=Subquery(newest))
    return {row.organization_id: row for row in rows.filter(pk__in=firsts)}


def org_collection_progress(*, organization: Organization) -> dict[str, Any]:
    """The install wizard's progress poll: months done of the months to backfill, items
    so far, failed months (with the last error), and whether anything is still queued
    or running. A month counts as done when a run of it succeeded since the backfill
    started (whatever triggered it) or it was already final then."""
    state = OrgCollectionState.objects.filter(organization=organization).first()
    active = CollectionRun.objects.filter(
        organization=organization, state__in=CollectionRun.ACTIVE_STATES
    )
    recent = orgs_backfill_runs(states=[state] if state is not None else [])
    return progress_from(
        state=state,
        running=active.exists(),
        last=org_last_collection(organization=organization),
        recent=recent.get(organization.pk, []),
    )


def _backfill_window(state: OrgCollectionState) -> list[date]:
    first = periods.month_start(state.backfill_started_at.date())
    return [periods.add_months(first, -i) for i in range(state.backfill_months)]


def orgs_backfill_runs(*, states: Iterable[OrgCollectionState]) -> dict[int, list[CollectionRun]]:
    """The runs the progress counts of each org whose backfill started (those of its
    months since it started, or not finished yet), oldest first, by org pk, in one query."""
    which = [
        Q(organization_id=state.organization_id, period__in=_backfill_window(state))
        & (Q(finished_at__gte=state.backfill_started_at) | Q(finished_at__isnull=True))
        for state in states
        if state.backfill_started_at is not None
    ]
    runs: dict[int, list[CollectionRun]] = defaultdict(list)
    if which:
        for run in CollectionRun.objects.filter(reduce(or_, which)).order_by("period", "pk"):
            runs[run.organization_id].append(run)
    return runs


def progress_from(
    *,
    state: OrgCollectionState | None,
    running: bool,
    last: CollectionRun | None,
    recent: Iterable[CollectionRun],
) -> dict[str, Any]:
    """`org_collection_progress` from what it reads: whether a run is queued or running,
    the last successful run, and the backfill's runs (`orgs_backfill_runs`)."""
    progress: dict[str, Any] = {
        "months_total": 0,
        "months_done": 0,
        "items": 0,
        "errors": 0,
        "last_error": "",
        "running": running,
        "last_collected_at": last.finished_at if last else None,
    }
    if state is None or state.backfill_started_at is None:
        progress["finished"] = False
        return progress
    started = state.backfill_started_at
    window = _backfill_window(state)
    latest: dict[date, CollectionRun] = {}
    for run in recent:
        latest[run.period] = run  # the newest run of each month wins
    done = [r for r in latest.values() if r.state == CollectionRun.State.SUCCEEDED]
    failed = [r for r in latest.values() if r.state == CollectionRun.State.FAILED]
    failed.sort(key=lambda r: r.finished_at or started)
    progress.update(
        months_total=len(window),
        months_done=min(len(window), len(done) + state.backfill_months_skipped),
        items=sum(r.items for r in done),
        errors=len(failed),
        last_error=failed[-1].error if failed else "",
    )
    progress["finished"] = not running
    return progress
