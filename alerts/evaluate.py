"""What each kind of rule finds in an organization's data: `Firing`s (an alert to fire,
with its reason in words), computed from usage's rollups and reports. Reads only;
`alerts.firing` fires them once.

Budgets and projections read the month the way the dashboard does
(`usage.reporting.reports.headline`, `budget_lines`): month to date, and the projection
at the month's daily run rate. Anomalies and new spend look at the last `LOOKBACK_DAYS`
days up to today.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Min, Sum
from django.urls import reverse

from accounts.models import Organization
from usage import periods
from usage.models import DailyUsage
from usage.periods import month_end
from usage.reporting.budget_lines import budget_lines
from usage.reporting.filters import Filters
from usage.reporting.formatting import money
from usage.reporting.reports import Headline, headline, projection_of
from usage.reporting.status import org_status
from usage.vocabulary import product_label, sku_label

from . import words
from .anomaly import baseline, is_anomalous, weekday_samples
from .dimensions import Subject, get_dimension
from .models import Rule

LOOKBACK_DAYS = 7  # anomalies and new spend: days up to today that are looked at
NEW_SPEND_HISTORY_DAYS = 28  # "never before" needs at least this much earlier data


@dataclass(frozen=True)
class Firing:
    period: date
    key: str
    title: str
    message: str  # the reason, in words
    severity: str = "warning"
    facts: tuple[tuple[str, str], ...] = ()
    data: dict[str, Any] = field(default_factory=dict)
    url: str = ""
    # Budget thresholds: a higher level fired for the same `group` (one budget or limit)
    # covers the lower ones, so a jump past 50, 75 and 90 % sends one alert, not three.
    level: int | None = None
    group: str = ""


def dashboard_url(organization: Organization, **params: str) -> str:
    url = settings.SITE_URL + reverse("org_dashboard", args=[organization.login])
    query = {k: v for k, v in params.items() if v}
    return f"{url}?{urlencode(query)}" if query else url


SCOPE_NAMES = {"product": "Product", "sku": "SKU", "repository": "Repository", "user": "User"}


def scope_label(organization: Organization, scope: str, target: str) -> str:
    """ "SKU Actions Linux", "Repository acme/api", or the organization's login."""
    if scope in SCOPE_NAMES and target:
        return f"{SCOPE_NAMES[scope]} {target_label(scope, target)}"
    return organization.login


def target_label(scope: str, target: str) -> str:
    """A stored target as people read it ("actions_linux" -> "Actions Linux")."""
    return {"product": product_label, "sku": sku_label}.get(scope, str)(target)


def _reference_day(month: date, today: date) -> date:
    """The day a month is read at: today for this month, its last day for earlier ones."""
    return today if month == periods.month_start(today) else month_end(month)


def _month_filters(month: date, scope: str = "organization", target: str = "") -> Filters:
    narrow: dict[str, Any] = {}
    if scope in ("product", "sku", "repository"):
        narrow[scope] = target
    return Filters(range="custom", start=month, end=month_end(month), **narrow)


@dataclass
class Measured:
    """Spend of one budget's or limit's scope in a month."""

    label: str
    group: str
    amount: Decimal
    spend: Decimal
    projection: Decimal | None
    head: Headline
    query: dict[str, str] = field(default_factory=dict)  # the dashboard's filters for it

    @property
    def percent(self) -> Decimal:
        return self.spend / self.amount * 100


def _user_spend(organization: Organization, month: date, user: str) -> Decimal:
    dimension = get_dimension("user")
    if dimension is None:
        return Decimal(0)
    totals = dimension.totals(organization, month, month_end(month))
    return sum((v for s, v in totals.items() if s.user == user), Decimal(0))


def measure(
    organization: Organization, params: dict[str, Any], month: date, today: date
) -> Iterator[Measured]:
    """Each budget or limit the parameters name, with its scope's spend in `month`."""
    day = _reference_day(month, today)
    if "budget" in params:
        head = headline(organization, _month_filters(month), day)
        for line in budget_lines(organization, head):
            wanted = params["budget"] in ("github", line.budget.github_id)
            if not wanted or line.spend is None or line.budget.budget_amount <= 0:
                continue
            yield Measured(
                label=f"GitHub budget {line.label}",
                group=f"github:{line.budget.github_id}",
                amount=line.budget.budget_amount,
                spend=line.spend,
                projection=line.projection,
                head=head,
            )
        return
    scope, target = params.get("scope", "organization"), params.get("target", "")
    head = headline(organization, _month_filters(month, scope, target), day)
    spend, projection = head.mtd.net_amount, head.projection
    if scope == "user":
        spend = _user_spend(organization, month, target)
        projection = projection_of(spend, head.days_elapsed, head.days_in_month)
    query = {scope: target} if scope in ("product", "sku", "repository") else {}
    yield Measured(
        label=scope_label(organization, scope, target),
        group="own",
        amount=Decimal(params["amount"]),
        spend=spend,
        projection=projection,
        head=head,
        query=query,
    )


def _range_query(month: date) -> dict[str, str]:
    if month == periods.current_month():
        return {}
    return {"range": "custom", "start": month.isoformat(), "end": month_end(month).isoformat()}


def evaluate_budget(rule: Rule, period: date, today: date) -> list[Firing]:
    found = []
    for m in measure(rule.organization, rule.params, period, today):
        crossed = [t for t in rule.params["thresholds"] if m.percent >= t]
        if not crossed:
            continue
        level = max(crossed)
        text = (
            f"{m.label}: {money(m.spend)} spent in {words.month(period)}, "
            f"{words.percent(m.percent)} of the {money(m.amount)} budget, past the {level}% "
            "threshold."
        )
        if period == periods.month_start(today) and m.projection is not None:
            text += (
                f" At this month's daily rate it reaches {money(m.projection)} by "
                f"{words.day(month_end(period))}."
            )
        found.append(
            Firing(
                period=period,
                key=f"{m.group}@{level}",
                title=f"{level}% of a budget spent",
                message=text,
                severity="critical" if level >= 100 else "warning",
                facts=(
                    ("Spent", money(m.spend)),
                    ("Budget", money(m.amount)),
                    ("Share", words.percent(m.percent)),
                    ("Month", words.month(period)),
                ),
                data={"group": m.group, "level": level},
                url=dashboard_url(rule.organization, **m.query, **_range_query(period)),
                level=level,
                group=m.group,
            )
        )
    return found


def evaluate_projection(rule: Rule, period: date, today: date) -> list[Firing]:
    params, organization = rule.params, rule.organization
    if period != periods.month_start(today):
        return []
    if "over_last_month_percent" in params:
        limit = Decimal(params["over_last_month_percent"])
        scope, target = params.get("scope", "organization"), params.get("target", "")
        head = headline(organization, _month_filters(period, scope, target), today)
        last = head.last_month_net
        if head.days_elapsed < params["min_days"] or head.projection is None or last <= 0:
            return []
        growth = (head.projection - last) / last * 100
        if growth <= limit:
            return []
        what = scope_label(organization, scope, target)
        return [
            Firing(
                period=period,
                key=f"last_month+{params['over_last_month_percent']}",
                title=f"Projected {words.percent(growth)} above last month",
                message=(
                    f"At this month's daily rate, {what} reaches {money(head.projection)} by "
                    f"{words.day(month_end(period))}: {words.percent(growth)} more than last "
                    f"month's {money(last)} ({money(head.mtd.net_amount)} in the first "
                    f"{head.days_elapsed} days)."
                ),
                facts=(
                    ("Projected", money(head.projection)),
                    ("Last month", money(last)),
                    ("So far", money(head.mtd.net_amount)),
                ),
                url=dashboard_url(organization, **({scope: target} if target else {})),
            )
        ]
    found = []
    for m in measure(organization, params, period, today):
        if m.head.days_elapsed < params["min_days"] or m.projection is None:
            continue
        if m.projection < m.amount:
            continue
        share = m.projection / m.amount * 100
        found.append(
            Firing(
                period=period,
                key=m.group,
                title="Projected past a budget",
                message=(
                    f"At this month's daily rate, {m.label} reaches {money(m.projection)} by "
                    f"{words.day(month_end(period))}, {words.percent(share)} of its "
                    f"{money(m.amount)} budget ({money(m.spend)} spent in "
                    f"{m.head.days_elapsed} days)."
                ),
                facts=(
                    ("Projected", money(m.projection)),
                    ("Budget", money(m.amount)),
                    ("So far", money(m.spend)),
                ),
                data={"group": m.group},
                url=dashboard_url(organization, **m.query),
            )
        )
    return found


def first_data_day(organization: Organization) -> date | None:
    return DailyUsage.objects.filter(organization=organization).aggregate(d=Min("date"))["d"]


def _anomaly_url(organization: Organization, subject: Subject, day: date) -> str:
    return dashboard_url(
        organization,
        sku=subject.sku,
        repository=subject.repository,
        range="custom",
        start=(day - timedelta(days=56)).isoformat(),
        end=day.isoformat(),
    )


def evaluate_anomaly(rule: Rule, today: date) -> list[Firing]:
    params, organization = rule.params, rule.organization
    dimension = get_dimension(params["dimension"])
    since = first_data_day(organization)
    if dimension is None or since is None:
        return []
    weeks, sensitivity = params["weeks"], Decimal(params["sensitivity"])
    min_amount = Decimal(params["min_amount"])
    days = [today - timedelta(days=i) for i in range(LOOKBACK_DAYS)]
    start = max(since, min(days) - timedelta(days=7 * weeks))
    found = []
    for subject, series in sorted(dimension.daily(organization, start, today).items()):
        for day in days:
            value = series.get(day, Decimal(0))
            if value < min_amount:
                continue
            base = baseline(weekday_samples(series, day, weeks=weeks, since=since))
            if base is None or not is_anomalous(
                value, base, sensitivity=sensitivity, min_amount=min_amount
            ):
                continue
            weekday = f"{day:%A}"
            usual = words.amount_range(base.low, base.high)
            found.append(
                Firing(
                    period=day,
                    key=subject.key(),
                    title="Unusual spend",
                    message=(
                        f"{subject.words()}: {words.amount(value)} on {words.day(day)}, "
                        f"usual {weekday} {usual}."
                    ),
                    facts=(
                        ("Spend", money(value)),
                        (f"Usual {weekday}", usual),
                        (f"Median of the last {len(base.samples)} {weekday}s", money(base.median)),
                        ("Alert above", money(base.limit(sensitivity))),
                    ),
                    data={"day": day.isoformat(), "amount": str(value), **subject.as_json()},
                    url=_anomaly_url(organization, subject, day),
                )
            )
    return found


def evaluate_new_spend(rule: Rule, today: date) -> list[Firing]:
    organization = rule.organization
    since = first_data_day(organization)
    if since is None:
        return []
    keys = ("product",) if rule.params["dimension"] == "product" else ("product", "sku")
    spending = DailyUsage.objects.filter(organization=organization, net_amount__gt=0).order_by()
    firsts = spending.values(*keys).annotate(first=Min("date"))
    window = today - timedelta(days=LOOKBACK_DAYS - 1)
    found = []
    for row in firsts:
        first = row["first"]
        if first < window or first > today:
            continue
        if (first - since).days < NEW_SPEND_HISTORY_DAYS:
            continue
        name = row.get("sku") or row["product"]
        label = sku_label(name) if row.get("sku") else product_label(name)
        cost = spending.filter(date=first, **{k: row[k] for k in keys}).aggregate(
            s=Sum("net_amount")
        )
        what = "SKU" if "sku" in row else "product"
        found.append(
            Firing(
                period=first,
                key=f"{what.lower()}:{name}"[:300],
                title="New spend",
                message=(
                    f"{label} cost {money(cost['s'])} on {words.day(first)}: the first spend on "
                    f"this {what} in {organization.login}'s data, which goes back to "
                    f"{words.day_year(since)}."
                ),
                severity="info",
                facts=(("First spend", words.day_year(first)), ("Amount", money(cost["s"]))),
                data={"day": first.isoformat(), **{k: row[k] for k in keys}},
                url=dashboard_url(organization, **{k: row[k] for k in keys if k != "product"}),
            )
        )
    return found


def evaluate_data_stopped(rule: Rule, now: datetime) -> list[Firing]:
    organization = rule.organization
    if organization.collection_paused:
        return []  # staff paused it on purpose: the dashboard says so
    hours = rule.params["hours"]
    last = organization.last_collected_at
    since = last or rule.created_at
    if now - since < timedelta(hours=hours):
        return []
    status = org_status(organization)
    ago = int((now - since).total_seconds() // 3600)
    if last is None:
        text = f"billingdash has collected no usage of {organization.login} yet, {ago} hours "
        text += "after this rule was made."
    else:
        text = (
            f"billingdash has not collected {organization.login}'s usage since "
            f"{last:%a} {last.day} {last:%b %H:%M} UTC ({ago} hours ago)."
        )
    if status.problems:
        text += f" {status.problems[0]}"
    elif status.last_error:
        text += f" The last attempt failed: {status.last_error[:300]}"
    text += " The dashboard shows the figures as last collected."
    return [
        Firing(
            period=since.date(),
            key=f"since {since.isoformat(timespec='seconds')}",
            title=f"No new usage data for {ago} hours",
            message=text,
            severity="critical",
            facts=(("Last collected", f"{since:%Y-%m-%d %H:%M} UTC" if last else "never"),),
            url=dashboard_url(organization),
        )
    ]
