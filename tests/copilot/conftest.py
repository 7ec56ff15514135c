"""Fixtures of the Copilot tests: the dashboard tests' organizations (collected from the
simulator over real HTTP, in this process) plus the Copilot collection, run in this
process with the app's own code (`copilot_month_enqueue`, `org_copilot_collect`)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from accounts.models import Installation, Organization
from copilot.collection.collect import org_copilot_collect
from copilot.collection.services import copilot_month_enqueue
from copilot.models import CopilotMonth
from copilot.quotas import AI_CREDITS_START
from tests.dashboard.conftest import (  # noqa: F401 (fixtures)
    collect,
    dash,
    join,
    mirror,
    people,
    persona,
)
from usage import periods

SEAT_PERMISSION = "organization_copilot_seat_management"
SEAT_PERMISSIONS = {
    "organization_administration": "read",
    "members": "read",
    SEAT_PERMISSION: "read",
}
CENT = Decimal("0.01")


def cents(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def grant_seats(sim, org: Organization) -> None:
    inst = Installation.objects.get(organization=org)
    sim.control.accept_permissions(inst.installation_id, SEAT_PERMISSIONS)
    Installation.objects.filter(pk=inst.pk).update(permissions=SEAT_PERMISSIONS)


def copilot_collect(org: Organization, months: list[date]) -> None:
    """Usage's months first (as the schedule does), then the same months' Copilot."""
    collect(org, months)
    for month in months:
        copilot_month_enqueue(organization=org, period=month)
    result = org_copilot_collect(organization_id=org.pk, holder="copilot-tests")
    assert not result.busy
    failed = CopilotMonth.objects.filter(organization=org, state=CopilotMonth.State.FAILED)
    assert [m.error for m in failed] == []


def premium_month() -> date | None:
    """The newest premium-request month GitHub still serves (24 months back, from
    October 2025), or None when the run's today is past all of them."""
    oldest = periods.add_months(periods.current_month(), -23)
    month = periods.add_months(AI_CREDITS_START, -1)
    return month if month >= max(oldest, date(2025, 10, 1)) else None


def month_last_day(month: date) -> date:
    return periods.add_months(month, 1) - timedelta(days=1)


@pytest.fixture
def acme(dash, people, settings) -> Organization:  # noqa: F811 (the imported fixtures)
    """acme-corp with the seat list readable, this month and last month collected (usage
    and Copilot), olivia, bill and mia in it."""
    settings.COPILOT_TASK_BUDGET_SECONDS = 600
    org = mirror(dash, "acme-corp")
    join(org, people)
    grant_seats(dash, org)
    copilot_collect(org, [periods.current_month(), periods.previous_month()])
    return org
