"""Queueing Copilot collection. It follows usage's schedule: whenever usage commits a
month (backfill of 24 months, the hourly current month, the daily re-collection of the
previous month, "refresh now"), `after_usage_month` queues the same month here if the
usage data has Copilot premium-request or AI-credit lines in it: those orgs, and only
those, have Copilot usage to break down.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction

from accounts.models import Organization
from copilot.models import CopilotMonth
from copilot.quotas import METERED_SKUS, endpoint_for
from usage import periods
from usage.models import DailyUsage

log = logging.getLogger(__name__)
State = CopilotMonth.State


def send_collect(organization_id: int, countdown: float = 0) -> None:
    from copilot.collection.tasks import collect_copilot

    options: dict[str, Any] = {"countdown": countdown}
    if settings.COPILOT_QUEUE:
        options["queue"] = settings.COPILOT_QUEUE
    collect_copilot.apply_async((organization_id,), **options)


def org_has_copilot_usage(*, organization_id: int, period: date) -> bool:
    end = periods.add_months(period, 1)
    return DailyUsage.objects.filter(
        organization_id=organization_id, date__gte=period, date__lt=end, sku__in=METERED_SKUS
    ).exists()


def copilot_month_enqueue(*, organization: Organization, period: date) -> CopilotMonth:
    """Queue the month (again); the task is sent once the transaction commits."""
    period = periods.month_start(period)
    month, created = CopilotMonth.objects.get_or_create(
        organization=organization, period=period, defaults={"endpoint": endpoint_for(period)}
    )
    if not created and month.state not in (State.QUEUED, State.RUNNING):
        CopilotMonth.objects.filter(pk=month.pk).exclude(state=State.RUNNING).update(
            state=State.QUEUED, not_before=None, attempts=0, error=""
        )
    transaction.on_commit(lambda: send_collect(organization.pk))
    return month


def after_usage_month(
    sender: Any = None, *, organization_id: int, period: date, **kwargs: Any
) -> None:
    """Receiver of `usage.signals.month_collected`."""
    if not org_has_copilot_usage(organization_id=organization_id, period=period):
        return
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is not None:
        copilot_month_enqueue(organization=organization, period=period)
