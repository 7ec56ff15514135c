"""Reading GitHub's metered usage reports (summarized and detailed CSV), row by row.

The reference is ghsim/spec/billing-reports.md (§0 "ten rules"): columns are mapped by
header name, never by position; a UTF-8 BOM is dropped; CRLF and LF both end lines;
RFC 4180 quoting (every value quoted, or none); numbers are decimals read from their
full text (``0.036000000000000004``, ``9.4086E-05``), stored with the columns' 10
decimal places; dates are ``YYYY-MM-DD``, US ``M/D/YY`` or ``MM/DD/YYYY``, or a
timestamp; ``""`` means "not applicable". The older 15-column layout (``usage_at``,
``repository_name``, ``workflow_name``) is read too. Products, SKUs and units become
billingdash's identifiers (`usage.vocabulary`); unknown ones pass through normalised.

Only the standard library and the vocabulary: the importer (`usage.imports.metered`)
and the benchmark call it.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from usage.vocabulary import product_id, sku_id, unit_id

__all__ = [
    "BadRow",
    "CsvSource",
    "Header",
    "MeteredReader",
    "MeteredRow",
    "ReportUnreadable",
    "parse_date",
    "read_header",
]

TEN_PLACES = Decimal("1E-10")
# numeric(28, 10): at most 18 digits before the point.
_LIMIT = Decimal("1E18")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})$")
_FRACTION = re.compile(r"(\.\d{6})\d+")

# Column names (lower case) and the older spellings each may have.
_ALIASES = {
    "date": ("date", "usage_at"),
    "repository": ("repository", "repository_name"),
    "workflow": ("workflow_path", "workflow_name"),
    "user": ("username",),
    "price": ("applied_cost_per_quantity", "price_per_unit"),
}
REQUIRED = ("date", "product", "sku", "quantity", "unit_type", "gross_amount", "net_amount")


class ReportUnreadable(Exception):
    """The file cannot be read as a usage report at all (not CSV, no known header...)."""


class BadRow(Exception):
    """One row that cannot be read; the message says why (the caller adds its line)."""


@dataclass(frozen=True)
class Header:
    names: tuple[str, ...]  # lower case, stripped, BOM removed

    @property
    def set(self) -> frozenset[str]:
        return frozenset(self.names)

    def index(self, key: str) -> int | None:
        for name in _ALIASES.get(key, (key,)):
            if name in self.names:
                return self.names.index(name)
        return None


class CsvSource:
    """The file's lines as text for `csv.reader`, counting bytes (for progress) and
    dropping a UTF-8 BOM. Bytes that are not UTF-8 become U+FFFD, never an error."""

    def __init__(self, path: str) -> None:
        self.handle = open(path, "rb")  # noqa: SIM115 (closed in `close`)
        self.size = max(1, os.fstat(self.handle.fileno()).st_size)
        self.bytes_read = 0
        self.reader = csv.reader(self._lines())

    def _lines(self) -> Iterator[str]:
        first = True
        for raw in self.handle:
            self.bytes_read += len(raw)
            if first:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
                first = False
            yield raw.decode("utf-8", errors="replace")

    def header(self) -> Header:
        """The first line, as a `Header` (`ReportUnreadable` if there is none)."""
        try:
            first = next(self.reader)
        except StopIteration:
            raise ReportUnreadable(
                "The file is empty: a usage report starts with its header line."
            ) from None
        except csv.Error as exc:
            raise ReportUnreadable(f"The file is not a CSV text file ({exc}).") from None
        return Header(tuple(name.strip().lstrip("\ufeff").lower() for name in first))

    def close(self) -> None:
        self.handle.close()


def read_header(path: str) -> Header:
    """The header line alone (to tell the report's kind at upload)."""
    source = CsvSource(path)
    try:
        return source.header()
    finally:
        source.close()


def parse_date(text: str) -> date:
    value = text.strip()
    try:
        if len(value) == 10 and value[4] == "-":
            return date.fromisoformat(value)
        found = _US_DATE.match(value)
        if found:
            month, day, year = (int(g) for g in found.groups())
            return date(year + 2000 if year < 100 else year, month, day)
        moment = datetime.fromisoformat(_FRACTION.sub(r"\1", value.replace("Z", "+00:00")))
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return moment.date()
    except (ValueError, IndexError):
        raise BadRow(
            f"date {text[:40]!r} is not a date (YYYY-MM-DD, M/D/YY or a timestamp)"
        ) from None


def parse_number(text: str, column: str, *, blank_is_zero: bool = False) -> Decimal:
    value = text.strip()
    if not value:
        if blank_is_zero:
            return Decimal(0)
        raise BadRow(f"{column} is empty")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise BadRow(f"{column} {text[:40]!r} is not a number") from None
    if not number.is_finite() or abs(number) >= _LIMIT:
        raise BadRow(f"{column} {text[:40]!r} is not a usable amount")
    return number.quantize(TEN_PLACES, ROUND_HALF_EVEN)


_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def number_text(text: str, column: str, *, blank_is_zero: bool = False) -> str:
    """A number's text as the file has it, checked (a decimal, finite, below the
    columns' 10^18): the database reads it exactly and keeps 10 decimals, as
    `parse_number` would (but for exact ties at the 11th decimal, which PostgreSQL
    rounds away from zero). Cheaper than a `Decimal` per value on the hot path."""
    value = text.strip()
    if not value:
        if blank_is_zero:
            return "0"
        raise BadRow(f"{column} is empty")
    if _NUMBER.match(value) is None:
        raise BadRow(f"{column} {text[:40]!r} is not a number")
    if abs(float(value)) >= 1e18:
        raise BadRow(f"{column} {text[:40]!r} is not a usable amount")
    return value


# One parsed row: date, product, sku, unit, quantity, price, gross, discount, net,
# repository (owner/repo or ""), user, workflow, cost center, organization ("" if none).
MeteredRow = tuple[date, str, str, str, str, str, str, str, str, str, str, str, str, str]


class MeteredReader:
    """Parses the rows of a summarized or detailed report given its header."""

    def __init__(self, header: Header, owner_login: str) -> None:
        missing = [key for key in REQUIRED if header.index(key) is None]
        if missing:
            raise ReportUnreadable(
                "The file is missing the column(s) " + ", ".join(missing) + " of a usage report."
            )
        self.owner = owner_login
        self.width = len(header.names)
        at = header.index
        self.i_date, self.i_product, self.i_sku = at("date"), at("product"), at("sku")
        self.i_q, self.i_unit = at("quantity"), at("unit_type")
        self.i_price, self.i_gross = at("price"), at("gross_amount")
        self.i_disc, self.i_net = at("discount_amount"), at("net_amount")
        self.i_org, self.i_repo = at("organization"), at("repository")
        self.i_user, self.i_workflow = at("user"), at("workflow")
        self.i_cost = at("cost_center_name")
        self._dates: dict[str, date] = {}

    @staticmethod
    def _cell(row: list[str], index: int | None) -> str:
        return row[index].strip() if index is not None and index < len(row) else ""

    def parse(self, row: list[str]) -> MeteredRow:
        if len(row) != self.width:
            if not any(cell.strip() for cell in row):
                raise BadRow("the line is empty")
            raise BadRow(f"the row has {len(row)} values, the header {self.width}")
        cell = self._cell
        text = row[self.i_date]  # type: ignore[index]
        day = self._dates.get(text)
        if day is None:
            day = parse_date(text)
            if len(self._dates) < 5000:
                self._dates[text] = day
        product, sku, unit = (
            cell(row, self.i_product),
            cell(row, self.i_sku),
            cell(row, self.i_unit),
        )
        if not product or not sku:
            raise BadRow("product and sku must not be empty")
        repo = cell(row, self.i_repo)
        org = cell(row, self.i_org)
        if repo:
            # GitHub's files name the repository alone (one fixture says owner/repo); its
            # API says owner/repo. A name is not split on "/": the owner is the row's org.
            owner = self.owner if not org or org.lower() == self.owner.lower() else org
            if not repo.lower().startswith(owner.lower() + "/"):
                repo = f"{owner}/{repo}"
        return (
            day,
            product_id(product),
            sku_id(sku),
            unit_id(unit) if unit else "",
            number_text(row[self.i_q], "quantity"),  # type: ignore[index]
            number_text(cell(row, self.i_price), "applied_cost_per_quantity", blank_is_zero=True),
            number_text(row[self.i_gross], "gross_amount"),  # type: ignore[index]
            number_text(cell(row, self.i_disc), "discount_amount", blank_is_zero=True),
            number_text(row[self.i_net], "net_amount"),  # type: ignore[index]
            repo,
            cell(row, self.i_user),
            cell(row, self.i_workflow),
            cell(row, self.i_cost),
            org,
        )
