"""GitHub's downloadable usage reports as CSV text, streamed (billing-reports.md §2-§7).

Physical format, as GitHub's exports: UTF-8 with a BOM, CRLF line ends (also after the
last row), every value double-quoted (`""` when empty), comma-separated, rows in date
order. Vocabulary of the CSV files: lower-case `product`, snake_case `sku`, hyphenated
lower-case `unit_type` (`minutes`, `gigabyte-hours`, `user-months`, `requests`,
`ai-credits`), bare repository names, `YYYY-MM-DD` dates (the UI "AI usage" format
prints US `M/D/YY`).

Numbers are written as GitHub writes them: the shortest text that reads back as the same
double (`0.036000000000000004`, `9.409E-05`, `42`), computed the way a float pipeline
would (gross = quantity x price, net = gross - discount, "Auto:" quantities as sums of
0.9s). Each value is within a quarter unit of the simulator's exact fixed-point number,
so rounding a value to 4 (quantity), 8 (price) or 10 (amount) decimals gives exactly what
the REST usage endpoint returns, and sums of rounded values agree to the last decimal.

Reports:
- summarized (12 columns): one row per usage item (the REST usage report's items).
- detailed (14 columns): one row per part of ghsim.breakdown (username, workflow_path);
  the Copilot premium-request / AI-credit line of a day has one row per user.
- copilot (15, 17 or 21 columns, `FORMATS`): one row per (day, user, model) of
  ghsim.copilot; the format in force on the period's last day unless overridden.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from ghsim import catalog, copilot
from ghsim.breakdown import Breakdown
from ghsim.catalog import A_SCALE, P_SCALE, Q_SCALE
from ghsim.copilot import MODELS, Billed
from ghsim.people import People
from ghsim.usage import OrgPlan

BOM = "\ufeff"
CHUNK_ROWS = 2000
UNITS = {
    "Minutes": "minutes",
    "GigabyteHours": "gigabyte-hours",
    "Gigabytes": "gigabytes",
    "Hours": "hours",
    "UserMonths": "user-months",
    "Requests": "requests",
    "Credits": "ai-credits",
}
_MONEY = ["applied_cost_per_quantity", "gross_amount", "discount_amount", "net_amount"]
SUMMARIZED = [
    *["date", "product", "sku", "quantity", "unit_type", *_MONEY],
    *["organization", "repository", "cost_center_name"],
]
DETAILED = [
    *["date", "product", "sku", "quantity", "unit_type", *_MONEY],
    *["username", "organization", "repository", "workflow_path", "cost_center_name"],
]
_PR = ["date", "username", "product", "sku", "model", "quantity", "unit_type", *_MONEY]
_AIC = ["aic_quantity", "aic_gross_amount"]
_TOKENS = ["input", "output", "cache_read", "cache_write"]
#: Copilot report formats: name -> columns (billing-reports.md §4.5-§4.7).
FORMATS: dict[str, list[str]] = {
    "premium_requests": [
        *_PR,
        "exceeds_quota",
        "total_monthly_quota",
        "organization",
        "cost_center_name",
    ],
    "transition": [
        *_PR,
        "exceeds_quota",
        "total_monthly_quota",
        "organization",
        "cost_center_name",
        *_AIC,
    ],
    "ai_credits": [
        *_PR,
        "total_monthly_quota",
        "organization",
        "repository",
        "cost_center_name",
        *_AIC,
    ],
    "ai_credits_tokens": [
        *_PR,
        "total_monthly_quota",
        "organization",
        "repository",
        "cost_center_name",
        *_AIC,
        *_TOKENS,
    ],
    # The web UI's 16-column "AI usage" report with US dates (§4.7 a); on request only.
    "ai_usage_ui": [
        *_PR,
        "total_monthly_quota",
        "organization",
        "cost_center_name",
        *_AIC,
    ],
}
MAX_DAYS = {"summarized": 366, "detailed": 31, "copilot": 31}


def copilot_format(end: date) -> str:
    """The Copilot report format in force for a period ending on `end`."""
    if end < catalog.AIC_COLUMNS_START:
        return "premium_requests"
    if end < catalog.AI_CREDITS_START:
        return "transition"
    if end < catalog.TOKEN_COLUMNS_START:
        return "ai_credits"
    return "ai_credits_tokens"


# -- numbers ------------------------------------------------------------------------------
def dtext(value: float) -> str:
    """Shortest round-trip text of a double, as .NET prints it (`42`, `9.409E-05`)."""
    text = repr(value)
    if text.endswith(".0"):
        return text[:-2]
    return text.replace("e", "E") if "e" in text else text


def exact(units: int, scale: int) -> str:
    """An exact fixed-point number as the nearest double's text."""
    if units % scale == 0:
        return str(units // scale)
    return dtext(units / scale)


def close(value: float, units: int, scale: int) -> bool:
    """Does `value` round to `units` (with a wide margin)?"""
    return abs(value * scale - units) < 0.25


def amounts(q_float: float, p_float: float, gross: int, disc: int) -> tuple[str, str, str]:
    """Gross, discount and net texts, computed like GitHub's floats where they agree."""
    g = q_float * p_float
    g_text = dtext(g) if close(g, gross, A_SCALE) else exact(gross, A_SCALE)
    if disc == 0:
        return g_text, "0", g_text
    if disc == gross:
        return g_text, g_text, "0"
    g = float(g_text)
    d = disc / A_SCALE
    n = g - d
    net = gross - disc
    return g_text, dtext(d), dtext(n) if close(n, net, A_SCALE) else exact(net, A_SCALE)


def _q(q: int) -> tuple[str, float]:
    if q % Q_SCALE == 0:
        return str(q // Q_SCALE), float(q // Q_SCALE)
    f = q / Q_SCALE
    return dtext(f), f


def _quote(value: str) -> str:
    return value.replace('"', '""')


def _line(values: list[str]) -> str:
    return '"' + '","'.join(values) + '"\r\n'


def _stream(header: list[str], lines: Iterator[str]) -> Iterator[bytes]:
    buf = [BOM + _line(header)]
    for line in lines:
        buf.append(line)
        if len(buf) >= CHUNK_ROWS:
            yield "".join(buf).encode()
            buf = []
    yield "".join(buf).encode()


class _Slots:
    """Quoted constant texts per slot, and per-month price texts."""

    def __init__(self, plan: OrgPlan) -> None:
        self.plan = plan
        self.org = _quote(plan.login)
        self.head = [f'{s.sku.product}","{s.sku.key}' for s in plan.slots]
        self.unit = [UNITS.get(s.sku.unit, s.sku.unit.lower()) for s in plan.slots]
        self.repo = [_quote(s.repo.split("/", 1)[1]) if s.repo else "" for s in plan.slots]
        self._month: tuple[int, int] | None = None
        self.price_text: list[str] = []
        self.price_float: list[float] = []

    def month(self, day: date) -> None:
        if self._month == (day.year, day.month):
            return
        self._month = (day.year, day.month)
        prices = self.plan.month_prices(day.year, day.month)
        by_slot = [prices[s.sku_idx] for s in self.plan.slots]
        self.price_text = [exact(p, P_SCALE) for p in by_slot]
        self.price_float = [p / P_SCALE for p in by_slot]


# -- summarized and detailed ----------------------------------------------------------------
def summarized_csv(plan: OrgPlan, span: tuple[date, date] | None) -> Iterator[bytes]:
    """The summarized usage report: the REST usage report's items, 12 columns."""
    return _stream(SUMMARIZED, _summarized_lines(plan, span))


def _summarized_lines(plan: OrgPlan, span: tuple[date, date] | None) -> Iterator[str]:
    if span is None:
        return
    c = _Slots(plan)
    for day, rows in plan.iter_rows(*span):
        c.month(day)
        pre = f'"{day.isoformat()}","'
        for i, q, gross, disc, _dq in rows:
            q_text, q_float = _q(q)
            g, d, n = amounts(q_float, c.price_float[i], gross, disc)
            yield (
                f'{pre}{c.head[i]}","{q_text}","{c.unit[i]}","{c.price_text[i]}","{g}",'
                f'"{d}","{n}","{c.org}","{c.repo[i]}",""\r\n'
            )


def detailed_csv(breakdown: Breakdown, span: tuple[date, date] | None) -> Iterator[bytes]:
    """The detailed usage report: every item per username and workflow_path, 14 columns."""
    return _stream(DETAILED, _detailed_lines(breakdown, span))


def _detailed_lines(breakdown: Breakdown, span: tuple[date, date] | None) -> Iterator[str]:
    c = _Slots(breakdown.plan)
    current = None
    pre = ""
    for day, i, *_item, parts in breakdown.iter_items(span):
        if day != current:
            current = day
            c.month(day)
            pre = f'"{day.isoformat()}","'
        head, unit, price, p_float = c.head[i], c.unit[i], c.price_text[i], c.price_float[i]
        mid = f'","{c.org}","{c.repo[i]}","'
        for user, workflow, _model, q, gross, disc in (
            _merge_models(parts) if parts[0][2] else parts
        ):
            q_text, q_float = _q(q)
            g, d, n = amounts(q_float, p_float, gross, disc)
            yield (
                f'{pre}{head}","{q_text}","{unit}","{price}","{g}","{d}","{n}",'
                f'"{_quote(user)}{mid}{workflow}",""\r\n'
            )


def _merge_models(parts: list) -> Iterator[tuple[str, str, str, int, int, int]]:
    """Copilot parts (one per user and model, by user) as one part per user."""
    current: list | None = None
    for user, workflow, _model, q, gross, disc in parts:
        if current is not None and current[0] == user:
            current[3] += q
            current[4] += gross
            current[5] += disc
            continue
        if current is not None:
            yield tuple(current)  # type: ignore[misc]
        current = [user, workflow, "", q, gross, disc]
    if current is not None:
        yield tuple(current)  # type: ignore[misc]


# -- Copilot ----------------------------------------------------------------------------------
def copilot_csv(
    plan: OrgPlan, people: People, span: tuple[date, date] | None, fmt: str
) -> Iterator[bytes]:
    """The Copilot usage report in format `fmt` (a key of FORMATS)."""
    columns = FORMATS[fmt]
    return _stream(columns, _copilot_lines(plan, people, span, columns, fmt == "ai_usage_ui"))


def copilot_rows(
    plan: OrgPlan, span: tuple[date, date] | None
) -> Iterator[tuple[date, list[Billed]]]:
    """The Copilot report's days: from COPILOT_REPORT_START, rows sorted by model, seat."""
    if span is None or plan.copilot is None:
        return
    start = max(span[0], catalog.COPILOT_REPORT_START)
    if start > span[1]:
        return
    for day, rows in plan.copilot.iter_billed(start, span[1]):
        yield day, sorted(rows, key=lambda r: (MODELS[r.model].name, r.seat))


def _copilot_lines(
    plan: OrgPlan,
    people: People,
    span: tuple[date, date] | None,
    columns: list[str],
    us_dates: bool,
) -> Iterator[str]:
    org = _quote(plan.login)
    repos = plan.copilot.repo_names if plan.copilot else ()
    ai_format = "repository" in columns or us_dates
    for day, rows in copilot_rows(plan, span):
        shown = f"{day.month}/{day.day}/{day.year % 100:02d}" if us_dates else day.isoformat()
        sku = copilot.sku_for(day)
        price = sku.price_units(day)
        price_text, price_float = exact(price, P_SCALE), price / P_SCALE
        is_ai = copilot.era(day) == copilot.AI
        for r in rows:
            model = MODELS[r.model]
            q_text, q_float = _quantity(r, model.multiplier, is_ai)
            g, d, n = amounts(q_float, price_float, r.gross, r.disc)
            values = {
                "date": shown,
                "username": _quote(people.seats[r.seat]),
                "product": "copilot",
                "sku": sku.key,
                "model": model.name,
                "quantity": q_text,
                "unit_type": UNITS[sku.unit],
                "applied_cost_per_quantity": price_text,
                "gross_amount": g,
                "discount_amount": d,
                "net_amount": n,
                "exceeds_quota": "True" if r.disc < r.gross else "False",
                "total_monthly_quota": "0" if ai_format and not is_ai else str(r.quota),
                "organization": org,
                "repository": _quote(repos[r.repo]) if r.repo >= 0 else "",
                "cost_center_name": "",
            }
            values.update(_aic(r, is_ai))
            if "input" in columns:
                values.update(
                    zip(_TOKENS, map(str, copilot.tokens(r.credits, r.model)), strict=True)
                )
            yield _line([values[c] for c in columns])


def _quantity(r: Billed, multiplier: int, is_ai: bool) -> tuple[str, float]:
    if is_ai or multiplier % Q_SCALE == 0:
        return _q(r.q)
    # A float pipeline adds up 0.9-request interactions: 0.9 + 0.9 + ... (GitHub's
    # reports show 0.8999999999999999 and friends).
    step = multiplier / Q_SCALE
    total = 0.0
    for _ in range(r.q // multiplier):
        total += step
    return (dtext(total), total) if close(total, r.q, Q_SCALE) else _q(r.q)


def _aic(r: Billed, is_ai: bool) -> dict[str, str]:
    """AI-credit equivalent of premium-request rows; `0` on AI-credit rows (REST export)."""
    if is_ai:
        return {"aic_quantity": "0", "aic_gross_amount": "0"}
    text, value = _q(r.credits)
    price = catalog.COPILOT_AI_CREDIT.prices[0][1]
    gross = r.credits * catalog.decimal_units(price, 8) // 100
    return {"aic_quantity": text, "aic_gross_amount": amounts(value, float(price), gross, 0)[0]}
