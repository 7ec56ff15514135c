"""Spend spikes for demos and tests: one day's quantity of one SKU, multiplied.

`POST /_sim/orgs/<login>/spikes {"day", "sku", "repository"?, "factor"}` multiplies that
day's quantity of that SKU (in that repository, or in every repository and at org level
when none is named). The spike is applied where the generator hands out a day's
quantities (`SpikedPlan.day_quantities`), before amounts, included-quota discounts and any
later split of an item (per user, per workflow) are computed, so the usage report, the
summary and `GET /_sim/orgs/<login>/totals` all show it, exactly and consistently: the
included quota runs out earlier that month, later items lose their discount.

A spike multiplies quantities that exist: a day on which the SKU has no item stays
empty (the answer of the control call says how many items it touched that day).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from ghsim.catalog import Q_SCALE, SKUS_BY_KEY, Sku
from ghsim.models import Org
from ghsim.usage import OrgPlan

MAX_FACTOR = Decimal(100_000)


class SpikeError(ValueError):
    """A spike the control API refuses (400 with the message)."""


@dataclass(frozen=True)
class Spike:
    day: date
    sku: str  # the SKU identifier, e.g. "actions_linux"
    repository: str | None  # "owner/name" (lower case) or None: everywhere
    factor: Decimal

    def as_json(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "sku": self.sku,
            "repository": self.repository,
            "factor": str(self.factor),
        }


def spike_key(spike: Spike) -> tuple[str, str, str | None]:
    return (spike.day.isoformat(), spike.sku, spike.repository)


def find_sku(text: str) -> Sku:
    """A SKU by identifier or display name, case-insensitively."""
    wanted = text.strip().lower()
    for sku in SKUS_BY_KEY.values():
        if wanted in (sku.key, sku.name.lower()):
            return sku
    raise SpikeError(f"unknown sku {text!r} (see GET /_sim/catalog)")


def parse_spike(org: Org, data: dict[str, Any]) -> Spike:
    """Validate a control-API body against the org (its repositories, its SKUs)."""
    try:
        day = date.fromisoformat(str(data.get("day") or ""))
    except ValueError:
        raise SpikeError("day must be a date, YYYY-MM-DD") from None
    sku = find_sku(str(data.get("sku") or ""))
    raw_factor = data.get("factor", 10)
    if isinstance(raw_factor, bool):
        raise SpikeError("factor must be a number")
    try:
        factor = Decimal(str(raw_factor))
    except InvalidOperation:
        raise SpikeError("factor must be a number") from None
    if not factor.is_finite() or not 0 < factor <= MAX_FACTOR:
        raise SpikeError(f"factor must be above 0 and at most {MAX_FACTOR}")
    repository = data.get("repository")
    if repository:
        repository = str(repository).strip().lower()
        names = {f"{org.login}/{r.name}".lower() for r in org.repos}
        if repository not in names:
            raise SpikeError(f"{org.login} has no repository {data.get('repository')!r}")
        if sku.scope != "repo":
            raise SpikeError(f"{sku.key} is billed to the organization, not to a repository")
    return Spike(day=day, sku=sku.key, repository=repository or None, factor=factor)


def multiply(quantity: int, factor: Decimal, whole_units: bool) -> int:
    """A quantity (1e-4 units) times the factor; whole-unit SKUs (minutes) stay whole."""
    scale = Decimal(Q_SCALE) if whole_units else Decimal(1)
    units = (Decimal(quantity) / scale * factor).to_integral_value(ROUND_HALF_UP)
    return max(1, int(units)) * int(scale)


class SpikedPlan(OrgPlan):
    """An org's plan whose daily quantities carry the org's spikes."""

    def __init__(self, org: Org, seed: int, spikes: Iterable[Spike]) -> None:
        super().__init__(org, seed)
        self.spikes = tuple(spikes)
        # day -> {slot index: factor} (several spikes on one slot multiply)
        self._by_day: dict[date, dict[int, Decimal]] = {}
        for spike in self.spikes:
            slots = self._by_day.setdefault(spike.day, {})
            for index in self.matching_slots(spike):
                slots[index] = slots.get(index, Decimal(1)) * spike.factor

    def matching_slots(self, spike: Spike) -> list[int]:
        return [
            i
            for i, slot in enumerate(self.slots)
            if slot.sku.key == spike.sku
            and (spike.repository is None or (slot.repo or "").lower() == spike.repository)
        ]

    def day_quantities(self, day: date) -> list[tuple[int, int]]:
        rows = super().day_quantities(day)
        factors = self._by_day.get(day)
        if not factors:
            return rows
        return [
            (i, multiply(q, factors[i], self.slots[i].sku.whole_units) if i in factors else q)
            for i, q in rows
        ]

    def touched(self, spike: Spike) -> int:
        """How many of that day's items the spike multiplies."""
        wanted = set(self.matching_slots(spike))
        return sum(1 for i, _ in OrgPlan.day_quantities(self, spike.day) if i in wanted)


def spiked_plan(org: Org, seed: int, spikes: Iterable[Spike]) -> OrgPlan:
    """The org's plan, with its spikes when it has any."""
    spikes = tuple(spikes)
    return SpikedPlan(org, seed, spikes) if spikes else OrgPlan(org, seed)
