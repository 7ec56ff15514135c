"""Every read of the Copilot page, CSV and API (taking the organization).

Sources: money and quantity by day are usage's own Copilot lines (`DailyUsage`, SKUs in
`copilot.quotas.METERED_SKUS`): exact, every day, both eras. By model: GitHub's
premium-request / AI-credit endpoints per month (`CopilotModelMonth`). By user: an
imported report's rows where the month has them, else the per-user calls
(`CopilotUserMonth`). Model and user figures are monthly: a range is widened to whole
months for them (`month_span`).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Max, Q, Sum
from django.utils import timezone

from accounts.models import Organization
from copilot.models import (
    CopilotModelMonth,
    CopilotMonth,
    CopilotOrgState,
    CopilotReportRow,
    CopilotSeat,
    CopilotUserMonth,
)
from copilot.quotas import AI_CREDITS_START, METERED_SKUS, user_quota
from usage import periods
from usage.models import DailyUsage

ZERO = Decimal(0)
SUMS = ("quantity", "gross_amount", "discount_amount", "net_amount")
#: Copilot seat list prices per month (USD), for the cost of idle seats.
SEAT_PRICE = {"business": Decimal(19), "enterprise": Decimal(39)}
IDLE_DAYS = 30
NEAR_SHARE = Decimal("0.8")


@dataclass
class Group:
    key: str
    unit_type: str
    quantity: Decimal = ZERO
    gross_amount: Decimal = ZERO
    discount_amount: Decimal = ZERO
    net_amount: Decimal = ZERO
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, row: dict[str, Any]) -> None:
        for name in SUMS:
            setattr(self, name, getattr(self, name) + (row.get(name) or ZERO))


def month_span(start: date, end: date) -> tuple[date, date]:
    """The whole months covering start..end (first day, last day)."""
    last = periods.month_start(end)
    return periods.month_start(start), last.replace(
        day=calendar.monthrange(last.year, last.month)[1]
    )


def months_between(start: date, end: date) -> list[date]:
    out, month = [], periods.month_start(start)
    while month <= end:
        out.append(month)
        month = periods.add_months(month, 1)
    return out


def _sums(qs, keys: Iterable[str]) -> list[dict[str, Any]]:
    return list(qs.values(*keys).annotate(**{n: Sum(n) for n in SUMS}).order_by(*keys))


def by_day(organization: Organization, start: date, end: date) -> list[Group]:
    rows = _sums(
        DailyUsage.objects.filter(
            organization=organization, date__gte=start, date__lte=end, sku__in=METERED_SKUS
        ),
        ("date", "unit_type"),
    )
    out = []
    for r in rows:
        g = Group(r["date"].isoformat(), r["unit_type"])
        g.add(r)
        out.append(g)
    return out


def model_months(organization: Organization, start: date, end: date) -> list[dict[str, Any]]:
    first, _ = month_span(start, end)
    return _sums(
        CopilotModelMonth.objects.filter(
            organization=organization, period__gte=first, period__lte=end
        ),
        ("period", "model", "unit_type"),
    )


def by_model(organization: Organization, start: date, end: date) -> list[Group]:
    groups: dict[tuple[str, str], Group] = {}
    for r in model_months(organization, start, end):
        key = (r["model"], r["unit_type"])
        groups.setdefault(key, Group(*key)).add(r)
    return sorted(groups.values(), key=lambda g: (-g.gross_amount, g.key, g.unit_type))


def _user_rows(organization: Organization, first: date, last: date) -> list[dict[str, Any]]:
    """Per (period, login, unit): reports where the month has them, else the calls."""
    reported = _sums(
        CopilotReportRow.objects.filter(
            organization=organization, period__gte=first, period__lte=last
        ),
        ("period", "login", "unit_type"),
    )
    report_months = {r["period"] for r in reported}
    called = _sums(
        CopilotUserMonth.objects.filter(
            organization=organization, period__gte=first, period__lte=last
        ).exclude(period__in=report_months),
        ("period", "login", "unit_type"),
    )
    return [r for r in reported + called if r["login"]]


def by_user(organization: Organization, start: date, end: date) -> list[Group]:
    first, _ = month_span(start, end)
    groups: dict[tuple[str, str], Group] = {}
    for r in _user_rows(organization, first, end):
        key = (r["login"], r["unit_type"])
        groups.setdefault(key, Group(*key)).add(r)
    return sorted(groups.values(), key=lambda g: (-g.gross_amount, g.key, g.unit_type))


def groups_for(organization: Organization, start: date, end: date, group_by: str) -> list[Group]:
    return {"day": by_day, "model": by_model, "user": by_user}[group_by](organization, start, end)


def total_of(groups: list[Group]) -> dict[str, Any]:
    quantities: dict[str, Decimal] = defaultdict(Decimal)
    total = Group("", "")
    for g in groups:
        quantities[g.unit_type] += g.quantity
        for name in SUMS[1:]:
            setattr(total, name, getattr(total, name) + getattr(g, name))
    units = sorted(quantities)
    return {
        "quantity": quantities[units[0]] if len(units) == 1 else None,
        "unit_type": units[0] if len(units) == 1 else ("mixed" if units else ""),
        "quantities": dict(quantities),
        "gross_amount": total.gross_amount,
        "discount_amount": total.discount_amount,
        "net_amount": total.net_amount,
    }


# -- quota -----------------------------------------------------------------------------------
def _plans(organization: Organization) -> dict[str, str]:
    return dict(
        CopilotSeat.objects.filter(organization=organization).values_list("login", "plan_type")
    )


def _report_quotas(organization: Organization, period: date) -> dict[str, tuple[int | None, bool]]:
    rows = (
        CopilotReportRow.objects.filter(organization=organization, period=period)
        .values("login")
        .annotate(quota=Max("total_monthly_quota"), exceeds=Max("exceeds_quota"))
    )
    return {r["login"]: (r["quota"], bool(r["exceeds"])) for r in rows}


def quota_table(organization: Organization, period: date, today: date) -> list[dict[str, Any]]:
    """Every user's month: quantity, money, included quota, share, projection, over."""
    last = period.replace(day=calendar.monthrange(period.year, period.month)[1])
    plans = _plans(organization)
    reported = _report_quotas(organization, period) if period < AI_CREDITS_START else {}
    days = last.day
    elapsed = days if today > last else max(1, (today - period).days + 1)
    rows = []
    for g in by_user(organization, period, last):
        quota_from_report, exceeds = reported.get(g.key, (None, False))
        quota = Decimal(quota_from_report or user_quota(period, plans.get(g.key)))
        share = g.quantity / quota if quota else ZERO
        projected = g.quantity * days / elapsed
        rows.append(
            {
                "login": g.key,
                "unit_type": g.unit_type,
                "quantity": g.quantity,
                "gross_amount": g.gross_amount,
                "net_amount": g.net_amount,
                "quota": quota,
                "share": share,
                "projected": projected,
                "projected_share": projected / quota if quota else ZERO,
                "over": exceeds or g.quantity > quota,
            }
        )
    return rows


def near_quota(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Users not over yet whose projection reaches 80 % of their quota."""
    near = [r for r in rows if not r["over"] and r["projected_share"] >= NEAR_SHARE]
    return sorted(near, key=lambda r: -r["projected_share"])


# -- seats, state ------------------------------------------------------------------------------
def idle_seats(organization: Organization, listed: int = 50) -> dict[str, Any]:
    """Seats without activity in `IDLE_DAYS` days: how many, their monthly cost at list
    price, and the first `listed` of them (longest idle first)."""
    cutoff = timezone.now() - timedelta(days=IDLE_DAYS)
    seats = CopilotSeat.objects.filter(organization=organization)
    idle = seats.filter(Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=cutoff))
    by_plan = dict(idle.values("plan_type").annotate(n=Count("pk")).values_list("plan_type", "n"))
    cost = sum(
        (SEAT_PRICE.get(plan, SEAT_PRICE["business"]) * n for plan, n in by_plan.items()), ZERO
    )
    return {
        "total": seats.count(),
        "idle_count": sum(by_plan.values()),
        "idle": list(idle.order_by(F("last_activity_at").asc(nulls_first=True), "login")[:listed]),
        "monthly_cost": cost,
    }


def org_copilot_state(organization: Organization) -> dict[str, Any]:
    state = CopilotOrgState.objects.filter(pk=organization.pk).first()
    months = CopilotMonth.objects.filter(organization=organization)
    return {
        "state": state,
        "months_collected": months.filter(state=CopilotMonth.State.SUCCEEDED).count(),
        "months_failed": list(
            months.filter(state=CopilotMonth.State.FAILED).order_by("-period")[:3]
        ),
        "last_collected_at": months.aggregate(m=Max("collected_at"))["m"],
        "has_report": CopilotReportRow.objects.filter(organization=organization).exists(),
        "has_users": CopilotUserMonth.objects.filter(organization=organization).exists(),
    }
