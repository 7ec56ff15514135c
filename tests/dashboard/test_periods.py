"""Date range presets as GitHub's usage page has them, in calendar months (this month,
last month, the last 3/6/12 months, year to date, last year, custom), never a day after today, with
their exact dates on the page; charts and the API grouped by day, ISO week or month."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from usage import periods
from usage.periods import month_end
from usage.reporting.filters import RANGES, parse, preset_span

pytestmark = [pytest.mark.dates]

# Todays that break date code: the first and last day of a year and of a month, a leap
# day, and the 10th (the last day GitHub still adjusts the previous month).
TODAYS = [date(2027, 1, 1), date(2027, 1, 31), date(2028, 2, 29), date(2026, 12, 10)]
PRESETS = [k for k in RANGES if k != "custom"]


def at(day: date):
    return time_machine.travel(datetime(day.year, day.month, day.day, 12, tzinfo=UTC), tick=False)


@pytest.mark.parametrize("today", TODAYS, ids=str)
def test_each_preset_on_hard_days(today):
    with at(today):
        assert periods.today() == today  # django.utils.timezone drives "today"
        spans = {
            key: (parse({"range": key})[0].start, parse({"range": key})[0].end) for key in PRESETS
        }
    month = today.replace(day=1)
    assert spans["this_month"] == (month, today)
    last = periods.add_months(month, -1)
    assert spans["last_month"] == (last, month_end(last))
    for key, months in (("3m", 3), ("6m", 6), ("12m", 12)):
        start, end = spans[key]
        # Calendar months: this month to date and the whole months before it.
        assert (start, end) == (periods.add_months(month, 1 - months), today)
    assert spans["ytd"] == (date(today.year, 1, 1), today)
    assert spans["last_year"] == (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31))
    for key, (start, end) in spans.items():
        assert start <= end <= today, key  # never a future day
    # "Last 12 months" ends today: never 1 Jan - 31 Dec of this year before 31 Dec.
    start, end = spans["12m"]
    if today != date(today.year, 12, 31):
        assert (start, end) != (date(today.year, 1, 1), date(today.year, 12, 31))
    assert 335 <= (end - start).days + 1 <= 366


def test_the_documented_examples():
    assert preset_span("3m", date(2026, 12, 6)) == (date(2026, 10, 1), date(2026, 12, 6))
    assert preset_span("12m", date(2028, 2, 29)) == (date(2027, 3, 1), date(2028, 2, 29))
    assert preset_span("3m", date(2027, 1, 31)) == (date(2026, 11, 1), date(2027, 1, 31))
    assert preset_span("12m", date(2027, 1, 1)) == (date(2026, 2, 1), date(2027, 1, 1))
    assert preset_span("12m", date(2026, 12, 31)) == (date(2026, 1, 1), date(2026, 12, 31))


def test_custom_ranges_end_today():
    today = periods.today()
    later = today + timedelta(days=20)
    filters, errors = parse({"start": str(today - timedelta(days=3)), "end": str(later)})
    assert (filters.range, filters.end, errors) == ("custom", today, [])
    filters, errors = parse({"start": str(today + timedelta(days=1)), "end": str(later)})
    assert filters.range == "this_month"
    assert errors == [f"start must not be after today ({today}): later days have no usage yet"]


# --- the page and the API, on the simulator's data ---------------------------------------


def page(client, user, query):
    client.force_login(user)
    response = client.get(f"/orgs/acme-corp/{query}")
    assert response.status_code == 200
    return response


def _chart_days(chart, today):
    """The last instant each chart draws on its x axis, as a date."""
    layout_x = chart.figure["layout"].get("xaxis", {})
    if layout_x.get("tickmode") == "array":  # weeks or months: the axis ends with them
        return date.fromisoformat(layout_x["range"][1][:10]) - timedelta(days=1)
    last = today - timedelta(days=9999)
    for trace in chart.figure["data"]:
        first = date.fromisoformat(trace["x0"])
        last = max(last, first + timedelta(days=len(trace["y"]) - 1))
    return last


@pytest.mark.django_db
@pytest.mark.parametrize("preset", PRESETS)
def test_no_future_day_on_the_page(client, acme, people, preset):
    today = periods.today()
    response = page(client, people["olivia"], f"?range={preset}")
    filters = response.context["filters"]
    assert filters.end <= today
    html = response.content.decode()
    assert f"Showing <strong>{filters.span_text}</strong>" in html
    assert f'<option value="{preset}" selected>{RANGES[preset]}: {filters.span_text}' in html
    charts = {c.key: c for c in response.context["charts"]}
    if not charts:  # nothing collected that long ago (last year on some todays)
        assert response.context["totals"].items == 0
        return
    for key in ("daily", "quantity"):
        assert _chart_days(charts[key], today) <= today, key
    if filters.bucket == "day":
        assert all(date.fromisoformat(row[0]) <= today for row in charts["daily"].rows)
    if response.context["page"]:
        assert all(row["date"] <= today for row in response.context["page"].rows)


@pytest.mark.django_db
def test_twelve_months_draw_monthly_bars_and_weeks_on_request(client, acme, people):
    response = page(client, people["bill"], "?range=12m")
    filters = response.context["filters"]
    daily = next(c for c in response.context["charts"] if c.key == "daily")
    assert filters.bucket == "month" and daily.columns[0] == "Month"
    for trace in daily.figure["data"]:
        assert len(trace["x"]) <= 13  # not 365 daily bars
    assert len(daily.figure["layout"]["xaxis"]["tickvals"]) <= 13
    assert "per calendar month" in daily.title
    assert "because the range spans" in daily.note and "Group by" in daily.note
    # The month that ends today is partial and says so.
    assert daily.rows[-1][0].endswith("(partial)") == (today_is_not_month_end())
    html = response.content.decode()
    assert '<option value="auto" selected>Automatic (month)</option>' in html

    response = page(client, people["bill"], "?range=12m&bucket=week")
    daily = next(c for c in response.context["charts"] if c.key == "daily")
    assert response.context["filters"].bucket == "week" and daily.columns[0] == "Week (Mon–Sun)"
    for trace in daily.figure["data"]:
        midpoints = [datetime.fromisoformat(x) for x in trace["x"]]
        inner = midpoints[1:-1]  # whole weeks: centred on Thursday 12:00
        assert all(m.weekday() == 3 and m.hour == 12 for m in inner)
    assert 'name="bucket"' in html and '<option value="week" selected>' in response.content.decode()


def today_is_not_month_end() -> bool:
    today = periods.today()
    return today != month_end(today)


def _api(client, user, **params):
    client.force_login(user)
    answer = client.get("/api/orgs/acme-corp/usage", params)
    assert answer.status_code == 200, answer.content
    return answer.json()


@pytest.mark.django_db
@pytest.mark.parametrize("preset", ["3m", "12m", "this_month", "last_month"])
def test_api_weeks_and_months_add_up_to_the_days_to_the_cent(client, acme, people, preset):
    days = _api(client, people["olivia"], range=preset, group_by="day")
    for group_by in ("week", "month"):
        body = _api(client, people["olivia"], range=preset, group_by=group_by)
        assert (body["start"], body["end"]) == (days["start"], days["end"])
        assert body["total"] == days["total"]  # every decimal place, and the item count
        for field in ("net_amount", "gross_amount", "discount_amount", "quantity"):
            summed = sum((Decimal(g[field]) for g in body["groups"]), Decimal(0))
            assert summed == Decimal(days["total"][field]), (group_by, field)
        for group in body["groups"]:
            key = date.fromisoformat(group["key"])
            first, last = (
                date.fromisoformat(group["first_day"]),
                date.fromisoformat(group["last_day"]),
            )
            assert key.weekday() == 0 if group_by == "week" else key.day == 1
            assert key <= first <= last <= periods.today()
            in_group = [d for d in days["groups"] if first <= date.fromisoformat(d["key"]) <= last]
            net = sum((Decimal(d["net_amount"]) for d in in_group), Decimal(0))
            assert Decimal(group["net_amount"]) == net
            whole = (
                last - key == timedelta(days=6) if group_by == "week" else last == month_end(key)
            )
            assert group["partial"] == (not whole or first != key)
        if preset == "12m" and group_by == "month":
            assert len(body["groups"]) <= 13


@pytest.mark.django_db
def test_api_refuses_unknown_groupings_and_buckets(client, acme, people):
    client.force_login(people["olivia"])
    for params, message in (
        ({"group_by": "fortnight"}, "group_by must be one of day, week, month, product"),
        ({"group_by": "Week"}, "group_by must be one of"),
        ({"bucket": "quarter"}, "bucket must be one of auto, day, week, month"),
    ):
        answer = client.get("/api/orgs/acme-corp/usage", params)
        assert answer.status_code == 400 and message in answer.json()["error"], params
    csv = client.get("/orgs/acme-corp/usage.csv", {"bucket": "quarter"})
    assert csv.status_code == 400 and b"bucket must be one of" in csv.content
    # The page keeps working and says what it ignored.
    response = client.get("/orgs/acme-corp/", {"range": "6m", "bucket": "quarter"})
    assert response.status_code == 200 and response.context["filters"].bucket == "week"
    assert "bucket must be one of" in response.content.decode()
