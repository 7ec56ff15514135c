"""The dashboard's filters, read from the query string (so a view can be shared and
bookmarked): date range, product, SKU, repository, and the chart bucket (day, week or
month). `parse` is the one normalisation: the frozen `Filters` it returns is a complete
description of what a page, a CSV or an API answer shows (safe as a cache key). The
page, the CSV and the JSON API read them with the same rules; the page falls back to
the defaults and says what it ignored, the CSV and the API answer 400 (`FilterError`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from usage import periods
from usage.vocabulary import product_id, sku_id

# The presets follow GitHub's usage page ("Time frame": current month, last month, this
# year, last year, custom), all in calendar months as GitHub bills, plus the last 3, 6
# and 12 months. None reaches past today: usage exists only for days that have
# happened. "Last N months" is N calendar months, not a rolling window: this month to
# date and the N-1 whole months before it (on 6 Dec 2026, "Last 3 months" is 1 Oct -
# 6 Dec 2026), so only its last month is partial and each month bar is a billing month.
# "Last month" and "Last year" are complete.
RANGES = {
    "this_month": "This month",
    "last_month": "Last month",
    "3m": "Last 3 months",
    "6m": "Last 6 months",
    "12m": "Last 12 months",
    "ytd": "Year to date",
    "last_year": "Last year",
    "custom": "Custom dates",
}
# What each preset covers, in words (the page says it beside the exact dates).
RANGE_NOTES = {
    "this_month": "the 1st of this month to today",
    "last_month": "the whole of last month",
    "3m": "this month to date and the 2 whole months before it",
    "6m": "this month to date and the 5 whole months before it",
    "12m": "this month to date and the 11 whole months before it",
    "ytd": "1 January to today",
    "last_year": "the whole of last year",
    "custom": "your dates, up to today at the latest",
}
DEFAULT_RANGE = "this_month"
MONTH_PRESETS = {"3m": 3, "6m": 6, "12m": 12}
# How the charts and the API group days: chosen from the span unless the URL says
# (`bucket=day|week|month`), as GitHub's usage page does. Weeks are ISO weeks, Monday
# to Sunday; months are calendar months (UTC, like GitHub's billing).
BUCKETS = {"auto": "Automatic", "day": "Day", "week": "Week", "month": "Month"}
DEFAULT_BUCKET = "auto"
DAY_BUCKETS_UP_TO = 62  # days: about two months of daily bars
WEEK_BUCKETS_UP_TO = 186  # days: about six months of weekly bars, then months
# GitHub's billing data starts long after this; anything earlier is a typo.
MIN_DATE = date(2008, 1, 1)
# Longest range anyone may ask for (the App keeps at most 24 months, plus slack).
MAX_RANGE_DAYS = 3 * 366
MAX_TEXT = 300
# "Usage without a repository" in the repository filter; real names contain a slash.
NO_REPOSITORY = "(no repository)"


class FilterError(ValueError):
    """A parameter the CSV or the API cannot use; the message says which and why."""


def preset_span(key: str, today: date) -> tuple[date, date]:
    """First and last day of a preset range: never a day after `today`."""
    month = periods.month_start(today)
    if key == "last_month":
        start = periods.add_months(month, -1)
        return start, periods.month_end(start)
    if key in MONTH_PRESETS:
        return periods.add_months(month, 1 - MONTH_PRESETS[key]), today
    if key == "ytd":
        return today.replace(month=1, day=1), today
    if key == "last_year":
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    return month, today  # this month: the 1st to today


def auto_bucket(days: int) -> str:
    """The bucket a span of `days` days is drawn in: days up to about two months,
    weeks up to about six, then months."""
    if days <= DAY_BUCKETS_UP_TO:
        return "day"
    return "week" if days <= WEEK_BUCKETS_UP_TO else "month"


def date_span(start: date, end: date) -> str:
    """A range as a person reads it, with an en dash: "6 Dec 2026", "1-6 Dec 2026",
    "1 Oct - 6 Dec 2026", "1 Dec 2025 - 6 Dec 2026"."""
    if start == end:
        return f"{end.day} {end:%b %Y}"
    if start.year != end.year:
        return f"{start.day} {start:%b %Y} – {end.day} {end:%b %Y}"
    if start.month != end.month:
        return f"{start.day} {start:%b} – {end.day} {end:%b %Y}"
    return f"{start.day}–{end.day} {end:%b %Y}"


def range_options(today: date) -> list[tuple[str, str]]:
    """The date range menu: each preset with its exact dates ("Last 3 months: 1 Oct -
    6 Dec 2026")."""
    options = [
        (key, f"{text}: {date_span(*preset_span(key, today))}")
        for key, text in RANGES.items()
        if key != "custom"
    ]
    return [*options, ("custom", RANGES["custom"])]


@dataclass(frozen=True)
class Filters:
    range: str
    start: date
    end: date
    product: str = ""
    sku: str = ""
    repository: str | None = None  # None: any; "": usage without a repository
    bucket_choice: str = DEFAULT_BUCKET  # "auto", or what the URL asked: day, week, month

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def bucket(self) -> str:
        """What the charts group days by: "day", "week" (ISO, Monday start) or "month"."""
        if self.bucket_choice in ("day", "week", "month"):
            return self.bucket_choice
        return auto_bucket(self.days)

    @property
    def auto_bucket(self) -> str:
        return auto_bucket(self.days)

    @property
    def span_text(self) -> str:
        return date_span(self.start, self.end)

    @property
    def range_note(self) -> str:
        return RANGE_NOTES[self.range]

    @property
    def repository_param(self) -> str:
        if self.repository is None:
            return ""
        return self.repository or NO_REPOSITORY

    @property
    def is_filtered(self) -> bool:
        return bool(self.product or self.sku or self.repository is not None)

    def params(self) -> dict[str, str]:
        """The query string of these filters (defaults left out)."""
        out: dict[str, str] = {}
        if self.range == "custom":
            out.update(start=self.start.isoformat(), end=self.end.isoformat())
        if self.range != DEFAULT_RANGE:
            out["range"] = self.range
        for key, value in (
            ("product", self.product),
            ("sku", self.sku),
            ("repository", self.repository_param),
        ):
            if value:
                out[key] = value
        if self.bucket_choice != DEFAULT_BUCKET:
            out["bucket"] = self.bucket_choice
        return out


def text_param(params: Mapping[str, str], key: str, errors: list[str]) -> str:
    """A name from the query (stripped), or "" with a message in `errors` when it cannot
    be one: longer than `MAX_TEXT`, or with a NUL (PostgreSQL refuses NUL in text)."""
    value = (params.get(key) or "").strip()
    if len(value) > MAX_TEXT or "\x00" in value:
        errors.append(f"{key} is not a valid name")
        return ""
    return value


def _date(params: Mapping[str, str], key: str, errors: list[str]) -> date | None:
    raw = (params.get(key) or "").strip()
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        value = None
    if value is None:
        errors.append(f"{key} must be a date as YYYY-MM-DD, not {raw[:40]!r}")
    return value


def _span(params: Mapping[str, str], today: date, errors: list[str]) -> tuple[str, date, date]:
    key = (params.get("range") or "").strip()
    start, end = _date(params, "start", errors), _date(params, "end", errors)
    if key and key not in RANGES:
        errors.append(f"range must be one of {', '.join(RANGES)}")
        key = ""
    if not key and (start or end):
        key = "custom"
    if key != "custom":
        return (key or DEFAULT_RANGE, *preset_span(key or DEFAULT_RANGE, today))
    if start is None or end is None:
        errors.append("a custom range needs both start and end (YYYY-MM-DD)")
    elif start > end:
        errors.append("start must not be after end")
    elif start < MIN_DATE or end > today + timedelta(days=366):
        errors.append(f"dates must be between {MIN_DATE} and a year from today")
    elif (end - start).days + 1 > MAX_RANGE_DAYS:
        errors.append(f"the range may span at most {MAX_RANGE_DAYS} days")
    elif start > today:
        errors.append(f"start must not be after today ({today}): later days have no usage yet")
    else:
        # Days after today have no usage yet: the range ends today.
        return "custom", start, min(end, today)
    return (DEFAULT_RANGE, *preset_span(DEFAULT_RANGE, today))


def parse(params: Mapping[str, str], *, today: date | None = None) -> tuple[Filters, list[str]]:
    """Filters from a query string, and what was wrong with it (the defaults replace
    anything invalid)."""
    today = today or periods.today()
    errors: list[str] = []
    key, start, end = _span(params, today, errors)
    bucket = (params.get("bucket") or "").strip() or DEFAULT_BUCKET
    if bucket not in BUCKETS:
        errors.append(f"bucket must be one of {', '.join(BUCKETS)}")
        bucket = DEFAULT_BUCKET
    repository: str | None = text_param(params, "repository", errors) or None
    if repository == NO_REPOSITORY:
        repository = ""
    return (
        Filters(
            range=key,
            start=start,
            end=end,
            # Any spelling GitHub uses ("Actions Linux", "actions_linux") selects the same.
            product=product_id(text_param(params, "product", errors)),
            sku=sku_id(text_param(params, "sku", errors)),
            repository=repository,
            bucket_choice=bucket,
        ),
        errors,
    )


def parse_strict(params: Mapping[str, str], *, today: date | None = None) -> Filters:
    """Like `parse`, but any problem is a `FilterError` (the CSV and the API)."""
    filters, errors = parse(params, today=today)
    if errors:
        raise FilterError("; ".join(errors))
    return filters
