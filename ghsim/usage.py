"""Deterministic usage generator: line items per org, day, repository and SKU.

Everything is exact fixed-point integer arithmetic (see catalog.py): quantity has at most 4
decimals, grossAmount = round_half_up(quantity x pricePerUnit, 10 decimals),
netAmount = grossAmount - discountAmount. The same numbers feed the usage report, the
summary and `GET /_sim/orgs/<login>/totals`, so sums are reproducible exactly.

Discounts: each month's included quota (plan dependent) is consumed in order (day by
day, repositories in order, then org-level items), so early-month items are discounted
and later ones are not. Quantities are drawn from one PRNG per (seed, org, day), so a
day's items do not depend on which range was asked for. The Copilot premium-request /
AI-credit line of a day is the sum of ghsim.copilot's per-user, per-model rows (with
their per-user or pooled quotas).
"""

from __future__ import annotations

import calendar
import json
import random
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from ghsim import catalog
from ghsim.catalog import A_DECIMALS, Q_DECIMALS, Q_SCALE, Sku, fmt_units
from ghsim.copilot import PREMIUM, CopilotPlan, day_totals
from ghsim.jsonutil import Raw
from ghsim.models import Org

#: Usage older than this many months is not served ("only data from the past 24 months").
HISTORY_MONTHS = 24
QUOTA_GROUPS = (
    "actions_minutes",
    "storage",
    "packages_transfer",
    "lfs_storage",
    "lfs_bandwidth",
)
_GROUP_INDEX = {g: i for i, g in enumerate(QUOTA_GROUPS)}


@dataclass(frozen=True)
class Slot:
    """One (repository or org, SKU) pair that may have a line item every day."""

    sku: Sku
    sku_idx: int
    repo: str | None  # "owner/name", None for org-level items
    scale: float
    head: str  # JSON fragment: "product":...,"sku":...
    tail: str  # JSON fragment: ,"organizationName":...[,"repositoryName":...]}


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def visible_range(org: Org, start: date, end: date, today: date) -> tuple[date, date] | None:
    """Clip a date range to what GitHub would serve: not before the org existed, not after
    today, not older than 24 months."""
    window = add_months(date(today.year, today.month, 1), -HISTORY_MONTHS)
    lo = max(start, org.created_date, window)
    hi = min(end, today)
    return (lo, hi) if lo <= hi else None


def _mix(*parts: int) -> int:
    value = 0x9E3779B97F4A7C15
    for part in parts:
        value = (value * 6364136223846793005 + part + 1442695040888963407) % (1 << 64)
    return value


class OrgPlan:
    """The fixed structure of one org's usage: which SKUs each repository uses."""

    def __init__(self, org: Org, seed: int) -> None:
        self.org_id = org.id
        self.login = org.login
        self.seed = seed
        self.created = org.created_date
        self.density = org.density
        self.plan = org.plan
        self.copilot_plan = org.copilot_plan
        self.seats = org.copilot_seats
        skus: list[Sku] = []
        slots: list[Slot] = []

        def sku_index(sku: Sku) -> int:
            if sku not in skus:
                skus.append(sku)
            return skus.index(sku)

        login_json = json.dumps(org.login)
        per_repo = max(1, min(org.skus_per_repo, len(catalog.REPO_SKUS)))
        for r_index, repo in enumerate(org.repos):
            rng = random.Random(_mix(seed, org.id, r_index, 1))
            weight = rng.lognormvariate(0.0, 0.7)
            chosen = [catalog.REPO_SKUS[0]]
            pool = list(catalog.REPO_SKUS[1:])
            while len(chosen) < per_repo and pool:
                pick = rng.choices(pool, weights=[s.pick for s in pool])[0]
                pool.remove(pick)
                chosen.append(pick)
            chosen.sort(key=catalog.REPO_SKUS.index)
            full = json.dumps(f"{org.login}/{repo.name}")
            tail = f',"organizationName":{login_json},"repositoryName":{full}}}'
            for sku in chosen:
                slots.append(
                    self._slot(
                        sku, sku_index(sku), f"{org.login}/{repo.name}", sku.mean * weight, tail
                    )
                )
        self.repo_slot_count = len(slots)
        org_tail = f',"organizationName":{login_json}}}'
        self.seat_slot = self.premium_slot = self.ai_slot = -1
        self.copilot: CopilotPlan | None = None
        if org.copilot_seats > 0:
            seat = (
                catalog.COPILOT_ENTERPRISE
                if org.copilot_plan == "enterprise"
                else (catalog.COPILOT_BUSINESS)
            )
            self.seat_slot = len(slots)
            slots.append(self._slot(seat, sku_index(seat), None, 0.0, org_tail))
            for attr, sku in (
                ("premium_slot", catalog.COPILOT_PREMIUM),
                ("ai_slot", catalog.COPILOT_AI_CREDIT),
            ):
                setattr(self, attr, len(slots))
                slots.append(self._slot(sku, sku_index(sku), None, 0.0, org_tail))
            self.copilot = CopilotPlan(org, seed)
        self.skus = skus
        self.slots = slots
        # Hot-loop parameters for repository slots.
        self._params = [(s.scale, s.sku.weekend, s.sku.whole_units) for s in slots]
        self._quota = [
            (_GROUP_INDEX[s.sku.quota], s.sku.weight) if s.sku.quota else (-1, 1) for s in slots
        ]

    @staticmethod
    def _slot(sku: Sku, idx: int, repo: str | None, scale: float, tail: str) -> Slot:
        head = f'"product":{json.dumps(sku.product)},"sku":{json.dumps(sku.name)}'
        return Slot(sku=sku, sku_idx=idx, repo=repo, scale=scale, head=head, tail=tail)

    # -- quantities -----------------------------------------------------------------
    def day_quantities(self, day: date) -> list[tuple[int, int]]:
        """[(slot index, quantity in 1e-4 units)] for one day, in slot order."""
        if day < self.created:
            return []
        rng = random.Random(_mix(self.seed, self.org_id, day.toordinal(), 2))
        rand = rng.random
        weekend = day.weekday() >= 5
        density = self.density
        out: list[tuple[int, int]] = []
        append = out.append
        params = self._params
        for i in range(self.repo_slot_count):
            r1 = rand()
            r2 = rand()
            if r1 >= density:
                continue
            scale, wk, whole = params[i]
            f = scale * (wk if weekend else 1.0) * (0.4 + 1.2 * r2)
            append((i, (int(f + 0.5) or 1) * Q_SCALE if whole else (int(f * Q_SCALE) or 1)))
        if self.seat_slot >= 0:
            r = rand()
            seats = max(1, self.seats - (1 if r < 0.15 else 0))
            dim = calendar.monthrange(day.year, day.month)[1]
            # Seats are prorated daily: seats / days-in-month user-months, 4 decimals.
            append((self.seat_slot, (2 * seats * Q_SCALE + dim) // (2 * dim)))
        return out

    # -- rows with amounts ----------------------------------------------------------
    def month_prices(self, year: int, month: int) -> list[int]:
        first = date(year, month, 1)
        return [sku.price_units(first) for sku in self.skus]

    def iter_rows(self, start: date, end: date) -> Iterator[tuple[date, list[tuple[int, ...]]]]:
        """Yield (day, [(slot, quantity, gross, discount, discount_quantity)]) for each day
        in [start, end]; quotas are consumed from the first day of each month."""
        month = date(start.year, start.month, 1)
        quota_slots = self._quota
        while month <= end:
            dim = calendar.monthrange(month.year, month.month)[1]
            quotas = catalog.month_quotas(self.plan, dim, self.copilot_plan, self.seats)
            remaining = [quotas[g] for g in QUOTA_GROUPS]
            prices = self.month_prices(month.year, month.month)
            slot_prices = [prices[s.sku_idx] for s in self.slots]
            copilot = self.copilot.month(month.year, month.month) if self.copilot else None
            day = max(month, self.created)
            last = min(date(month.year, month.month, dim), end)
            while day <= last:
                emit = day >= start
                rows: list[tuple[int, ...]] = []
                for i, q in self.day_quantities(day):
                    group, weight = quota_slots[i]
                    if group < 0 and not emit:
                        continue
                    p = slot_prices[i]
                    gross = (q * p + 50) // 100
                    dq = disc = 0
                    if group >= 0 and remaining[group] > 0:
                        cap = remaining[group] // weight
                        dq = q if q <= cap else cap
                        remaining[group] -= dq * weight
                        disc = gross if dq == q else (dq * p + 50) // 100
                    if emit:
                        rows.append((i, q, gross, disc, dq))
                billed = copilot.day(day) if emit and copilot is not None else None
                if billed:
                    slot = self.premium_slot if copilot.era == PREMIUM else self.ai_slot
                    rows.append((slot, *day_totals(billed)))
                if emit:
                    yield day, rows
                day += timedelta(days=1)
            month = add_months(month, 1)


# -- JSON output -------------------------------------------------------------------------
def _fq(q: int) -> str:
    return str(q // Q_SCALE) if q % Q_SCALE == 0 else fmt_units(q, Q_DECIMALS)


def _fa(a: int) -> str:
    return fmt_units(a, A_DECIMALS) if a else "0"


def usage_items_chunks(
    plan: OrgPlan, span: tuple[date, date] | None, chunk_items: int = 2000
) -> Iterator[str]:
    """The usage report as a stream of JSON text chunks: `{"usageItems":[` ... `]}`."""
    yield '{"usageItems":['
    if span is None:
        yield "]}"
        return
    slots = plan.slots
    first = True
    buf: list[str] = []
    month_key = None
    unit_price: list[str] = []
    for day, rows in plan.iter_rows(*span):
        if (day.year, day.month) != month_key:
            month_key = (day.year, day.month)
            prices = plan.month_prices(day.year, day.month)
            unit_price = [
                f'"unitType":{json.dumps(sku.unit)},"pricePerUnit":{fmt_units(p, 8)}'
                for sku, p in zip(plan.skus, prices, strict=True)
            ]
        pre = '{"date":"' + day.isoformat() + 'T00:00:00Z",'
        for i, q, gross, disc, _dq in rows:
            s = slots[i]
            buf.append(
                f'{pre}{s.head},"quantity":{_fq(q)},{unit_price[s.sku_idx]},'
                f'"grossAmount":{_fa(gross)},"discountAmount":{_fa(disc)},'
                f'"netAmount":{_fa(gross - disc)}{s.tail}'
            )
            if len(buf) >= chunk_items:
                yield ("" if first else ",") + ",".join(buf)
                first = False
                buf = []
    if buf:
        yield ("" if first else ",") + ",".join(buf)
    yield "]}"


class RenderedReports:
    """Opt-in memory of rendered usage reports (``SIM_USAGE_CACHE_MB``), so that a
    benchmark measures the client, not this generator: the first request of a report
    streams it as usual and keeps its bytes (if they fit in the budget); later requests
    of the same plan and span get the same bytes from memory. The output is a function
    of (plan, span) alone, so a kept answer is the answer. Oldest out first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Keyed by the plan object itself (identity): a plan rebuilt for a changed
        # org is another key.
        self._reports: dict[tuple[OrgPlan, tuple[date, date] | None], tuple[bytes, ...]] = {}

    def chunks(self, plan: OrgPlan, span: tuple[date, date] | None, budget: int) -> Iterable[bytes]:
        with self._lock:
            hit = self._reports.get((plan, span))
        return hit if hit is not None else self._record(plan, span, budget)

    def _record(
        self, plan: OrgPlan, span: tuple[date, date] | None, budget: int
    ) -> Iterator[bytes]:
        parts: list[bytes] | None = []
        size = 0
        for text in usage_items_chunks(plan, span):
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
            self._reports[(plan, span)] = tuple(parts)


def _norm(text: str) -> str:
    return text.strip().lower().replace(" ", "_").replace("-", "_")


def summary_items(
    plan: OrgPlan,
    span: tuple[date, date] | None,
    repository: str | None = None,
    product: str | None = None,
    sku: str | None = None,
) -> list[dict[str, object]]:
    """Usage summary rows per (product, SKU) with gross/discount/net quantity and amount."""
    if span is None:
        return []
    acc: dict[int, list[int]] = {}
    repo_l = repository.lower() if repository else None
    prod_n = _norm(product) if product else None
    sku_l = sku.strip().lower() if sku else None
    wanted = []
    for s in plan.slots:
        ok = (repo_l is None or (s.repo or "").lower() == repo_l) and (
            prod_n is None or _norm(s.sku.product) == prod_n
        )
        ok = ok and (sku_l is None or sku_l in (s.sku.key, s.sku.name.lower()))
        wanted.append(ok)
    for _day, rows in plan.iter_rows(*span):
        for i, q, gross, disc, dq in rows:
            if wanted[i]:
                a = acc.setdefault(plan.slots[i].sku_idx, [0, 0, 0, 0])
                a[0] += q
                a[1] += gross
                a[2] += dq
                a[3] += disc
    prices = plan.month_prices(span[0].year, span[0].month)
    out = []
    for idx in sorted(acc):
        q, gross, dq, disc = acc[idx]
        s = plan.skus[idx]
        out.append(
            {
                "product": s.product,
                "sku": s.key,
                "unitType": s.unit,
                "pricePerUnit": Raw(fmt_units(prices[idx], 8)),
                "grossQuantity": Raw(_fq(q)),
                "grossAmount": Raw(_fa(gross)),
                "discountQuantity": Raw(_fq(dq)),
                "discountAmount": Raw(_fa(disc)),
                "netQuantity": Raw(_fq(q - dq)),
                "netAmount": Raw(_fa(gross - disc)),
            }
        )
    return out


def totals(plan: OrgPlan, span: tuple[date, date] | None, group_by: str) -> dict[str, object]:
    """Independent recomputation for `GET /_sim/orgs/<login>/totals` (decimal strings)."""
    groups: dict[str, list[int]] = {}
    total = [0, 0, 0, 0, 0]
    if span is not None:
        for day, rows in plan.iter_rows(*span):
            for i, q, gross, disc, _dq in rows:
                s = plan.slots[i]
                key = {
                    "day": day.isoformat(),
                    "product": s.sku.product,
                    "sku": s.sku.name,
                    "repository": s.repo or "",
                }[group_by]
                g = groups.setdefault(key, [0, 0, 0, 0, 0])
                for acc in (g, total):
                    acc[0] += 1
                    acc[1] += q
                    acc[2] += gross
                    acc[3] += disc
                    acc[4] += gross - disc

    def render(v: list[int]) -> dict[str, object]:
        return {
            "items": v[0],
            "quantity": fmt_units(v[1], Q_DECIMALS),
            "gross": fmt_units(v[2], A_DECIMALS),
            "discount": fmt_units(v[3], A_DECIMALS),
            "net": fmt_units(v[4], A_DECIMALS),
        }

    return {
        "start": span[0].isoformat() if span else None,
        "end": span[1].isoformat() if span else None,
        "group_by": group_by,
        "groups": [{"key": k, **render(v)} for k, v in sorted(groups.items())],
        "total": render(total),
    }
