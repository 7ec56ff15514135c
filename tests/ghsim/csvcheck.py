"""Read GitHub-style usage report CSVs strictly (BOM, CRLF, every value quoted)."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import date
from decimal import Decimal

Q, P, A = Decimal("1e-4"), Decimal("1e-8"), Decimal("1e-10")
AMOUNTS = ("gross_amount", "discount_amount", "net_amount")


def parse(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    """(header, rows) of a report; asserts GitHub's physical format on the way."""
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM"
    text = data[3:].decode("utf-8")
    assert text.endswith("\r\n"), "CRLF after the last row"
    lines = text.split("\r\n")[:-1]
    assert all("\n" not in line and "\r" not in line for line in lines), "CRLF only"
    rows = list(csv.reader(lines))
    for line, fields in zip(lines, rows, strict=True):
        quoted = ",".join('"' + f.replace('"', '""') + '"' for f in fields)
        assert line == quoted, f"every value double-quoted: {line}"
    header = rows[0]
    assert all(len(r) == len(header) for r in rows)
    return header, [dict(zip(header, r, strict=True)) for r in rows[1:]]


def value(text: str, places: Decimal) -> Decimal:
    """A report number rounded to the usage endpoint's decimals (exact simulator value)."""
    return Decimal(text).quantize(places)


def row_sums(row: dict[str, str]) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    return (
        value(row["quantity"], Q),
        value(row["gross_amount"], A),
        value(row["discount_amount"], A),
        value(row["net_amount"], A),
    )


def total(rows: list[dict[str, str]], key=None) -> dict:
    """Sums (quantity, gross, discount, net) of rows, per key(row) or overall (None)."""
    sums: dict = defaultdict(lambda: [Decimal(0)] * 4)
    for row in rows:
        acc = sums[key(row) if key else None]
        for i, v in enumerate(row_sums(row)):
            acc[i] += v
    return {k: tuple(v) for k, v in sums.items()}


def usage_items(resp) -> list[dict]:
    assert resp.status_code == 200, resp.text
    return json.loads(resp.content, parse_float=Decimal)["usageItems"]


def item_sums(items: list[dict], key=None) -> dict:
    sums: dict = defaultdict(lambda: [Decimal(0)] * 4)
    for item in items:
        acc = sums[key(item) if key else None]
        for i, name in enumerate(("quantity", "grossAmount", "discountAmount", "netAmount")):
            acc[i] += Decimal(item[name])
    return {k: tuple(v) for k, v in sums.items()}


def month_span(first: date) -> tuple[date, date]:
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, date.fromordinal(nxt.toordinal() - 1)
