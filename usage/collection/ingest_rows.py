"""Usage items into database rows, on the ingest's hot path (`usage.ingest` writes them).

`Rows` validates each item as it streams past (a handful of type checks per item on the
fast path; anything odd is checked in full and either fixed, a timestamp date, or
refused with `MalformedResponse`) and turns it into a tuple (SQLite) or a line of
text-format COPY data (PostgreSQL). On the COPY path it also sums the month's rollups
(by day, product, SKU and unit type; by repository, product and SKU) with exact
`Decimal` arithmetic, and says whether those sums are exactly what the database would
compute from the stored items (`Rows.sums_exact`).
"""

from __future__ import annotations

import decimal
import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from billingdash.github.errors import MalformedResponse

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
_ZEROS = (Decimal(0),) * 4
# Text COPY: these characters must be escaped in a field.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def escape(value: Any) -> str:
    """One field of text-format COPY data."""
    return str(value).translate(_COPY_ESCAPES)


class Rows:
    """Turns usage items into rows, validating as it goes. The fast path is a handful of
    type checks per item (this runs a million times for a large month); anything odd
    goes to `_slow`, which either fixes it (a timestamp date) or says what is wrong."""

    def __init__(self, organization_id: int, period: date, check: Callable[[], None]) -> None:
        self.org = organization_id
        self.prefix = f"{period:%Y-%m}-"
        self.check = check
        self.count = 0
        # Rollup sums [quantity, gross, discount, net, items] by (day, product, sku,
        # unit type) and by (repository, product, sku); see `copy_text`.
        self.daily: dict[tuple[str, ...], list[Any]] = {}
        self.repos: dict[tuple[str, ...], list[Any]] = {}
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
        value = item["date"]
        if not isinstance(value, str):
            raise self.fail("date is not a string")
        # GitHub documents "2024-01-15"; some reports send a timestamp
        # ("2024-01-15T00:00:00Z"): the day is what counts.
        day = value[:10]
        if not day.startswith(self.prefix) or len(day) != 10 or not day[8:].isdigit():
            # An item outside the month would survive the next replace of its month.
            raise self.fail(f"date {value[:40]!r} is not in the requested month {self.prefix[:7]}")
        return (
            self.org,
            day,
            item["product"],
            item["sku"],
            item["unitType"],
            item["quantity"],
            item.get("pricePerUnit", 0),
            item["grossAmount"],
            item.get("discountAmount", 0),
            item["netAmount"],
            repo,
            self.extra_of(item),
        )

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
                yield self._slow(item)
            self._checked(before)

    def _groups(self, item: Any) -> tuple[list[Any], list[Any]]:
        """The item's rollup groups, created if new (the slow path: the first item of a
        group, or an invalid one, which raises). A daily group is keyed by the item's
        raw date ("2024-01-15" or a timestamp) and is [quantity, gross, discount, net,
        items, its escaped COPY fields up to unit_type, (day, product, sku, unit)];
        a repository group is [..., items, its escaped repository]."""
        _, day, product, sku, unit, *_, repo, _ = self._slow(item)  # raises if invalid
        key = (item["date"], product, sku, unit)
        day_sums = self.daily.get(key)
        if day_sums is None:
            head = "\t".join(map(escape, (self.org, day, product, sku, unit)))
            day_sums = [*_ZEROS, 0, head, (day, product, sku, unit)]
            self.daily[key] = day_sums
        repo_sums = self.repos.setdefault((repo, product, sku), [*_ZEROS, 0, escape(repo)])
        return day_sums, repo_sums

    def copy_text(self, batches: Iterable[list[Any]]) -> Iterator[str]:
        """Text-format COPY data, one chunk per batch (PostgreSQL), summing the rollups
        on the way into `daily` and `repos` (`inexact` if a sum had to round).

        Per item: look the two groups up (a group validated its day and strings, and
        escaped them, when it was created), check the numbers' types, add, format."""
        known, numbers, daily, repos = KNOWN_KEYS, _NUMBER_TYPES, self.daily, self.repos
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
                    fields = (day_sums[5], str(q), str(p), str(g), str(d), str(n), repo_sums[5])
                    if (
                        len(item) == 11
                        and "organizationName" in item
                        and "repositoryName" in item
                        and "pricePerUnit" in item
                        and "discountAmount" in item
                    ) or known.issuperset(item):
                        append("\t".join(fields) + "\t\\N\n")
                    else:
                        self.count = count
                        append("\t".join((*fields, escape(self.extra_of(item)))) + "\n")
            self.count = count
            if sums.flags[decimal.Inexact] or sums.flags[decimal.InvalidOperation]:
                self.inexact = True
            if lines:
                yield "".join(lines)
            self._checked(before)

    def daily_rollup(self) -> dict[tuple[str, ...], list[Any]]:
        """Daily sums by (day, product, sku, unit type): groups of "2024-01-15" and of
        "2024-01-15T00:00:00Z" are one day."""
        merged: dict[tuple[str, ...], list[Any]] = {}
        for acc in self.daily.values():
            total = merged.setdefault(acc[6], [*_ZEROS, 0])
            for i in range(5):
                total[i] += acc[i]
        return merged

    def sums_exact(self) -> bool:
        """Are the summed rollups what the database would compute from the stored items
        (no rounding in the sums, no amount finer than the columns' decimal places)?"""
        if self.inexact:
            return False
        for acc in itertools.chain(self.daily.values(), self.repos.values()):
            for value in acc[:4]:
                if value.as_tuple().exponent < _COLUMN_EXPONENT:
                    return False
        return True
