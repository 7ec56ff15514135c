"""Two ways of answering the enhanced billing endpoints, chosen per organization.

- "documented": exactly GitHub's REST description and its examples (spec/openapi-subset.json,
  spec/examples/GET__organizations__org__settings__billing__usage.200.json):
  `"date": "2023-08-01"`, `"product": "Actions"`, `"sku": "Actions Linux"`,
  `"unitType": "minutes"`, numbers as plain exact decimals; the summary prints SKU ids
  (`actions_linux`) as its example does. An org without the enhanced billing platform gets
  the documented 400 with GitHub's message.
- "observed": what published real answers show (spec/billing-reports.md §5.2 and §9):
  `"date": "2025-01-01T00:00:00Z"`, lower-case product ids (`actions`), display SKU names
  (`Actions storage`), CamelCase unit types (`Minutes`, `GigabyteHours`, `UserMonths`),
  quantities and amounts as binary floats (numbers.py); an org without the enhanced
  billing platform gets 404 Not Found (usage and summary), as the real GitHub does.

Both print the same underlying numbers (`GET /_sim/orgs/<login>/totals` is exact and the
same for both). An org's dialect: `OrgSpec.dialect` / `Org.dialect`, else the world's
default (`SIM_DIALECT`, `State.dialect`); the control API changes either.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal

from ghsim.apiutil import ApiError
from ghsim.catalog import A_DECIMALS, P_DECIMALS, Q_DECIMALS, Q_SCALE, fmt_units
from ghsim.jsonutil import Raw
from ghsim.numbers import FloatPrinter
from ghsim.usage import OrgPlan

DOCUMENTED = "documented"
OBSERVED = "observed"
DIALECTS = (OBSERVED, DOCUMENTED)

#: Product ids as the description's examples and the docs' migration page print them.
DOCUMENTED_PRODUCTS = {
    "actions": "Actions",
    "packages": "Packages",
    "codespaces": "Codespaces",
    "copilot": "Copilot",
    "git_lfs": "Git LFS",
}
#: Unit types where GitHub's docs show one: `minutes` (the usage example), `gigabytes` and
#: `GigabyteHours` (billing/reference/previous-billing-platform-endpoints), `requests`
#: (the premium request example); `hours` and `user-months` are the lower-case forms of
#: the report files (billing-reports.md §5.1), as the docs show none.
DOCUMENTED_UNITS = {
    "Minutes": "minutes",
    "Gigabytes": "gigabytes",
    "GigabyteHours": "GigabyteHours",
    "Hours": "hours",
    "UserMonths": "user-months",
    "Requests": "requests",
}
NOT_ENHANCED = (
    "Billing usage is only available to organizations with access to the enhanced billing platform."
)


def check_dialect(value: object) -> str:
    if value not in DIALECTS:
        raise ValueError(f"dialect must be one of {', '.join(DIALECTS)}")
    return str(value)


def product_name(product: str, dialect: str) -> str:
    return DOCUMENTED_PRODUCTS.get(product, product) if dialect == DOCUMENTED else product


def unit_name(unit: str, dialect: str) -> str:
    return DOCUMENTED_UNITS.get(unit, unit.lower()) if dialect == DOCUMENTED else unit


def not_enhanced(dialect: str, doc: str) -> ApiError:
    """What usage and summary answer an org without the enhanced billing platform."""
    if dialect == DOCUMENTED:
        return ApiError(400, NOT_ENHANCED, doc)
    return ApiError(404, "Not Found", doc)


# -- the usage report ----------------------------------------------------------------------
def _plain_quantity(q: int) -> str:
    return str(q // Q_SCALE) if q % Q_SCALE == 0 else fmt_units(q, Q_DECIMALS)


def _plain_amount(a: int) -> str:
    return fmt_units(a, A_DECIMALS) if a else "0"


def usage_report_chunks(
    plan: OrgPlan, span: tuple[date, date] | None, dialect: str, chunk_items: int = 2000
) -> Iterator[str]:
    """The usage report in the org's dialect, as a stream of JSON text chunks."""
    yield '{"usageItems":['
    if span is None:
        yield "]}"
        return
    observed = dialect == OBSERVED
    slots = plan.slots
    heads = [
        f'"product":{json.dumps(product_name(s.sku.product, dialect))},'
        f'"sku":{json.dumps(s.sku.name)}'
        for s in slots
    ]
    printer = FloatPrinter()
    first = True
    buf: list[str] = []
    month_key = None
    unit_price: list[str] = []
    price_f: list[float] = []
    date_tail = 'T00:00:00Z",' if observed else '",'
    for day, rows in plan.iter_rows(*span):
        if (day.year, day.month) != month_key:
            month_key = (day.year, day.month)
            prices = plan.month_prices(day.year, day.month)
            price_f = [float(fmt_units(p, P_DECIMALS)) for p in prices]
            unit_price = [
                f'"unitType":{json.dumps(unit_name(sku.unit, dialect))},'
                f'"pricePerUnit":{fmt_units(p, P_DECIMALS)}'
                for sku, p in zip(plan.skus, prices, strict=True)
            ]
        pre = '{"date":"' + day.isoformat() + date_tail
        for i, q, gross, disc, dq in rows:
            s = slots[i]
            if observed:
                numbers = _observed_numbers(
                    printer, q, gross, disc, dq, price_f[s.sku_idx], s.sku.whole_units
                )
            else:
                numbers = (
                    _plain_quantity(q),
                    _plain_amount(gross),
                    _plain_amount(disc),
                    _plain_amount(gross - disc),
                )
            buf.append(
                f'{pre}{heads[i]},"quantity":{numbers[0]},{unit_price[s.sku_idx]},'
                f'"grossAmount":{numbers[1]},"discountAmount":{numbers[2]},'
                f'"netAmount":{numbers[3]}{s.tail}'
            )
            if len(buf) >= chunk_items:
                yield ("" if first else ",") + ",".join(buf)
                first = False
                buf = []
    if buf:
        yield ("" if first else ",") + ",".join(buf)
    yield "]}"


def _observed_numbers(
    printer: FloatPrinter, q: int, gross: int, disc: int, dq: int, price: float, whole: bool
) -> tuple[str, str, str, str]:
    """(quantity, gross, discount, net) as a float computation prints them."""
    # Minutes are whole; other quantities come out of a float multiplication.
    if whole:
        q_f = float(q // Q_SCALE)
        q_text = str(q // Q_SCALE)
    else:
        q_f = q * 0.0001
        q_text = printer(q, Q_DECIMALS, q_f)
    gross_f = q_f * price
    gross_text = printer(gross, A_DECIMALS, gross_f)
    if not dq:
        return q_text, gross_text, "0", gross_text
    if dq == q:
        return q_text, gross_text, gross_text, "0"
    disc_f = (float(dq // Q_SCALE) if whole and dq % Q_SCALE == 0 else dq * 0.0001) * price
    return (
        q_text,
        gross_text,
        printer(disc, A_DECIMALS, disc_f),
        printer(gross - disc, A_DECIMALS, gross_f - disc_f),
    )


# -- the summary ------------------------------------------------------------------------------
_QUANTITY_KEYS = ("grossQuantity", "discountQuantity", "netQuantity")
_AMOUNT_KEYS = ("grossAmount", "discountAmount", "netAmount")


def summary_rows(rows: list[dict[str, object]], dialect: str) -> list[dict[str, object]]:
    """The summary's rows (usage.summary_items: observed names, exact decimals) in the
    org's dialect. Both keep the SKU id, as GitHub's summary example does."""
    printer = FloatPrinter(limit=1000)
    out = []
    for row in rows:
        row = dict(row)
        row["product"] = product_name(str(row["product"]), dialect)
        row["unitType"] = unit_name(str(row["unitType"]), dialect)
        if dialect == OBSERVED:
            for keys, decimals, step in (
                (_QUANTITY_KEYS, Q_DECIMALS, 0.0001),
                (_AMOUNT_KEYS, A_DECIMALS, 1e-10),
            ):
                for key in keys:
                    units = int(Decimal(str(row[key])).scaleb(decimals))
                    row[key] = Raw(printer(units, decimals, units * step))
        out.append(row)
    return out


# -- kept reports (SIM_USAGE_CACHE_MB) ----------------------------------------------------------
class RenderedReports:
    """Opt-in memory of rendered usage reports, per (plan, span, dialect): the first
    request streams as usual and keeps its bytes if they fit in the budget; repeats are
    served from memory, byte for byte the same. Oldest out first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reports: dict[tuple[object, ...], tuple[bytes, ...]] = {}

    def chunks(
        self, plan: OrgPlan, span: tuple[date, date] | None, dialect: str, budget: int
    ) -> Iterable[bytes]:
        key = (plan, span, dialect)
        with self._lock:
            hit = self._reports.get(key)
        return hit if hit is not None else self._record(key, budget)

    def _record(self, key: tuple[object, ...], budget: int) -> Iterator[bytes]:
        plan, span, dialect = key
        parts: list[bytes] | None = []
        size = 0
        for text in usage_report_chunks(plan, span, dialect):  # type: ignore[arg-type]
            data = text.encode()
            size += len(data)
            if parts is not None:
                parts = parts if size <= budget else None
                if parts is not None:
                    parts.append(data)
            yield data
        if parts is None:
            return
        with self._lock:
            held = sum(len(p) for kept in self._reports.values() for p in kept)
            while self._reports and held + size > budget:
                oldest = next(iter(self._reports))
                held -= sum(len(p) for p in self._reports.pop(oldest))
            self._reports[key] = tuple(parts)
