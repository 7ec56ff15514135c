"""Usage items into database rows, on the ingest's hot path (`usage.ingest` writes them).

`Rows` validates each item as it streams past (a handful of type checks per item on the
fast path; anything odd is checked in full and either fixed, a timestamp date, or
refused with `MalformedResponse`) and turns it into a tuple (SQLite) or a line of
text-format COPY data (PostgreSQL). Products, SKUs and unit types are stored as GitHub's
identifiers (`usage.vocabulary`): "Actions"/"actions", "Actions Linux"/"actions_linux"
and "Minutes"/"minutes" are one product, SKU and unit. The work is done once per group
(a day, product, SKU and unit as GitHub spelled them), never per item. On the COPY path
it also sums the month's rollups (by day, product, SKU and unit type; by repository,
product and SKU, as stored) with exact `Decimal` arithmetic, amounts finer than the
columns' 10 decimal places rounded first as the database stores them (GitHub's binary
floats), and says whether those sums are exactly what the database would compute from
the stored items (`Rows.sums_exact`).
"""

from __future__ import annotations

import decimal
import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from billingdash.github.errors import MalformedResponse
from usage.vocabulary import product_id, sku_id, unit_id

# Keys of a usage item that have a column. Anything else GitHub adds goes to `extra`.
# `organizationName` is GitHub's spelling of the org we asked for (any case): not stored.
_NUMBER_KEYS = ("quantity", "pricePerUnit", "grossAmount", "discountAmount", "netAmount")
KNOWN_KEYS = frozenset(
    {"date", "product", "sku", "unitType", "organizationName", "repositoryName", *_NUMBER_KEYS}
)
_NUMBER_TYPES = frozenset({int, Decimal})
# How often (in items) the caller's `check` runs (lease still ours?).
CHECK_EVERY = 50_000
# Rollup sums: this many digits is exact for any month of numeric(28, 10) amounts;
# the context's Inexact flag says otherwise. Decimal places the columns keep:
_SUM_CONTEXT = decimal.Context(
    prec=80, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN, traps=[], flags=[]
)
_COLUMN_EXPONENT = -10
_STORED_STEP = Decimal(1).scaleb(_COLUMN_EXPONENT)
# Rounding to the columns' places (flags never read), half away from zero as PostgreSQL.
_ROUNDING = decimal.Context(prec=80, rounding=decimal.ROUND_HALF_UP, traps=[])
_ZEROS = (Decimal(0),) * 4
# Text COPY: these characters must be escaped in a field.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


# The columns a row holds, in order (`Rows.rows`, `Rows.copy_text`). Columns of the
# items table that are not here are filled with their model default (`Rows.defaults`).
ROW_COLUMNS = (
    *("organization_id", "date", "product", "sku", "unit_type"),
    *("quantity", "price_per_unit", "gross_amount", "discount_amount", "net_amount"),
    *("repository", "extra"),
)


def as_stored(value: Any, text: str) -> tuple[Any, str]:
    """A number and its text as the columns store it: rounded to their 10 decimal
    places, half away from zero as PostgreSQL rounds. GitHub's binary floats
    ("0.036000000000000004") have more; rounding them here makes the rollups summed
    while loading the sums of what is stored. `text` is ``str(value)``."""
    if type(value) is not Decimal:
        return value, text
    if "E" not in text:
        dot = text.find(".")
        if dot < 0 or len(text) - dot <= 1 - _COLUMN_EXPONENT:
            return value, text
    elif not value.is_finite() or value.as_tuple().exponent >= _COLUMN_EXPONENT:
        return value, text
    # Its own context: this rounding is wanted, not a sum's (whose Inexact flag counts).
    rounded = value.quantize(_STORED_STEP, context=_ROUNDING)
    # Too many digits even for that context: left as is, the database refuses it.
    return (rounded, str(rounded)) if rounded.is_finite() else (value, text)


def escape(value: Any) -> str:
    """One field of text-format COPY data."""
    return str(value).translate(_COPY_ESCAPES)


class Rows:
    """Turns usage items into rows, validating as it goes. The fast path is a handful of
    type checks per item (this runs a million times for a large month); anything odd
    goes to `_slow`, which either fixes it (a timestamp date) or says what is wrong."""

    def __init__(
        self,
        organization_id: int,
        period: date,
        check: Callable[[], None],
        defaults: tuple[Any, ...] = (),
    ) -> None:
        self.org = organization_id
        # Values of the table's other columns (after `ROW_COLUMNS`), the same in each row.
        self.defaults = defaults
        self.tail = "".join("\t\\N" if v is None else "\t" + escape(v) for v in defaults)
        self.month = (period.year, period.month)
        self.check = check
        self.count = 0
        # Rollup sums [quantity, gross, discount, net, items] by (day, product, sku,
        # unit type) and by (repository, product, sku), keyed as GitHub spelled them;
        # see `copy_text`.
        self.daily: dict[tuple[str, ...], list[Any]] = {}
        self.repo_groups: dict[tuple[str, ...], list[Any]] = {}
        self.inexact = False

    def fail(self, why: str) -> MalformedResponse:
        return MalformedResponse(f"usage item #{self.count}: {why}")

    def _slow(self, item: Any) -> tuple[Any, ...]:
        """Validate one item fully; return its row or raise `MalformedResponse`."""
        if not isinstance(item, dict):
            raise self.fail("not an object")
        for key in ("date", "product", "sku", "unitType", "quantity", "grossAmount", "netAmount"):
            if key not in item:
                raise self.fail(f"{key} is missing")
        for key in ("product", "sku", "unitType"):
            if type(item[key]) is not str:
                raise self.fail(f"{key} is not a string")
        repo = item.get("repositoryName") or ""
        if type(repo) is not str:
            raise self.fail("repositoryName is not a string")
        for key in _NUMBER_KEYS:
            if type(item.get(key, 0)) not in _NUMBER_TYPES:
                raise self.fail(f"{key} is not a number")
        day = self._day(item["date"])
        return (
            self.org,
            day,
            product_id(item["product"]),
            sku_id(item["sku"]),
            unit_id(item["unitType"]),
            item["quantity"],
            item.get("pricePerUnit", 0),
            item["grossAmount"],
            item.get("discountAmount", 0),
            item["netAmount"],
            repo,
            self.extra_of(item),
        )

    def _day(self, value: Any) -> str:
        """The item's UTC day as ``YYYY-MM-DD``. GitHub documents ``"2024-01-15"``; real
        answers send a timestamp (``"2024-01-15T00:00:00Z"``), and any ISO 8601 time is
        accepted (one with an offset counts on its UTC day: billing days are UTC)."""
        if not isinstance(value, str):
            raise self.fail("date is not a string")
        text = value.strip()
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
            else:
                moment = datetime.fromisoformat(text)
                if moment.tzinfo is not None:
                    moment = moment.astimezone(UTC)
                day = moment.date()
        except ValueError:
            raise self.fail(f"date {value[:40]!r} is not an ISO 8601 date or time") from None
        if (day.year, day.month) != self.month:
            # An item outside the month would survive the next replace of its month.
            year, month = self.month
            raise self.fail(
                f"date {value[:40]!r} is not in the requested month {year:04d}-{month:02d}"
            )
        return day.isoformat()

    @staticmethod
    def extra_of(item: Mapping[str, Any]) -> str | None:
        if KNOWN_KEYS.issuperset(item):
            return None
        unknown = {k: v for k, v in item.items() if k not in KNOWN_KEYS}
        return json.dumps(unknown, cls=DjangoJSONEncoder, separators=(",", ":"))

    def _checked(self, before: int) -> None:
        if before // CHECK_EVERY != self.count // CHECK_EVERY:
            self.check()

    def rows(self, batches: Iterable[list[Any]]) -> Iterator[tuple[Any, ...]]:
        """Rows as tuples (SQLite)."""
        for batch in batches:
            before = self.count
            for item in batch:
                self.count += 1
                yield (*self._slow(item), *self.defaults) if self.defaults else self._slow(item)
            self._checked(before)

    def _groups(self, item: Any) -> tuple[list[Any], list[Any]]:
        """The item's rollup groups, created if new (the slow path: the first item of a
        group, or an invalid one, which raises). Groups are keyed by the item's fields
        as GitHub spelled them (a date "2024-01-15" or a timestamp, "Actions Linux" or
        "actions_linux"...). A daily group is [quantity, gross, discount, net, items,
        its escaped COPY fields up to unit_type, (day, product, sku, unit) as stored];
        a repository group is [..., items, its escaped repository, (repository,
        product, sku) as stored]."""
        _, day, product, sku, unit, *_, repo, _ = self._slow(item)  # raises if invalid
        key = (item["date"], item["product"], item["sku"], item["unitType"])
        day_sums = self.daily.get(key)
        if day_sums is None:
            head = "\t".join(map(escape, (self.org, day, product, sku, unit)))
            day_sums = [*_ZEROS, 0, head, (day, product, sku, unit)]
            self.daily[key] = day_sums
        repo_key = (repo, item["product"], item["sku"])
        repo_sums = self.repo_groups.get(repo_key)
        if repo_sums is None:
            repo_sums = [*_ZEROS, 0, escape(repo), (repo, product, sku)]
            self.repo_groups[repo_key] = repo_sums
        return day_sums, repo_sums

    def copy_text(self, batches: Iterable[list[Any]]) -> Iterator[str]:
        """Text-format COPY data, one chunk per batch (PostgreSQL), summing the rollups
        on the way into `daily` and `repos` (`inexact` if a sum had to round).

        Per item: look the two groups up (a group validated its day and strings, and
        escaped them, when it was created), check the numbers' types, add, format."""
        known, numbers, daily, repos = KNOWN_KEYS, _NUMBER_TYPES, self.daily, self.repo_groups
        no_extra, tail = "\t\\N" + self.tail + "\n", self.tail + "\n"
        for batch in batches:
            before = count = self.count
            lines: list[str] = []
            append = lines.append
            with decimal.localcontext(_SUM_CONTEXT) as sums:
                for item in batch:
                    count += 1
                    try:
                        product, sku = item["product"], item["sku"]
                        q, g, n = item["quantity"], item["grossAmount"], item["netAmount"]
                        p, d = item.get("pricePerUnit", 0), item.get("discountAmount", 0)
                        day_sums = daily[item["date"], product, sku, item["unitType"]]
                        # Usage GitHub does not attribute to a repository has none.
                        repo_sums = repos[item.get("repositoryName") or "", product, sku]
                    except (KeyError, TypeError, AttributeError):
                        self.count = count
                        day_sums, repo_sums = self._groups(item)
                        q, g, n = item["quantity"], item["grossAmount"], item["netAmount"]
                        p, d = item.get("pricePerUnit", 0), item.get("discountAmount", 0)
                    if not (
                        type(q) in numbers
                        and type(p) in numbers
                        and type(g) in numbers
                        and type(d) in numbers
                        and type(n) in numbers
                    ):
                        self.count = count
                        self._slow(item)  # raises, saying what is wrong
                        raise self.fail("invalid")
                    qt, pt, gt, dt, nt = str(q), str(p), str(g), str(d), str(n)
                    # Longer than "0.0080000000", or an exponent: maybe finer than stored.
                    if len(qt) > 12 or "E" in qt:
                        q, qt = as_stored(q, qt)
                    if len(pt) > 12 or "E" in pt:
                        p, pt = as_stored(p, pt)
                    if len(gt) > 12 or "E" in gt:
                        g, gt = as_stored(g, gt)
                    if len(dt) > 12 or "E" in dt:
                        d, dt = as_stored(d, dt)
                    if len(nt) > 12 or "E" in nt:
                        n, nt = as_stored(n, nt)
                    day_sums[0] += q
                    day_sums[1] += g
                    day_sums[2] += d
                    day_sums[3] += n
                    day_sums[4] += 1
                    repo_sums[0] += q
                    repo_sums[1] += g
                    repo_sums[2] += d
                    repo_sums[3] += n
                    repo_sums[4] += 1
                    fields = (day_sums[5], qt, pt, gt, dt, nt, repo_sums[5])
                    if (
                        len(item) == 11
                        and "organizationName" in item
                        and "repositoryName" in item
                        and "pricePerUnit" in item
                        and "discountAmount" in item
                    ) or known.issuperset(item):
                        append("\t".join(fields) + no_extra)
                    else:
                        self.count = count
                        append("\t".join((*fields, escape(self.extra_of(item)))) + tail)
            self.count = count
            if sums.flags[decimal.Inexact] or sums.flags[decimal.InvalidOperation]:
                self.inexact = True
            if lines:
                yield "".join(lines)
            self._checked(before)

    def daily_rollup(self) -> dict[tuple[str, ...], list[Any]]:
        """Daily sums by (day, product, sku, unit type) as stored: groups of
        "2024-01-15" and of "2024-01-15T00:00:00Z", of "Actions" and "actions", are one."""
        return _merged(self.daily.values())

    @property
    def repos(self) -> dict[tuple[str, ...], list[Any]]:
        """Sums by (repository, product, sku) as stored (spellings merged)."""
        return _merged(self.repo_groups.values())

    def sums_exact(self) -> bool:
        """Are the summed rollups what the database would compute from the stored items
        (no rounding in the sums, no amount finer than the columns' decimal places)?"""
        if self.inexact:
            return False
        for acc in itertools.chain(self.daily.values(), self.repo_groups.values()):
            for value in acc[:4]:
                if value.as_tuple().exponent < _COLUMN_EXPONENT:
                    return False
        return True


def _merged(groups: Iterable[list[Any]]) -> dict[tuple[str, ...], list[Any]]:
    """Sum groups that are one once stored (their last element is the stored key)."""
    groups = list(groups)
    if len({acc[-1] for acc in groups}) == len(groups):  # one spelling each: nothing to add
        return {acc[-1]: acc[:5] for acc in groups}
    merged: dict[tuple[str, ...], list[Any]] = {}
    with decimal.localcontext(_SUM_CONTEXT):
        for acc in groups:
            total = merged.setdefault(acc[-1], [*_ZEROS, 0])
            for i in range(5):
                total[i] += acc[i]
    return merged
