"""The worker side of Copilot collection, under the org's Copilot lease
(`usage.collection.locks` with `CopilotLock`, so usage's own collection never waits
for it):

1. the due months, newest first: one call to ``premium_request/usage`` (months before
   June 2026) or ``ai_credit/usage`` (from June 2026) per month, the month's rows
   replaced in one transaction (fenced by the lease), as usage replaces its months;
2. then per-user figures (`copilot.collection.users`), within the org's daily budget.

Errors as in usage (`usage.collection.collect`): a rate limit puts the month back with
``not_before`` and the task re-sends itself with that countdown; 5xx and network errors
are retried ``COLLECTION_MAX_ATTEMPTS`` times with full-jitter backoff; GitHub's refusals
and malformed data fail the month and keep its previous rows. Error texts never carry a
user's login (the client names paths only).
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Organization
from billingdash import github
from billingdash.github.copilot import get_copilot_usage
from billingdash.logging import redact
from copilot.collection.rows import usage_fields
from copilot.collection.users import users_collect
from copilot.models import CopilotLock, CopilotModelMonth, CopilotMonth
from usage.collection.collect import backoff_seconds, max_countdown
from usage.collection.locks import (
    LeaseKeeper,
    LeaseLost,
    lease_acquire,
    lease_confirm,
    lease_release,
)
from usage.collection.selectors import installation_for_collection

log = logging.getLogger(__name__)
State = CopilotMonth.State


@dataclass
class CollectResult:
    months: int = 0
    user_calls: int = 0
    busy: bool = False
    retry_in: float | None = None


def _due(organization_id: int):
    return CopilotMonth.objects.filter(
        organization_id=organization_id, state__in=(State.QUEUED, State.RUNNING)
    ).filter(Q(not_before__isnull=True) | Q(not_before__lte=timezone.now()))


def _finish(month: CopilotMonth, state: str, error: str = "", **fields) -> None:
    CopilotMonth.objects.filter(pk=month.pk).update(
        state=state, error=redact(error)[:2000], **fields
    )


def _requeue(month: CopilotMonth, wait: float, error: str, **fields) -> None:
    CopilotMonth.objects.filter(pk=month.pk).update(
        state=State.QUEUED,
        not_before=timezone.now() + timedelta(seconds=wait),
        error=redact(error)[:2000],
        **fields,
    )


def month_collect(*, month: CopilotMonth, keeper: LeaseKeeper) -> float | None:
    """One attempt at one month; answers the seconds to wait before the next attempt
    (None: done, whatever the outcome)."""
    claimed = CopilotMonth.objects.filter(
        pk=month.pk, state__in=(State.QUEUED, State.RUNNING)
    ).update(state=State.RUNNING, not_before=None, attempts=F("attempts") + 1)
    if not claimed:
        return None
    month.refresh_from_db()
    org = Organization.objects.get(pk=month.organization_id)
    installation = installation_for_collection(org)
    if org.collection_paused or installation is None:
        _finish(month, State.FAILED, "no active installation of the App can read this billing")
        return None
    with github.track_calls() as stats:
        try:
            token = github.installation_token(installation.installation_id)
            items = get_copilot_usage(
                token,
                org.login,
                endpoint=month.endpoint,
                year=month.period.year,
                month=month.period.month,
            )
            rows = [
                CopilotModelMonth(organization_id=org.pk, period=month.period, **usage_fields(i))
                for i in items
            ]
            with transaction.atomic():
                keeper.check()
                lease_confirm(organization_id=org.pk, holder=keeper.holder, model=CopilotLock)
                CopilotModelMonth.objects.filter(organization=org, period=month.period).delete()
                CopilotModelMonth.objects.bulk_create(rows)
                _finish(
                    month,
                    State.SUCCEEDED,
                    collected_at=timezone.now(),
                    api_calls=F("api_calls") + stats.calls,
                )
            return None
        except github.RateLimited as exc:
            wait = min(max_countdown(), exc.retry_after + random.uniform(0, 3))
            _requeue(
                month,
                wait,
                f"{exc.kind} rate limit of GitHub; next attempt after {exc.reset_at:%H:%M:%S} UTC",
                attempts=F("attempts") - 1,
                api_calls=F("api_calls") + stats.calls,
            )
            return wait
        except (github.ServerError, github.NetworkError) as exc:
            if month.attempts < settings.COLLECTION_MAX_ATTEMPTS:
                wait = backoff_seconds(month.attempts)
                _requeue(month, wait, f"attempt {month.attempts} failed: {exc}")
                return wait
            _finish(month, State.FAILED, f"gave up after {month.attempts} attempts: {exc}")
        except github.GitHubError as exc:
            _finish(month, State.FAILED, f"GitHub refused the Copilot usage ({exc.status}): {exc}")
    return None


def org_copilot_collect(*, organization_id: int, holder: str) -> CollectResult:
    result = CollectResult()
    if not Organization.objects.filter(pk=organization_id).exists():
        return result  # deleted since the task was sent
    if not lease_acquire(organization_id=organization_id, holder=holder, model=CopilotLock):
        result.busy = True
        return result
    deadline = time.monotonic() + settings.COPILOT_TASK_BUDGET_SECONDS
    try:
        with LeaseKeeper(organization_id=organization_id, holder=holder, model=CopilotLock) as k:
            while month := _due(organization_id).order_by("-period", "pk").first():
                wait = month_collect(month=month, keeper=k)
                result.months += 1
                if wait is not None:
                    result.retry_in = wait
                    return result
                if time.monotonic() > deadline:
                    result.retry_in = 0
                    return result
            org = Organization.objects.get(pk=organization_id)
            users = users_collect(organization=org, keeper=k, deadline=deadline)
            result.user_calls = users.calls
            result.retry_in = users.retry_in
    except LeaseLost:
        log.warning("lost the Copilot lease of org %s; its new holder carries on", organization_id)
    finally:
        lease_release(organization_id=organization_id, holder=holder, model=CopilotLock)
    return result
