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
their per-user or pooled quotas). The JSON answers built from these rows (usage
report, summary, totals) are in usage_output.py.
"""

from __future__ import annotations

import calendar
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from ghsim import catalog
from ghsim.catalog import Q_SCALE, Sku
from ghsim.copilot import PREMIUM, CopilotPlan, day_totals
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
