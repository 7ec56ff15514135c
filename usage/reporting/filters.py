"""The dashboard's filters, read from the query string (so a view can be shared and
bookmarked): date range, product, SKU, repository. The page, the CSV and the JSON API
read them with the same rules; the page falls back to the defaults and says what it
ignored, the CSV and the API answer 400 (`FilterError`)."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from usage import periods
from usage.vocabulary import product_id, sku_id

RANGES = {
    "this_month": "This month",
    "last_month": "Last month",
    "3m": "Last 3 months",
    "6m": "Last 6 months",
    "12m": "Last 12 months",
    "custom": "Custom dates",
}
DEFAULT_RANGE = "this_month"
# GitHub's billing data starts long after this; anything earlier is a typo.
MIN_DATE = date(2008, 1, 1)
# Longest range anyone may ask for (the App keeps at most 24 months, plus slack).
MAX_RANGE_DAYS = 3 * 366
MAX_TEXT = 300
# "Usage without a repository" in the repository filter; real names contain a slash.
NO_REPOSITORY = "(no repository)"


class FilterError(ValueError):
    """A parameter the CSV or the API cannot use; the message says which and why."""


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def preset_span(key: str, today: date) -> tuple[date, date]:
    """First and last day of a preset range. Ranges end with the current month's last
    day (no usage exists after today), so whole months read the monthly rollup."""
    current = periods.month_start(today)
    if key == "last_month":
        start = periods.add_months(current, -1)
        return start, month_end(start)
    months = {"3m": 3, "6m": 6, "12m": 12}.get(key, 1)
    return periods.add_months(current, 1 - months), month_end(current)


@dataclass(frozen=True)
class Filters:
    range: str
    start: date
    end: date
    product: str = ""
    sku: str = ""
    repository: str | None = None  # None: any; "": usage without a repository

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

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
        return out


def _text(params: Mapping[str, str], key: str, errors: list[str]) -> str:
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
    else:
        return "custom", start, end
    return (DEFAULT_RANGE, *preset_span(DEFAULT_RANGE, today))


def parse(params: Mapping[str, str], *, today: date | None = None) -> tuple[Filters, list[str]]:
    """Filters from a query string, and what was wrong with it (the defaults replace
    anything invalid)."""
    today = today or periods.today()
    errors: list[str] = []
    key, start, end = _span(params, today, errors)
    repository: str | None = _text(params, "repository", errors) or None
    if repository == NO_REPOSITORY:
        repository = ""
    return (
        Filters(
            range=key,
            start=start,
            end=end,
            # Any spelling GitHub uses ("Actions Linux", "actions_linux") selects the same.
            product=product_id(_text(params, "product", errors)),
            sku=sku_id(_text(params, "sku", errors)),
            repository=repository,
        ),
        errors,
    )


def parse_strict(params: Mapping[str, str], *, today: date | None = None) -> Filters:
    """Like `parse`, but any problem is a `FilterError` (the CSV and the API)."""
    filters, errors = parse(params, today=today)
    if errors:
        raise FilterError("; ".join(errors))
    return filters
