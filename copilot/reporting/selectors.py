"""Every read of the Copilot page, CSV and API (taking the organization).

Sources: money and quantity by day are usage's own Copilot lines (`DailyUsage`, SKUs in
`copilot.quotas.METERED_SKUS`): exact, every day, both eras. By model: GitHub's
premium-request / AI-credit endpoints per month (`CopilotModelMonth`). By user: an
imported report's rows where the month has them, else the per-user calls
(`CopilotUserTotal`, written with them). Model and user figures are monthly: a range is
widened to whole months for them (`month_span`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Max, Q, Sum
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone

from accounts.models import Organization
from copilot.models import (
    CopilotModelMonth,
    CopilotMonth,
    CopilotOrgState,
    CopilotSeat,
    CopilotUserTotal,
)
from copilot.quotas import METERED_SKUS
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
    return periods.month_start(start), periods.month_end(end)


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


def models_of(rows: list[dict[str, Any]]) -> list[Group]:
    """`model_months` rows summed per model and unit, with the cost per unit."""
    groups: dict[tuple[str, str], Group] = {}
    for r in rows:
        key = (r["model"], r["unit_type"])
        groups.setdefault(key, Group(*key)).add(r)
    for g in groups.values():
        g.extra["gross_per_unit"] = g.gross_amount / g.quantity if g.quantity else None
        g.extra["net_per_unit"] = g.net_amount / g.quantity if g.quantity else None
    return sorted(groups.values(), key=lambda g: (-g.gross_amount, g.key, g.unit_type))


def by_model(organization: Organization, start: date, end: date) -> list[Group]:
    return models_of(model_months(organization, start, end))


def _user_sums(organization: Organization, first: date, last: date) -> dict[tuple, list]:
    """(login, unit) -> [quantity, gross, discount, net] over the months first..last
    (`CopilotUserTotal`: an imported report where the month has one, else the calls)."""
    sums = {f"s_{n}": Sum(n) for n in SUMS}
    rows = (
        CopilotUserTotal.objects.filter(
            organization=organization, period__gte=first, period__lte=last
        )
        .values("login", "unit_type")
        .annotate(**sums)
        .order_by()
        .values_list("login", "unit_type", *sums)
    )
    return {(login, unit): list(values) for login, unit, *values in rows}


def by_user(organization: Organization, start: date, end: date) -> list[Group]:
    first, _ = month_span(start, end)
    groups = [
        Group(login, unit, *sums)
        for (login, unit), sums in _user_sums(organization, first, end).items()
    ]
    return sorted(groups, key=lambda g: (-g.gross_amount, g.key, g.unit_type))


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
@dataclass
class QuotaView:
    """A month's users against their included quota: counts over everyone, the top
    users by value of use, and those near their quota (projected), as dicts."""

    users: int = 0
    over: int = 0
    top: list[dict[str, Any]] = field(default_factory=list)
    near: list[dict[str, Any]] = field(default_factory=list)
    near_count: int = 0


def quota_view(organization: Organization, period: date, today: date, listed: int) -> QuotaView:
    """Counted and sorted in the database (a month of 5,000 users is 5,000 rows of
    `CopilotUserTotal`); only the listed rows come to Python."""
    last = periods.month_end(period)
    days = last.day
    elapsed = days if today > last else max(1, (today - period).days + 1)
    month = CopilotUserTotal.objects.filter(organization=organization, period=period)
    # Near: not over yet, and at this pace at least NEAR_SHARE of the quota by the end.
    near_q = Q(over=False, quota__gt=0) & Q(
        GreaterThanOrEqual(F("quantity") * days, F("quota") * (NEAR_SHARE * elapsed))
    )
    counts = month.aggregate(
        n_users=Count("pk"),
        n_over=Count("pk", filter=Q(over=True)),
        n_near=Count("pk", filter=near_q),
    )
    near = month.filter(near_q).annotate(pace=F("quantity") / F("quota"))

    def row(u: CopilotUserTotal) -> dict[str, Any]:
        projected = u.quantity * days / elapsed
        return {
            "login": u.login,
            "unit_type": u.unit_type,
            "quantity": u.quantity,
            "gross_amount": u.gross_amount,
            "net_amount": u.net_amount,
            "quota": u.quota,
            "share": u.quantity / u.quota if u.quota else ZERO,
            "projected": projected,
            "projected_share": projected / u.quota if u.quota else ZERO,
            "over": u.over,
        }

    return QuotaView(
        users=counts["n_users"],
        over=counts["n_over"],
        top=[row(u) for u in month.order_by("-gross_amount", "login")[:listed]],
        near=[row(u) for u in near.order_by("-pace", "login")[:listed]] if counts["n_near"] else [],
        near_count=counts["n_near"],
    )


# -- seats, state ------------------------------------------------------------------------------
def idle_seats(organization: Organization, listed: int = 20) -> dict[str, Any]:
    """Seats without activity in `IDLE_DAYS` days: how many, their monthly cost at list
    price, and the first `listed` of them (longest idle first)."""
    cutoff = timezone.now() - timedelta(days=IDLE_DAYS)
    seats = CopilotSeat.objects.filter(organization=organization)
    idle = Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=cutoff)
    enterprise = Q(plan_type="enterprise")
    counts = seats.aggregate(
        total=Count("pk"),
        idle=Count("pk", filter=idle),
        idle_enterprise=Count("pk", filter=idle & enterprise),
    )
    cost = (counts["idle"] - counts["idle_enterprise"]) * SEAT_PRICE["business"] + counts[
        "idle_enterprise"
    ] * SEAT_PRICE["enterprise"]
    listed_seats = list(
        seats.filter(idle)
        .order_by(F("last_activity_at").asc(nulls_first=True), "login")
        .values("login", "plan_type", "last_activity_at")[:listed]
    )
    return {
        "total": counts["total"],
        "idle_count": counts["idle"],
        "idle": listed_seats,
        "monthly_cost": cost,
    }


def org_copilot_state(organization: Organization) -> dict[str, Any]:
    months = CopilotMonth.objects.filter(organization=organization)
    failed = CopilotMonth.State.FAILED
    summary = months.aggregate(last=Max("collected_at"), failed=Count("pk", filter=Q(state=failed)))
    return {
        "state": CopilotOrgState.objects.filter(pk=organization.pk).first(),
        "last_collected_at": summary["last"],
        "months_failed": list(months.filter(state=failed).order_by("-period")[:3])
        if summary["failed"]
        else [],
    }
