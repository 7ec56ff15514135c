"""Parser of GitHub's AI usage / premium-request usage report (CSV), every format of
billing-reports.md §4.5-§4.7: 15 columns (premium requests, Oct 2025-), 16/17
(transition, with ``aic_*``; the UI's AI usage report), 17 and 21 columns (AI credits,
tokens since August 2026), in either column order.

Rules (billing-reports.md §0): columns by header name, a UTF-8 BOM stripped, CRLF or LF,
RFC-4180 quoting, numbers as exact decimals of their text (``0.036000000000000004``,
``9.4086E-05``) rounded to the database's 10 places, dates as ``YYYY-MM-DD``, ``M/D/YY``
or ``MM/DD/YYYY``, booleans in any case, ``""`` as not applicable, unknown SKUs and
models passed through, extra columns ignored. The legacy 6-column analytics export
(``Timestamp``, ``Requests Used``) has no amounts and is refused with a message.

`parse_report(path)` streams the file: it yields `ReportRow`s and never holds the file.
Error messages name the line and the column, never a cell's text (a cell may be a
person's login).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from usage.vocabulary import sku_id, unit_id

PLACES = Decimal("1E-10")
REQUIRED = (
    "date",
    "username",
    "sku",
    "model",
    "quantity",
    "unit_type",
    "gross_amount",
    "discount_amount",
    "net_amount",
)
#: `total_monthly_quota` values that mean "unknown" (billing-reports.md §11).
NO_QUOTA = {"", "2147483647", "unlimited"}
MAX_FIELD = 1000


class ReportError(ValueError):
    """The file is not a report this parser reads; the message says where and why."""


@dataclass(frozen=True)
class ReportRow:
    date: date
    login: str
    organization: str
    sku: str
    unit_type: str
    model: str
    quantity: Decimal
    gross_amount: Decimal
    discount_amount: Decimal
    net_amount: Decimal
    total_monthly_quota: int | None
    exceeds_quota: bool | None


def parse_date(text: str) -> date:
    text = text.strip()
    if "/" in text:
        month, day, year = text.split("/")
        y = int(year)
        if len(year) <= 2:
            y += 2000
        return date(y, int(month), int(day))
    if "T" in text:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    return date.fromisoformat(text)


def parse_decimal(text: str) -> Decimal:
    text = text.strip()
    if not text:
        return Decimal(0)
    value = Decimal(text)
    if not value.is_finite():
        raise InvalidOperation
    return value.quantize(PLACES)


def _bool(text: str) -> bool | None:
    low = text.strip().lower()
    if low in ("true", "1", "yes"):
        return True
    if low in ("false", "0", "no"):
        return False
    return None


def _quota(text: str) -> int | None:
    low = text.strip().lower()
    if low in NO_QUOTA:
        return None
    try:
        return int(Decimal(low))
    except InvalidOperation:
        return None


def report_format(header: list[str]) -> str:
    names = set(header)
    if {"timestamp", "requests used"} <= names:
        raise ReportError(
            "this is the legacy premium request analytics export (Timestamp, Requests Used), "
            "which has no amounts; download the AI usage report instead"
        )
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise ReportError(
            f"not an AI usage or premium request report: no column {', '.join(missing)}"
        )
    if "exceeds_quota" in names:
        return "transition" if "aic_quantity" in names else "premium_requests"
    return "ai_credits_tokens" if "input" in names else "ai_credits"


def parse_report(path: str) -> Iterator[ReportRow]:
    """The file's rows; raises `ReportError` at the first row it cannot read."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise ReportError("the file is empty") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ReportError(f"line 1: not a CSV file ({type(exc).__name__})") from None
        header = [h.strip().lower() for h in header]
        report_format(header)
        col = {name: i for i, name in enumerate(header)}
        width = len(header)
        line = 1
        try:
            for values in reader:
                line += 1
                if not values or values == [""]:
                    continue
                if len(values) != width:
                    raise ReportError(
                        f"line {line}: {len(values)} values where the header has {width}"
                    )
                yield _row(values, col, line)
        except csv.Error as exc:
            raise ReportError(f"line {line + 1}: malformed CSV ({exc})") from None
        except UnicodeDecodeError:
            raise ReportError(f"line {line + 1}: not UTF-8 text") from None


def _row(values: list[str], col: dict[str, int], line: int) -> ReportRow:
    def get(name: str) -> str:
        i = col.get(name)
        value = values[i] if i is not None else ""
        if len(value) > MAX_FIELD:
            raise ReportError(f"line {line}: column {name} is too long")
        return value

    try:
        day = parse_date(get("date"))
    except (ValueError, TypeError):
        raise ReportError(f"line {line}: date is not a date (YYYY-MM-DD or M/D/YY)") from None
    numbers = {}
    for name in ("quantity", "gross_amount", "discount_amount", "net_amount"):
        try:
            numbers[name] = parse_decimal(get(name))
        except (InvalidOperation, ValueError):
            raise ReportError(f"line {line}: {name} is not a number") from None
    return ReportRow(
        date=day,
        login=get("username").strip()[:100],
        organization=get("organization").strip(),
        sku=sku_id(get("sku")),
        unit_type=unit_id(get("unit_type")),
        model=get("model").strip()[:200],
        total_monthly_quota=_quota(get("total_monthly_quota")),
        exceeds_quota=_bool(get("exceeds_quota")),
        **numbers,
    )
