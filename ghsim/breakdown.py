"""Who and which workflow: every usage item split into parts that add up to it exactly.

GitHub's detailed usage report shows each day's usage per `username` and
`workflow_path`. The simulator derives those parts from the items of ghsim.usage:

- Actions minutes: one to three (actor, workflow) pairs of the repository; actors are the
  org's people plus outside collaborators and bots (ghsim.people), workflows are
  `.github/workflows/*.yml`, `dynamic/dependabot/dependabot-updates`,
  `dynamic/github-code-scanning/codeql`, `dynamic/copilot-swe-agent/copilot` and
  `required/security/scan.yml`, chosen per repository.
- Codespaces compute and storage: one or two people, no workflow.
- Copilot seats: one part per seat holder; Copilot premium requests / AI credits: one part
  per (seat holder, model), taken from ghsim.copilot (the item *is* their sum).
- Storage-like SKUs (Actions and Packages storage, Packages transfer, Git LFS, prebuild
  storage): one part without user or workflow, as GitHub's report shows them.

Exactness: quantities are split in whole units (whole minutes for minutes SKUs, 1e-4
otherwise); the discount and the net amount are each split in proportion to the quantity
with integer remainders given to the first parts, and gross = discount + net; so the parts
of an item add up to its quantity, gross, discount and net exactly, never negative. The
split is drawn from a hash of (seed, org, day, slot): it never depends on the period.
"""

from __future__ import annotations

import calendar
import random
from bisect import bisect_right
from collections.abc import Iterator
from datetime import date
from itertools import accumulate

from ghsim.catalog import A_DECIMALS, Q_DECIMALS, Q_SCALE, fmt_units
from ghsim.copilot import MODELS, Billed, mix
from ghsim.people import ACTIONS_BOT, COPILOT_AGENT, DEPENDABOT, HUMAN_ACTORS, OUTSIDE, People
from ghsim.usage import OrgPlan

WORKFLOWS = (
    ".github/workflows/ci.yml",
    ".github/workflows/release.yml",
    ".github/workflows/deploy.yml",
    ".github/workflows/lint.yml",
    ".github/workflows/nightly.yml",
    "dynamic/dependabot/dependabot-updates",
    "dynamic/github-code-scanning/codeql",
    "dynamic/copilot-swe-agent/copilot",
    "required/security/scan.yml",
)
CI, RELEASE, DEPLOY, LINT, NIGHTLY, DEPENDABOT_UPDATES, CODEQL, COPILOT_SWE, REQUIRED = range(9)
#: Part: (username, workflow_path, model, quantity, gross, discount) in fixed point.
Part = tuple[str, str, str, int, int, int]
_MASK = (1 << 64) - 1
_UNIT = 1.0 / 9007199254740992.0  # 2**-53: 53 random bits to [0, 1)
_STORAGE_LIKE = frozenset(
    {
        "actions_storage",
        "packages_storage",
        "packages_bandwidth",
        "git_lfs_storage",
        "git_lfs_bandwidth",
        "codespaces_prebuild_storage",
    }
)
# How a slot is split.
_NONE, _ACTIONS, _PEOPLE, _SEATS, _COPILOT = range(5)


def _repo_combos(seed: int, org_id: int, repo_index: int) -> list[tuple[int, int, float]]:
    """(actor, workflow, weight) pairs that run in one repository."""
    rng = random.Random(mix(seed, org_id, repo_index, 8))
    humans = rng.sample(range(HUMAN_ACTORS), rng.randint(2, 4))
    combos = [(h, CI, rng.uniform(4.0, 10.0)) for h in humans]
    optional = (
        (0.6, (humans[0], RELEASE, 1.5)),
        (0.5, (humans[-1], DEPLOY, 2.0)),
        (0.5, (humans[rng.randrange(len(humans))], LINT, 2.5)),
        (0.4, (HUMAN_ACTORS + rng.randrange(len(OUTSIDE)), CI, 2.0)),
        (0.7, (DEPENDABOT, DEPENDABOT_UPDATES, 2.5)),
        (0.7, (DEPENDABOT, CI, 2.5)),
        (0.5, (ACTIONS_BOT, NIGHTLY, 2.0)),
        (0.5, (ACTIONS_BOT, CODEQL, 2.0)),
        (0.3, (COPILOT_AGENT, COPILOT_SWE, 1.5)),
        (0.25, (humans[rng.randrange(len(humans))], REQUIRED, 1.0)),
    )
    for chance, combo in optional:
        if rng.random() < chance:
            combos.append(combo)
    return combos


def allocate(total: int, shares: list[int], whole: int) -> list[int]:
    """Split `total` in proportion to `shares` (which add up to `whole`), exactly."""
    parts = [total * s // whole for s in shares]
    for i in range(total - sum(parts)):
        parts[i] += 1
    return parts


def split_amounts(qs: list[int], q: int, gross: int, disc: int) -> list[tuple[int, int]]:
    """[(gross, discount)] per quantity part: discount and net split separately."""
    discs = allocate(disc, qs, q)
    nets = allocate(gross - disc, qs, q)
    return [(d + n, d) for d, n in zip(discs, nets, strict=True)]


class Breakdown:
    """Parts of every item of one org (names as of `people`)."""

    def __init__(self, plan: OrgPlan, people: People) -> None:
        self.plan = plan
        self.people = people
        repo_index: dict[str, int] = {}  # every repository has a slot, in repository order
        for slot in plan.slots:
            if slot.repo:
                repo_index.setdefault(slot.repo, len(repo_index))
        self.kind: list[int] = []
        self.combos: list[list[tuple[int, int, float]]] = []
        self.cumulative: list[list[float]] = []  # running weight totals, for bisect
        self.names: list[list[tuple[str, str]]] = []  # (username, workflow_path) per combo
        for i, slot in enumerate(plan.slots):
            key = slot.sku.key
            if i in (plan.premium_slot, plan.ai_slot):
                kind = _COPILOT
            elif i == plan.seat_slot:
                kind = _SEATS
            elif key in _STORAGE_LIKE:
                kind = _NONE
            elif slot.sku.unit == "Minutes":
                kind = _ACTIONS
            else:
                kind = _PEOPLE
            self.kind.append(kind)
            r = repo_index.get(slot.repo or "", -1)
            combos = _repo_combos(plan.seed, plan.org_id, r) if r >= 0 else []
            if kind == _PEOPLE:  # codespaces: the repository's people, no workflow
                combos = [c for c in combos if c[1] == CI and c[0] < HUMAN_ACTORS]
            self.combos.append(combos)
            self.cumulative.append(list(accumulate(c[2] for c in combos)))
            names = [
                (people.actors[a], WORKFLOWS[w] if kind == _ACTIONS else "") for a, w, _ in combos
            ]
            self.names.append(names)
        self._day: tuple[date, int] | None = None

    def parts(
        self, day: date, slot: int, q: int, gross: int, disc: int, billed: list[Billed]
    ) -> list[Part]:
        kind = self.kind[slot]
        if kind == _NONE:
            return [("", "", "", q, gross, disc)]
        if kind == _COPILOT:
            return [
                (self.people.seats[b.seat], "", MODELS[b.model].name, b.q, b.gross, b.disc)
                for b in billed
            ]
        if kind == _SEATS:
            # The item is round(seats / days-in-month, 4 decimals): recover the seats.
            count = max(1, round(q * calendar.monthrange(day.year, day.month)[1] / Q_SCALE))
            qs = allocate(q, [1] * count, count)
            names = self.people.seats
            return [
                (names[i], "", "", qi, g, d)
                for i, (qi, (g, d)) in enumerate(
                    zip(qs, split_amounts(qs, q, gross, disc), strict=True)
                )
                if qi
            ]
        if self._day is None or self._day[0] != day:
            self._day = (day, mix(self.plan.seed, self.plan.org_id, day.toordinal(), 9))
        h = ((self._day[1] + slot) * 6364136223846793005 + 1442695040888963407) & _MASK
        cumulative = self.cumulative[slot]
        names = self.names[slot]
        unit = Q_SCALE if kind == _ACTIONS else 1
        whole = q // unit
        k = min(whole, 1 + (h >> 20) % (3 if kind == _ACTIONS else 2), len(names))
        total_w = cumulative[-1]
        if k == 1:
            h = (h * 6364136223846793005 + 1442695040888963407) & _MASK
            user, workflow = names[_pick(cumulative, (h >> 11) * _UNIT * total_w)]
            return [(user, workflow, "", q, gross, disc)]
        chosen: list[int] = []
        while len(chosen) < k:
            h = (h * 6364136223846793005 + 1442695040888963407) & _MASK
            pick = _pick(cumulative, (h >> 11) * _UNIT * total_w)
            if pick not in chosen:
                chosen.append(pick)
        weights = []
        for _ in chosen:
            h = (h * 6364136223846793005 + 1442695040888963407) & _MASK
            weights.append(300 + (h >> 54))
        wsum = sum(weights)
        units = [1 + (whole - k) * w // wsum for w in weights]
        units[0] += whole - sum(units)
        qs = [u * unit for u in units]  # minutes items are whole minutes: sum(qs) == q
        return [
            (*names[j], "", qi, g, d)
            for j, qi, (g, d) in zip(chosen, qs, split_amounts(qs, q, gross, disc), strict=True)
        ]

    def iter_items(
        self, span: tuple[date, date] | None
    ) -> Iterator[tuple[date, int, int, int, int, list[Part]]]:
        """(day, slot, quantity, gross, discount, parts) of every item, lazily: each item's
        parts are made when asked for and dropped after (a million-row report stays small
        and the garbage collector never sees a day's worth of them)."""
        if span is None:
            return
        plan = self.plan
        billed_days = plan.copilot.iter_billed(*span) if plan.copilot else iter(())
        pending = next(billed_days, None)
        parts = self.parts
        for day, rows in plan.iter_rows(*span):
            billed: list[Billed] = []
            if pending is not None and pending[0] == day:
                billed = pending[1]
                pending = next(billed_days, None)
            for i, q, g, d, _dq in rows:
                yield day, i, q, g, d, parts(day, i, q, g, d, billed)

    def iter_days(
        self, span: tuple[date, date] | None
    ) -> Iterator[tuple[date, list[tuple[int, int, int, int, list[Part]]]]]:
        """(day, [(slot, quantity, gross, discount, parts)]) per day (for small periods)."""
        days: dict[date, list[tuple[int, int, int, int, list[Part]]]] = {}
        for day, *item in self.iter_items(span):
            days.setdefault(day, []).append(tuple(item))  # type: ignore[arg-type]
        yield from days.items()


def _pick(cumulative: list[float], x: float) -> int:
    """Index of the combo whose weight interval holds `x` (0 <= x < total)."""
    return min(bisect_right(cumulative, x), len(cumulative) - 1)


GROUPS = {"user": 0, "workflow": 1, "model": 2}


def breakdown_totals(
    breakdown: Breakdown, span: tuple[date, date] | None, group_by: str
) -> dict[str, object]:
    """`GET /_sim/orgs/<login>/totals?group_by=user|workflow|model`: sums of the parts
    (`items` counts parts; "" groups what has no user, workflow or model)."""
    field = GROUPS[group_by]
    groups: dict[str, list[int]] = {}
    total = [0, 0, 0, 0]
    for *_item, parts in breakdown.iter_items(span):
        for part in parts:
            acc = groups.setdefault(part[field], [0, 0, 0, 0])
            for a in (acc, total):
                a[0] += 1
                a[1] += part[3]
                a[2] += part[4]
                a[3] += part[5]

    def render(v: list[int]) -> dict[str, object]:
        return {
            "items": v[0],
            "quantity": fmt_units(v[1], Q_DECIMALS),
            "gross": fmt_units(v[2], A_DECIMALS),
            "discount": fmt_units(v[3], A_DECIMALS),
            "net": fmt_units(v[2] - v[3], A_DECIMALS),
        }

    return {
        "start": span[0].isoformat() if span else None,
        "end": span[1].isoformat() if span else None,
        "group_by": group_by,
        "groups": [{"key": k, **render(v)} for k, v in sorted(groups.items())],
        "total": render(total),
    }
