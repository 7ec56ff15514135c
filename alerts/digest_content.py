"""What a digest says: the period's total and its change against the period before, the
top movers up and down (SKUs, repositories, users once collected), this month's
projection against the budgets, the alerts of the period and a link to the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Sum

from accounts.models import Organization
from usage import periods
from usage.models import DailyUsage
from usage.reporting.budget_lines import budget_lines
from usage.reporting.filters import Filters, month_end
from usage.reporting.formatting import money
from usage.reporting.reports import headline

from . import words
from .dimensions import Subject, get_dimension
from .evaluate import dashboard_url
from .messages import Message
from .models import Digest, FiredAlert

ZERO = Decimal(0)
TOP = 3
MOVER_DIMENSIONS = (("sku", "SKUs"), ("repository", "repositories"), ("user", "users"))


@dataclass(frozen=True)
class Span:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def previous_span(kind: str, span: Span) -> Span:
    if kind == Digest.Kind.MONTHLY:
        start = periods.add_months(span.start, -1)
        return Span(start, month_end(start))
    return Span(span.start - timedelta(days=7), span.end - timedelta(days=7))


def _total(organization: Organization, span: Span) -> Decimal:
    rows = DailyUsage.objects.filter(
        organization=organization, date__gte=span.start, date__lte=span.end
    )
    return rows.aggregate(s=Sum("net_amount"))["s"] or ZERO


def movers(
    current: dict[Subject, Decimal], before: dict[Subject, Decimal], top: int = TOP
) -> tuple[list[tuple[Subject, Decimal, Decimal]], list[tuple[Subject, Decimal, Decimal]]]:
    """(subject, change, now) of the largest increases and of the largest decreases."""
    changes = [
        (s, current.get(s, ZERO) - before.get(s, ZERO), current.get(s, ZERO))
        for s in set(current) | set(before)
    ]
    up = sorted((c for c in changes if c[1] > 0), key=lambda c: (-c[1], c[0]))[:top]
    down = sorted((c for c in changes if c[1] < 0), key=lambda c: (c[1], c[0]))[:top]
    return up, down


def _signed(value: Decimal) -> str:
    return f"+{money(value)}" if value > 0 else f"−{money(-value)}"


def _mover_lines(organization: Organization, span: Span, before: Span) -> list[str]:
    lines = []
    for name, plural in MOVER_DIMENSIONS:
        dimension = get_dimension(name)
        if dimension is None:
            continue
        now = dimension.totals(organization, span.start, span.end)
        then = dimension.totals(organization, before.start, before.end)
        up, down = movers(now, then)
        if up:
            items = ", ".join(f"{s.words()} {_signed(c)} (now {money(v)})" for s, c, v in up)
            lines.append(f"{plural.capitalize()} up the most: {items}.")
        if down:
            items = ", ".join(f"{s.words()} {_signed(c)} (now {money(v)})" for s, c, v in down)
            lines.append(f"{plural.capitalize()} down the most: {items}.")
    return lines


def _projection_lines(organization: Organization, today: date) -> tuple[list[str], str]:
    month = periods.month_start(today)
    head = headline(organization, Filters(range="this_month", start=month, end=today), today)
    if head.projection is None:
        return [f"No usage recorded in {words.month(month)} yet."], "—"
    lines = [
        f"{words.month(month)} so far: {money(head.mtd.net_amount)} in {head.days_elapsed} "
        f"days; projected {money(head.projection)} by {words.day(month_end(month))} "
        f"(last month {money(head.last_month_net)})."
    ]
    for line in budget_lines(organization, head):
        if line.projection is None or not line.budget.budget_amount:
            continue
        share = line.projection / line.budget.budget_amount * 100
        verdict = "over" if share > 100 else "within"
        lines.append(
            f"Budget {line.label} {money(line.budget.budget_amount)}: projected "
            f"{money(line.projection)} ({words.percent(share)}, {verdict})."
        )
    return lines, money(head.projection)


def digest_message(
    organization: Organization, kind: str, span: Span, *, today: date | None = None
) -> Message:
    """The digest of `span` (a Monday-to-Sunday week, or a month)."""
    today = today or periods.today()
    login = organization.login
    before = previous_span(kind, span)
    total, earlier = _total(organization, span), _total(organization, before)
    if kind == Digest.Kind.MONTHLY:
        when, unit = words.month(span.start), "month"
        title = f"Monthly digest for {login}: {money(total)} in {when}"
    else:
        when = f"{words.day(span.start)} to {words.day_year(span.end)}"
        unit = "week"
        title = f"Weekly digest for {login}: {money(total)} from {when}"
    paragraphs = [
        f"{login} spent {money(total)} net from {words.day_year(span.start)} to "
        f"{words.day_year(span.end)}, {words.change(total, earlier)} the {unit} before."
    ]
    paragraphs += _mover_lines(organization, span, before)
    projection_lines, projected = _projection_lines(organization, today)
    paragraphs += projection_lines
    alerts = list(
        FiredAlert.objects.filter(
            organization=organization,
            fired_at__date__gte=span.start,
            fired_at__date__lte=span.end,
        ).order_by("fired_at")[:20]
    )
    if alerts:
        listed = "; ".join(a.message for a in alerts[:5])
        more = f" (and {len(alerts) - 5} more)" if len(alerts) > 5 else ""
        paragraphs.append(f"Alerts this {unit}: {len(alerts)}{more}. {listed}")
    else:
        paragraphs.append(f"No alert fired this {unit}.")
    url = dashboard_url(
        organization, range="custom", start=span.start.isoformat(), end=span.end.isoformat()
    )
    return Message(
        event=f"digest.{kind}",
        organization=login,
        title=title,
        text="\n\n".join(paragraphs),
        facts=(
            ("Spent", money(total)),
            (f"The {unit} before", money(earlier)),
            ("Projected this month", projected),
            ("Alerts", str(len(alerts))),
        ),
        url=url,
    )
