"""The Copilot page (`/orgs/<login>/copilot/`): owners and billing managers only (the
access helper answers 404 to everyone else, so logins of Copilot users never reach a
member). Filters in the URL as on the dashboard (range, start, end; `top` for the
number of users listed)."""

from __future__ import annotations

from decimal import Decimal
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
    idle_seats,
    model_months,
    models_of,
    month_span,
    org_copilot_state,
    quota_view,
)
from usage import periods
from usage.reporting.annotations import org_links
from usage.reporting.filters import RANGES, parse
from usage.reporting.formatting import money, number

ROUND = Decimal("0.01")
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


def _user_row(r: dict[str, Any]) -> dict[str, Any]:
    """Display texts of a user's row (formatted here: cheaper than template filters)."""
    return {
        **r,
        "quantity_text": number(r["quantity"].quantize(ROUND)),
        "gross_text": money(r["gross_amount"]),
        "net_text": money(r["net_amount"]),
        "quota_text": f"{r['quota']:,.0f}",
        "share_text": f"{r['share'] * 100:,.0f} %",
        "projected_text": f"{r['projected']:,.0f}",
        "projected_share_text": f"{r['projected_share'] * 100:,.0f} %",
    }


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
    months = model_months(organization, start, end)
    models = models_of(months)
    for g in models:
        per_gross, per_net = g.extra["gross_per_unit"], g.extra["net_per_unit"]
        g.extra.update(
            quantity_text=number(g.quantity.quantize(ROUND)),
            gross_text=money(g.gross_amount),
            net_text=money(g.net_amount),
            gross_per_unit_text=f"${per_gross:,.4f}" if per_gross is not None else "",
            net_per_unit_text=f"${per_net:,.4f}" if per_net is not None else "",
        )
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
        "month_end": min(m_end, today),  # never a day that has not happened
        "charts": [
            daily_chart(by_day(organization, start, end), start, end),
            model_month_chart(months, m_start, m_end),
        ],
        "switch_note": switch_note(start, end),
        "models": models,
        "quota_month": quota_month,
        "ai_start": AI_CREDITS_START,
        "top_users": [_user_row(r) for r in quota.top],
        "users_count": quota.users,
        "over_count": quota.over,
        "near": [_user_row(r) for r in quota.near] if is_current else [],
        "near_count": quota.near_count if is_current else 0,
        "is_current": is_current,
        "seats": idle_seats(organization, top),
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
