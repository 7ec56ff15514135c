"""Per-user Copilot figures from GitHub's ``user`` filter, within the daily budget.

Who: the seat list (`GET /orgs/{org}/copilot/billing/seats`, read at most once a day
once readable; the App needs the organization permission "GitHub Copilot Business"
(`organization_copilot_seat_management`) read, else it is recorded as missing and
asked again at the next collection) and anyone named in an imported report. Which
months: collected months with Copilot usage, newest first, except months an imported
report covers (the report is their per-user truth). A user's month is asked once; the
current month, and the previous one until the 10th (GitHub adjusts it late), again when
the last answer is older than ``STALE_HOURS``. Every call first claims one unit of the
org's budget for the day (`copilot.collection.budget`); when it is spent, the rest waits
for tomorrow's collections. Logins never go to logs or error texts.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Organization
from billingdash import github
from billingdash.github.copilot import get_copilot_usage, list_copilot_seats
from copilot.collection.budget import budget_claim, org_state
from copilot.collection.rows import usage_fields
from copilot.collection.totals import user_totals_write
from copilot.models import (
    CopilotLock,
    CopilotModelMonth,
    CopilotMonth,
    CopilotOrgState,
    CopilotReportRow,
    CopilotSeat,
    CopilotUserFetch,
    CopilotUserMonth,
)
from usage import periods
from usage.collection.locks import LeaseKeeper, lease_confirm
from usage.collection.selectors import installation_for_collection

log = logging.getLogger(__name__)
STALE_HOURS = 20
SEATS_EVERY = timedelta(hours=24)


@dataclass
class UsersResult:
    calls: int = 0
    retry_in: float | None = None


def seats_refresh(
    *,
    organization: Organization,
    token: str,
    installation_id: int | None = None,
    force: bool = False,
) -> None:
    """Read the seat list (at most once a day) and replace `CopilotSeat`."""
    state = org_state(organization)
    now = timezone.now()
    fresh = state.seats_checked_at and now - state.seats_checked_at < SEATS_EVERY
    if not force and fresh and state.seats == CopilotOrgState.Seats.OK:
        return  # a refused list is asked again at every collection (one call), to see a grant
    Seats = CopilotOrgState.Seats
    try:
        try:
            seats = list_copilot_seats(token, organization.login)
        except github.Forbidden:
            if installation_id is None:
                raise
            # A token made before an owner granted the permission lacks it: a new one.
            github.forget_installation_token(installation_id)
            token = github.installation_token(installation_id)
            seats = list_copilot_seats(token, organization.login)
    except github.RateLimited:
        raise
    except github.Forbidden as exc:
        CopilotOrgState.objects.filter(pk=organization.pk).update(
            seats=Seats.MISSING_PERMISSION,
            seats_detail=(exc.accepted_permissions_header or "")[:500],
            seats_checked_at=now,
        )
        return
    except github.GitHubError as exc:
        CopilotOrgState.objects.filter(pk=organization.pk).update(
            seats=Seats.REFUSED, seats_detail=f"GitHub answered {exc.status}", seats_checked_at=now
        )
        return
    rows = []
    for seat in seats:
        assignee = seat.get("assignee") or {}
        login = str(assignee.get("login") or "")[:100]
        if not login:
            continue
        rows.append(
            CopilotSeat(
                organization=organization,
                login=login,
                plan_type=str(seat.get("plan_type") or "")[:30],
                created_at=github.parse_timestamp(seat.get("created_at")),
                last_activity_at=github.parse_timestamp(seat.get("last_activity_at")),
                last_activity_editor=str(seat.get("last_activity_editor") or "")[:200],
            )
        )
    with transaction.atomic():
        CopilotSeat.objects.filter(organization=organization).delete()
        CopilotSeat.objects.bulk_create(rows)
        CopilotOrgState.objects.filter(pk=organization.pk).update(
            seats=Seats.OK, seats_detail="", seats_checked_at=now
        )
        # Plans decide quotas: the months people look at most are worked out again.
        for period in (periods.current_month(), periods.previous_month()):
            user_totals_write(organization=organization, period=period)


def copilot_logins(organization: Organization) -> list[str]:
    """Seat holders, then anyone an imported report names (sorted, unique)."""
    seats = set(
        CopilotSeat.objects.filter(organization=organization).values_list("login", flat=True)
    )
    named = set(
        CopilotReportRow.objects.filter(organization=organization)
        .values_list("login", flat=True)
        .distinct()
    )
    return sorted(seats | {n for n in named if n})


def _stale_before(period, now: datetime) -> datetime | None:
    today = periods.today()
    current = periods.current_month()
    late = period == periods.add_months(current, -1) and today.day <= 10
    if period == current or late:
        return now - timedelta(hours=STALE_HOURS)
    return None


def users_collect(
    *, organization: Organization, keeper: LeaseKeeper, deadline: float
) -> UsersResult:
    result = UsersResult()
    installation = installation_for_collection(organization)
    if installation is None:
        return result
    try:
        token = github.installation_token(installation.installation_id)
        seats_refresh(
            organization=organization,
            token=token,
            installation_id=installation.installation_id,
        )
        logins = copilot_logins(organization)
        if not logins:
            return result
        # Months whose org-wide answer had usage: asking users about the others is waste.
        used = set(
            CopilotModelMonth.objects.filter(organization=organization)
            .values_list("period", flat=True)
            .distinct()
        )
        months = [
            (period, endpoint)
            for period, endpoint in CopilotMonth.objects.filter(
                organization=organization, state=CopilotMonth.State.SUCCEEDED
            )
            .order_by("-period")
            .values_list("period", "endpoint")
            if period in used
        ]
        reported = set(
            CopilotReportRow.objects.filter(organization=organization)
            .values_list("period", flat=True)
            .distinct()
        )
        now = timezone.now()
        for period, endpoint in months:
            if period in reported:
                continue
            stale = _stale_before(period, now)
            fetched = dict(
                CopilotUserFetch.objects.filter(
                    organization=organization, period=period
                ).values_list("login", "fetched_at")
            )
            for login in logins:
                at = fetched.get(login)
                if at is not None and (stale is None or at > stale):
                    continue
                if time.monotonic() > deadline:
                    result.retry_in = 1
                    return result
                if not budget_claim(organization=organization):
                    return result
                result.calls += 1
                items = get_copilot_usage(
                    token,
                    organization.login,
                    endpoint=endpoint,
                    year=period.year,
                    month=period.month,
                    user=login,
                )
                _user_month_replace(organization, period, login, items, keeper)
    except github.RateLimited as exc:
        result.retry_in = float(exc.retry_after)
    except (github.ServerError, github.NetworkError, github.MalformedResponse) as exc:
        # The path only (no login); the next collection carries on where this stopped.
        log.warning("per-user Copilot calls of org %s stopped: %s", organization.pk, exc)
    except github.GitHubError as exc:
        log.warning("per-user Copilot calls of org %s refused (%s)", organization.pk, exc.status)
    return result


def _user_month_replace(organization, period, login, items, keeper: LeaseKeeper) -> None:
    rows = [
        CopilotUserMonth(organization=organization, period=period, login=login, **usage_fields(i))
        for i in items
    ]
    with transaction.atomic():
        keeper.check()
        lease_confirm(organization_id=organization.pk, holder=keeper.holder, model=CopilotLock)
        CopilotUserMonth.objects.filter(
            organization=organization, period=period, login=login
        ).delete()
        CopilotUserMonth.objects.bulk_create(rows)
        CopilotUserFetch.objects.update_or_create(
            organization=organization,
            period=period,
            login=login,
            defaults={"fetched_at": timezone.now()},
        )
        user_totals_write(organization=organization, period=period, logins=[login])
