"""The Copilot page (`/orgs/<login>/copilot/`): owners and billing managers only (the
access helper answers 404 to everyone else, so logins of Copilot users never reach a
member). Filters in the URL as on the dashboard (range, start, end; `top` for the
number of users listed)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.roles.access import get_org_for_billing, org_access
from copilot.collection.budget import budget_left
from copilot.quotas import AI_CREDITS_START
from copilot.reporting.charts import daily_chart, model_month_chart, switch_note
from copilot.reporting.selectors import (
    by_day,
    by_model,
    idle_seats,
    model_months,
    month_span,
    org_copilot_state,
    quota_view,
)
from usage import periods
from usage.reporting.annotations import org_links
from usage.reporting.filters import RANGES, parse

TOP_DEFAULT = 20
TOP_MAX = 500
SEAT_PERMISSION = "organization_copilot_seat_management"


def _top(request: HttpRequest, errors: list[str]) -> int:
    text = request.GET.get("top", "")
    if not text:
        return TOP_DEFAULT
    if text.isdigit() and 1 <= int(text) <= TOP_MAX:
        return int(text)
    errors.append(f"top must be a number from 1 to {TOP_MAX}; showing {TOP_DEFAULT}")
    return TOP_DEFAULT


@never_cache
@login_required
@require_GET
def org_copilot(request: HttpRequest, login: str) -> HttpResponse:
    organization = get_org_for_billing(user=request.user, login=login)
    filters, errors = parse(request.GET)
    top = _top(request, errors)
    today = periods.today()
    start, end = filters.start, filters.end
    m_start, m_end = month_span(start, end)
    quota_month = periods.month_start(min(end, today))
    quota = quota_view(organization, quota_month, today, top)
    is_current = quota_month == periods.current_month()
    models = by_model(organization, start, end)
    for g in models:
        g.extra["gross_per_unit"] = g.gross_amount / g.quantity if g.quantity else None
        g.extra["net_per_unit"] = g.net_amount / g.quantity if g.quantity else None
    query = urlencode(filters.params())
    context: dict[str, Any] = {
        "organization": organization,
        "access": org_access(user=request.user, organization=organization),
        "filters": filters,
        "filter_errors": errors,
        "ranges": RANGES,
        "today": today,
        "top": top,
        "month_start": m_start,
        "month_end": m_end,
        "charts": [
            daily_chart(by_day(organization, start, end), start, end),
            model_month_chart(model_months(organization, start, end), m_start, m_end),
        ],
        "switch_note": switch_note(start, end),
        "models": models,
        "quota_month": quota_month,
        "ai_start": AI_CREDITS_START,
        "top_users": quota.top,
        "users_count": quota.users,
        "over_count": quota.over,
        "near": quota.near if is_current else [],
        "near_count": quota.near_count if is_current else 0,
        "is_current": is_current,
        "seats": idle_seats(organization),
        "status": org_copilot_state(organization),
        "budget_left": budget_left(organization=organization),
        "seat_permission": SEAT_PERMISSION,
        "dashboard_url": reverse("org_dashboard", args=[organization.login]),
        "api_url": reverse("api_org_copilot", args=[organization.login]),
        "csv_urls": {
            g: reverse("org_copilot_csv", args=[organization.login])
            + "?"
            + urlencode({**filters.params(), "group_by": g})
            for g in ("day", "model", "user")
        },
        "query": query,
        "org_links": org_links([organization.pk]).get(organization.pk, []),
    }
    return render(request, "copilot/page.html", context)
