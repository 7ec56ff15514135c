"""`CopilotUserTotal`, the per-user month the page reads, written with the data it sums:
after a per-user call (that user), after a report import (the months it touches) and
after a seat list that changes plans. A month with imported report rows takes them;
otherwise the per-user calls. The included quota: the report's `total_monthly_quota`
(premium-request months), else the seat's plan (`copilot.quotas.user_quota`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Max, Q, Sum

from accounts.models import Organization
from copilot.models import CopilotReportRow, CopilotSeat, CopilotUserMonth, CopilotUserTotal
from copilot.quotas import AI_CREDITS_START, user_quota

SUMS = ("quantity", "gross_amount", "discount_amount", "net_amount")
ZERO = Decimal(0)


def _rows(organization: Organization, period: date, logins: list[str] | None):
    reports = CopilotReportRow.objects.filter(organization=organization, period=period)
    source = CopilotUserTotal.Source.REPORT if reports.exists() else CopilotUserTotal.Source.API
    qs = (
        reports
        if source == CopilotUserTotal.Source.REPORT
        else CopilotUserMonth.objects.filter(organization=organization, period=period)
    )
    if logins is not None:
        qs = qs.filter(login__in=logins)
    annotations = {n: Sum(n) for n in SUMS}
    if source == CopilotUserTotal.Source.REPORT:
        annotations.update(
            quota=Max("total_monthly_quota"), exceeds=Count("pk", filter=Q(exceeds_quota=True))
        )
    return source, qs.exclude(login="").values("login", "unit_type").annotate(
        **annotations
    ).order_by()


def user_totals_write(
    *, organization: Organization, period: date, logins: list[str] | None = None
) -> int:
    """Rewrite the month's totals (of `logins`, or everyone); answers the rows written."""
    source, rows = _rows(organization, period, logins)
    seats = CopilotSeat.objects.filter(organization=organization)
    if logins is not None:
        seats = seats.filter(login__in=logins)
    plans = dict(seats.values_list("login", "plan_type"))
    premium = period < AI_CREDITS_START
    out = []
    for r in rows:
        quota = Decimal(user_quota(period, plans.get(r["login"])))
        if premium and r.get("quota"):
            quota = Decimal(r["quota"])
        q = r["quantity"] or ZERO
        out.append(
            CopilotUserTotal(
                organization=organization,
                period=period,
                login=r["login"],
                unit_type=r["unit_type"],
                quota=quota,
                over=bool(r.get("exceeds")) or q > quota,
                source=source,
                **{n: r[n] or ZERO for n in SUMS},
            )
        )
    with transaction.atomic():
        old = CopilotUserTotal.objects.filter(organization=organization, period=period)
        if logins is not None:
            old = old.filter(login__in=logins)
        old.delete()
        CopilotUserTotal.objects.bulk_create(out, batch_size=5000)
    return len(out)
