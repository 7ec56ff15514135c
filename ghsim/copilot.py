"""Copilot metered usage per seat (user) and model, billed as GitHub bills it.

Eras (catalog constants):
- from `PREMIUM_REQUESTS_START` to the day before `AI_CREDITS_START`: premium requests
  (`copilot_premium_request`, $0.04). Each user has their own monthly quota
  (`PREMIUM_PER_SEAT`: 300 Business, 1000 Enterprise); a user's requests are discounted
  until their quota is used up, then billed (`exceeds_quota`).
- from `AI_CREDITS_START`: AI credits (`copilot_ai_credit`, $0.01). The included credits
  (`AI_CREDITS_PER_SEAT` x seats: 1,900 Business / 3,900 Enterprise per license) are one
  pool for the whole org, as GitHub's docs say; usage is discounted until the pool is
  empty, then billed.

Every interaction is generated once per (seed, org, day) with both measures: premium
requests (interactions x the model's multiplier; "Auto:" models get 10 % off) and AI
credits, plus a token split. Quotas are consumed from the 1st of each month, day by day,
seat by seat, model by model, so a day's rows never depend on the period asked for.
Amounts are exact: with prices of at most 6 decimals ($0.04, $0.01), a 4-decimal quantity
times the price is a whole number of 1e-10 dollars, so `gross = quantity x price` needs no
rounding and the rows add up exactly to the usage report's Copilot line of the day.

Seats are indices; names come from `ghsim.people.roster` at render time, so membership
changes rename seats but never change numbers. A few seats are idle (no metered usage at
all) and a third of the others are heavy users who exceed their premium-request quota
every full month; the org's usage is scaled so that the AI-credit pool runs out before
every month's end.
"""

from __future__ import annotations

import calendar
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from ghsim import catalog
from ghsim.catalog import Q_SCALE
from ghsim.models import Org

PREMIUM = "premium"
AI = "ai"


@dataclass(frozen=True)
class Model:
    name: str  # as the reports and the endpoints print it
    multiplier: int  # premium requests per interaction, 1e-4 units
    credits: float  # relative AI credits per interaction (scaled per org)
    weight: float  # popularity
    in_repo: bool  # code review and the coding agent work in a repository
    #: AI credits (cents) per million input, output, cache-read, cache-write tokens
    token_prices: tuple[float, float, float, float]


MODELS: tuple[Model, ...] = (
    Model("Claude Sonnet 4.5", 10000, 9.0, 0.28, False, (300, 1500, 30, 375)),
    Model("GPT-5.2", 10000, 7.0, 0.18, False, (175, 1400, 17.5, 0)),
    Model("Auto: Claude Haiku 4.5", 2970, 2.0, 0.14, False, (100, 500, 10, 125)),
    Model("Auto: GPT-5.2", 9000, 6.3, 0.10, False, (175, 1400, 17.5, 0)),
    Model("Claude Opus 4.5", 30000, 28.0, 0.05, False, (500, 2500, 50, 625)),
    Model("Gemini 3 Pro", 10000, 6.0, 0.07, False, (200, 1200, 20, 0)),
    Model("Code Review model", 10000, 8.0, 0.10, True, (175, 1400, 17.5, 0)),
    Model("Coding Agent model", 10000, 40.0, 0.08, True, (300, 1500, 30, 375)),
)
#: Token mix of an interaction: input, output, cache read, cache write (relative).
_TOKEN_MIX = (1.0, 0.06, 5.0, 0.25)
EDITORS = (
    "vscode/1.106.2/copilot-chat/0.33.1",
    "JetBrains-IU/252.23892.409/copilot-intellij/1.5.60",
    "copilot-cli/1.0.48",
    "vs/17.14.33/copilot-vs/18.0.471",
    "github.com/copilot-chat",
)
#: Over-use of the pooled AI credits, relative to the pool (so it runs out every month).
_AI_POOL_USE = 1.45


def mix(*parts: int) -> int:
    """A 64-bit seed from integers (the same mixing as ghsim.usage)."""
    value = 0x9E3779B97F4A7C15
    for part in parts:
        value = (value * 6364136223846793005 + part + 1442695040888963407) % (1 << 64)
    return value


@dataclass(frozen=True)
class Seat:
    index: int
    idle: bool  # never uses metered features (completions only)
    heavy: bool  # exceeds the premium-request quota every full month
    daily: float  # mean interactions on an active weekday
    weekday: float  # probability of activity on a weekday
    weekend: float
    models: tuple[tuple[int, float], ...]  # (model index, share of interactions)
    editor: str


class Use(NamedTuple):
    """One seat's use of one model on one day, before billing."""

    seat: int
    model: int
    repo: int  # index into the org's repositories, -1 for none
    requests: int  # premium requests, 1e-4 units
    credits: int  # AI credits, 1e-4 units


class Billed(NamedTuple):
    """A `Use` with its billing: quantity in the era's unit, amounts in 1e-10 dollars."""

    seat: int
    model: int
    repo: int
    requests: int
    credits: int
    q: int
    gross: int
    disc: int
    dq: int
    quota: int  # total monthly quota (whole units): per user (premium), pooled (AI)


def era(day: date) -> str:
    return AI if day >= catalog.AI_CREDITS_START else PREMIUM


def sku_for(day: date) -> catalog.Sku:
    return catalog.COPILOT_AI_CREDIT if era(day) == AI else catalog.COPILOT_PREMIUM


def tokens(use_credits: int, model: int) -> tuple[int, int, int, int]:
    """Input/output/cache-read/cache-write tokens whose price is about `use_credits`."""
    prices = MODELS[model].token_prices
    per_million = sum(m * p for m, p in zip(_TOKEN_MIX, prices, strict=True))
    units = use_credits / Q_SCALE / per_million * 1_000_000
    in_, out, cr, cw = (int(units * m + 0.5) for m in _TOKEN_MIX)
    return in_, out, cr, (cw if prices[3] else 0)


class CopilotPlan:
    """The fixed structure of an org's Copilot usage: seat profiles and scale."""

    def __init__(self, org: Org, seed: int) -> None:
        self.org_id = org.id
        self.seed = seed
        self.seats = org.copilot_seats
        self.plan = org.copilot_plan
        self.repo_names = tuple(r.name for r in org.repos)
        self.first_day = max(org.created_date, catalog.PREMIUM_REQUESTS_START)
        self.user_quota = catalog.PREMIUM_PER_SEAT.get(self.plan, 300)
        self.pool = catalog.AI_CREDITS_PER_SEAT.get(self.plan, 1900) * self.seats
        rng = random.Random(mix(seed, org.id, 6))
        weights = [m.weight for m in MODELS]
        seats = []
        for i in range(self.seats):
            idle = self.seats >= 3 and i % 5 == 3
            heavy = not idle and i % 3 == 1
            count = rng.randint(3, 5)
            chosen: list[int] = []
            while len(chosen) < count:
                pick = rng.choices(range(len(MODELS)), weights=weights)[0]
                if pick not in chosen:
                    chosen.append(pick)
            raw = [rng.uniform(0.5, 1.5) * MODELS[m].weight for m in chosen]
            models = tuple((m, w / sum(raw)) for m, w in zip(chosen, raw, strict=True))
            per_interaction = sum(MODELS[m].multiplier * s for m, s in models) / Q_SCALE
            weekday = 0.95 if heavy else rng.uniform(0.6, 0.9)
            # Target premium requests in a month, relative to the user's quota.
            target = rng.uniform(1.9, 2.6) if heavy else rng.uniform(0.25, 0.8)
            daily = target * self.user_quota / (21 * weekday * per_interaction)
            seats.append(
                Seat(
                    index=i,
                    idle=idle,
                    heavy=heavy,
                    daily=daily,
                    weekday=weekday,
                    weekend=0.5 if heavy else 0.25,
                    models=models,
                    editor=EDITORS[rng.randrange(len(EDITORS))],
                )
            )
        self.profiles = tuple(seats)
        # AI credits per relative credit, so that a month's usage is _AI_POOL_USE x pool.
        monthly = sum(
            s.daily
            * (21 * s.weekday + 9 * s.weekend * 0.35)
            * sum(MODELS[m].credits * w for m, w in s.models)
            for s in seats
            if not s.idle
        )
        self.credit_scale = _AI_POOL_USE * self.pool / monthly if monthly else 1.0

    # -- usage ------------------------------------------------------------------------
    def day_usage(self, day: date) -> list[Use]:
        """Every seat's use of every model on `day` (deterministic per seed, org, day)."""
        if day < self.first_day:
            return []
        rng = random.Random(mix(self.seed, self.org_id, day.toordinal(), 5))
        rand = rng.random
        weekend = day.weekday() >= 5
        repos = len(self.repo_names)
        scale = self.credit_scale
        out: list[Use] = []
        for seat in self.profiles:
            if seat.idle:
                continue
            if rand() >= (seat.weekend if weekend else seat.weekday):
                continue
            level = seat.daily * (0.4 + 1.2 * rand()) * (0.35 if weekend else 1.0)
            for m, share in seat.models:
                r1, r2, r3 = rand(), rand(), rand()
                k = int(level * share * (0.5 + r1) + 0.5)
                if k <= 0:
                    continue
                model = MODELS[m]
                credits = int(k * model.credits * scale * (0.7 + 0.6 * r2) * Q_SCALE) or 1
                repo = int(r3 * repos) if model.in_repo and repos else -1
                out.append(Use(seat.index, m, repo, k * model.multiplier, credits))
        return out

    def month(self, year: int, month: int) -> CopilotMonth:
        return CopilotMonth(self, year, month)

    def iter_billed(self, start: date, end: date) -> Iterator[tuple[date, list[Billed]]]:
        """(day, billed rows) for each day in [start, end] with usage, in date order."""
        first = date(start.year, start.month, 1)
        while first <= end:
            state = self.month(first.year, first.month)
            last = min(end, date(first.year, first.month, state.days))
            day = max(start, first)
            while day <= last:
                rows = state.day(day)
                if rows:
                    yield day, rows
                day += timedelta(days=1)
            first = (first.replace(day=28) + timedelta(days=4)).replace(day=1)

    def last_activity(self, today: date, lookback: int = 60) -> dict[int, date]:
        """The last day (<= today, within `lookback` days) each seat used Copilot."""
        found: dict[int, date] = {}
        wanted = {s.index for s in self.profiles if not s.idle}
        day = today
        while wanted - found.keys() and (today - day).days < lookback:
            for use in self.day_usage(day):
                found.setdefault(use.seat, day)
            day -= timedelta(days=1)
        return found


class CopilotMonth:
    """Quota state of one month: ask for days in increasing order (earlier days are
    billed on the way, so quotas are consumed exactly as from the 1st)."""

    def __init__(self, plan: CopilotPlan, year: int, month: int) -> None:
        self.plan = plan
        self.days = calendar.monthrange(year, month)[1]
        self.first = date(year, month, 1)
        self.era = era(self.first)
        sku = sku_for(self.first)
        self.price = sku.price_units(self.first)
        if self.era == AI:
            self.quota = plan.pool
            self.remaining = [plan.pool * Q_SCALE]
        else:
            self.quota = plan.user_quota
            self.remaining = [plan.user_quota * Q_SCALE] * plan.seats
        self._next = self.first
        self._rows: list[Billed] = []

    def day(self, day: date) -> list[Billed]:
        while self._next <= day:
            self._rows = self._bill(self._next)
            self._next += timedelta(days=1)
        return self._rows if day == self._next - timedelta(days=1) else []

    def _bill(self, day: date) -> list[Billed]:
        pooled = self.era == AI
        remaining = self.remaining
        price = self.price
        out: list[Billed] = []
        for use in self.plan.day_usage(day):
            q = use.credits if pooled else use.requests
            slot = 0 if pooled else use.seat
            dq = min(q, remaining[slot])
            remaining[slot] -= dq
            gross = (q * price + 50) // 100
            disc = gross if dq == q else (dq * price + 50) // 100
            out.append(Billed(*use, q, gross, disc, dq, self.quota))
        return out


def day_totals(rows: list[Billed]) -> tuple[int, int, int, int]:
    """(quantity, gross, discount, discount quantity) of a day's rows."""
    q = gross = disc = dq = 0
    for r in rows:
        q += r.q
        gross += r.gross
        disc += r.disc
        dq += r.dq
    return q, gross, disc, dq
