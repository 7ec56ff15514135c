"""The raw line items under the dashboard's filters: the sortable table (keyset
pagination, sort whitelist) and the rows of the CSV export (streamed from a server-side
cursor). The only reads of `UsageItem` that return rows rather than sums."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection
from django.db.models import F, Func, Q, QuerySet, TextField
from django.db.models.functions import Cast

from accounts.models import Organization
from usage.models import UsageItem
from usage.reporting.filters import Filters

PAGE_SIZE = 50
# What the table may be sorted by (URL name -> column). The default, newest first, walks
# the (organization, date) index; other sorts scan the range once (top-N sort).
SORTS = {
    "date": "date",
    "product": "product",
    "sku": "sku",
    "repository": "repository",
    "quantity": "quantity",
    "net": "net_amount",
}
DEFAULT_SORT = "-date"
CSV_COLUMNS = (
    "date",
    "product",
    "sku",
    "quantity",
    "unit_type",
    "price_per_unit",
    "gross_amount",
    "discount_amount",
    "net_amount",
    "repository",
)
TABLE_COLUMNS = (*CSV_COLUMNS, "id")
# The table's headers: (sort name or None, title).
TABLE_HEADERS = (
    ("date", "Date"),
    ("product", "Product"),
    ("sku", "SKU"),
    ("repository", "Repository"),
    ("quantity", "Quantity"),
    (None, "Price per unit"),
    (None, "Gross"),
    (None, "Discount"),
    ("net", "Net"),
)
_DECIMALS = {"quantity", "net_amount"}


def items(organization: Organization, filters: Filters) -> QuerySet:
    qs = UsageItem.objects.filter(
        organization=organization, date__gte=filters.start, date__lte=filters.end
    )
    if filters.repository is not None:
        qs = qs.filter(repository=filters.repository)
    if filters.product:
        qs = qs.filter(product=filters.product)
    if filters.sku:
        qs = qs.filter(sku=filters.sku)
    return qs


def parse_sort(value: str | None) -> str:
    """A whitelisted sort (``name`` or ``-name``); anything else is the default."""
    value = (value or "").strip()
    return value if value.lstrip("-") in SORTS else DEFAULT_SORT


def encode_cursor(value: Any, pk: int) -> str:
    raw = json.dumps([str(value), pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str | None, column: str) -> tuple[Any, int] | None:
    """(value, id) of a cursor made by `encode_cursor`, or None when it is not one."""
    if not token or len(token) > 800:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        text, pk = json.loads(raw)
        if not isinstance(text, str) or type(pk) is not int or "\x00" in text:
            return None
        if not -(2**63) < pk < 2**63:
            return None
        if column == "date":
            return date.fromisoformat(text), pk
        if column in _DECIMALS:
            value = Decimal(text)
            # Within what a numeric(28, 10) column can compare with.
            return (value, pk) if value.is_finite() and abs(value.adjusted()) <= 30 else None
        return text, pk
    except (ValueError, TypeError, binascii.Error, InvalidOperation, UnicodeDecodeError):
        return None


@dataclass
class Page:
    rows: list[dict[str, Any]]
    sort: str
    next_cursor: str | None
    prev_cursor: str | None


def _beyond(column: str, value: Any, pk: int, *, greater: bool) -> Q:
    op = "gt" if greater else "lt"
    return Q(**{f"{column}__{op}": value}) | Q(**{column: value, f"id__{op}": pk})


def items_page(
    organization: Organization,
    filters: Filters,
    *,
    sort: str = DEFAULT_SORT,
    after: str | None = None,
    before: str | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """One page of line items. `after`/`before` are cursors of the next/previous page
    (keyset pagination: constant cost however deep, stable while data is replaced)."""
    sort = parse_sort(sort)
    descending = sort.startswith("-")
    column = SORTS[sort.lstrip("-")]
    order = (f"-{column}", "-id") if descending else (column, "id")
    reverse = (column, "id") if descending else (f"-{column}", "-id")
    qs = items(organization, filters).values(*TABLE_COLUMNS)
    after_key = decode_cursor(after, column)
    before_key = None if after_key else decode_cursor(before, column)
    if before_key is not None:
        value, pk = before_key
        backwards = qs.filter(_beyond(column, value, pk, greater=descending)).order_by(*reverse)
        rows = list(backwards[: size + 1])
        has_prev = len(rows) > size
        rows = rows[:size][::-1]
        has_next = True
    else:
        if after_key is not None:
            value, pk = after_key
            qs = qs.filter(_beyond(column, value, pk, greater=not descending))
        rows = list(qs.order_by(*order)[: size + 1])
        has_next = len(rows) > size
        rows = rows[:size]
        has_prev = after_key is not None
    first, last = (rows[0], rows[-1]) if rows else (None, None)
    return Page(
        rows=rows,
        sort=sort,
        next_cursor=encode_cursor(last[column], last["id"]) if has_next and last else None,
        prev_cursor=encode_cursor(first[column], first["id"]) if has_prev and first else None,
    )


NUMBER_COLUMNS = ("quantity", "price_per_unit", "gross_amount", "discount_amount", "net_amount")


def export_rows(organization: Organization, filters: Filters) -> Iterator[tuple[Any, ...]]:
    """Every line item under the filters, oldest first, as tuples of `CSV_COLUMNS`.
    A server-side cursor on PostgreSQL (``iterator``): rows stream, never all in memory.
    PostgreSQL also writes the numbers as text without trailing zeros (``trim_scale``,
    PostgreSQL 13+) and the dates, in C: a million rows would spend most of their time
    in Python formatting otherwise. Elsewhere the rows hold decimals and dates."""
    qs = items(organization, filters).order_by("date", "id")
    if connection.vendor != "postgresql":
        return qs.values_list(*CSV_COLUMNS).iterator(chunk_size=5000)
    text = {
        f"{name}_text": Cast(Func(F(name), function="trim_scale"), TextField())
        for name in NUMBER_COLUMNS
    }
    text["date_text"] = Cast(F("date"), TextField())
    names = [f"{c}_text" if c in NUMBER_COLUMNS or c == "date" else c for c in CSV_COLUMNS]
    return qs.annotate(**text).values_list(*names).iterator(chunk_size=5000)
