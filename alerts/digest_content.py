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
from usage.models import CollectionRun, DailyUsage
from usage.periods import month_end
from usage.reporting.budget_lines import budget_lines
from usage.reporting.filters import Filters
from usage.reporting.formatting import money
from usage.reporting.reports import headline

from . import words
from .dimensions import Subject, get_dimension
from .evaluate import dashboard_url
from .messages import Message
from .models import Digest, FiredAlert

ZERO = Decimal(0)
TOP = 3
MOVER_DIMENSIONS = (("sku", "SKUs"), ("repository", "Repositories"), ("user", "Users"))


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
            lines.append(f"{plural} up the most: {items}.")
        if down:
            items = ", ".join(f"{s.words()} {_signed(c)} (now {money(v)})" for s, c, v in down)
            lines.append(f"{plural} down the most: {items}.")
    return lines


def collected_months(organization: Organization) -> set[date]:
    """The months of the organization that were collected at least once."""
    runs = CollectionRun.objects.filter(
        organization=organization, state=CollectionRun.State.SUCCEEDED
    )
    return set(runs.values_list("period", flat=True).distinct())


def months_of(span: Span) -> list[date]:
    return periods.months_between(span.start, span.end)


def _projection_lines(
    organization: Organization, today: date, collected: set[date]
) -> tuple[list[str], str]:
    month = periods.month_start(today)
    head = headline(organization, Filters(range="this_month", start=month, end=today), today)
    if month not in collected:
        return [f"{words.month(month)} is not collected yet."], "—"
    if head.projection is None:
        return [f"No usage recorded in {words.month(month)} yet."], "—"
    last = ""
    if head.previous_month in collected:
        last = f" (last month {money(head.last_month_net)})"
    lines = [
        f"{words.month(month)} so far: {money(head.mtd.net_amount)} in {head.days_elapsed} "
        f"days; projected {money(head.projection)} by {words.day(month_end(month))}{last}."
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


def _alert_lines(organization: Organization, span: Span, unit: str) -> tuple[list[str], int]:
    alerts = FiredAlert.objects.filter(
        organization=organization, fired_at__date__gte=span.start, fired_at__date__lte=span.end
    ).order_by("fired_at")
    count = alerts.count()
    if not count:
        return [f"No alert fired this {unit}."], 0
    listed = " ".join(a.message for a in alerts[:5])
    more = f" The {count - 5} others are on the alerts page." if count > 5 else ""
    return [f"Alerts this {unit}: {count}. {listed}{more}"], count


def digest_message(
    organization: Organization, kind: str, span: Span, *, today: date | None = None
) -> Message:
    """The digest of `span` (a Monday-to-Sunday week, or a month). Months billingdash has
    not collected are said to be missing, never totalled as $0."""
    today = today or periods.today()
    login = organization.login
    before = previous_span(kind, span)
    collected = collected_months(organization)
    unit = "month" if kind == Digest.Kind.MONTHLY else "week"
    if kind == Digest.Kind.MONTHLY:
        when = words.month(span.start)
    else:
        when = f"{words.day(span.start)} to {words.day_year(span.end)}"
    missing = [m for m in months_of(span) if m not in collected]
    facts: list[tuple[str, str]] = []
    if missing:
        names = " and ".join(words.month(m) for m in missing)
        title = f"{unit.capitalize()}ly digest for {login}: {when} is not collected yet"
        paragraphs = [
            f"billingdash has not collected {names} of {login} yet, so this digest cannot "
            f"total {when}. The dashboard shows what is collected."
        ]
    else:
        total = _total(organization, span)
        title = f"{unit.capitalize()}ly digest for {login}: {money(total)}, {when}"
        sentence = (
            f"{login} spent {money(total)} net from {words.day_year(span.start)} to "
            f"{words.day_year(span.end)}"
        )
        facts.append(("Spent", money(total)))
        if all(m in collected for m in months_of(before)):
            earlier = _total(organization, before)
            sentence += f", {words.change(total, earlier, f'the {unit} before')}."
            paragraphs = [sentence, *_mover_lines(organization, span, before)]
            facts.append((f"The {unit} before", money(earlier)))
        else:
            paragraphs = [
                f"{sentence}; the {unit} before is not collected, so nothing is compared."
            ]
    projection, projected = _projection_lines(organization, today, collected)
    alert_lines, count = _alert_lines(organization, span, unit)
    facts += [("Projected this month", projected), ("Alerts", str(count))]
    url = dashboard_url(
        organization, range="custom", start=span.start.isoformat(), end=span.end.isoformat()
    )
    return Message(
        event=f"digest.{kind}",
        organization=login,
        title=title,
        text="\n\n".join([*paragraphs, *projection, *alert_lines]),
        facts=tuple(facts),
        url=url,
    )
