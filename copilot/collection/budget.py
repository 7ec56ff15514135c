"""The per-organization, per-UTC-day budget of per-user Copilot calls.

Each call with GitHub's ``user`` filter (one user, one month) first claims one unit with
a compare-and-swap update, so concurrent workers never spend more than the budget.
Staff see and set `CopilotOrgState.user_calls_per_day` in the admin.
"""

from __future__ import annotations

from django.db.models import F

from accounts.models import Organization
from copilot.models import CopilotOrgState
from usage import periods


def org_state(organization: Organization) -> CopilotOrgState:
    state, _ = CopilotOrgState.objects.get_or_create(organization=organization)
    return state


def budget_claim(*, organization: Organization) -> bool:
    """Claim one per-user call for today; False when today's budget is spent."""
    today = periods.today()
    org_state(organization)
    CopilotOrgState.objects.filter(pk=organization.pk).exclude(calls_day=today).update(
        calls_day=today, calls_used=0
    )
    claimed = CopilotOrgState.objects.filter(
        pk=organization.pk, calls_day=today, calls_used__lt=F("user_calls_per_day")
    ).update(calls_used=F("calls_used") + 1)
    return claimed == 1


def budget_left(*, organization: Organization) -> int:
    state = org_state(organization)
    if state.calls_day != periods.today():
        return state.user_calls_per_day
    return max(0, state.user_calls_per_day - state.calls_used)
