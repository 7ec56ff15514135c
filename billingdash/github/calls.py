"""Call accounting: `track_calls()` counts HTTP attempts to GitHub made inside it and
keeps the last rate-limit budget seen (for a collection run's "API calls" and "budget
left"). A context variable, so threads and asyncio tasks each see their own blocks.
https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#checking-the-status-of-your-rate-limit
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["CallStats", "count_call", "record_budget", "track_calls"]


@dataclass
class CallStats:
    """What `track_calls()` saw: HTTP attempts made and the last rate-limit budget."""

    calls: int = 0
    remaining: int | None = None
    limit: int | None = None
    used: int | None = None
    reset_at: datetime | None = None
    resource: str | None = None


_trackers: contextvars.ContextVar[tuple[CallStats, ...]] = contextvars.ContextVar(
    "billingdash_github_trackers", default=()
)


@contextlib.contextmanager
def track_calls() -> Iterator[CallStats]:
    """Count every HTTP attempt to GitHub made inside the block (retries included) and
    keep the last ``x-ratelimit-*`` budget seen. Blocks nest; each counts its own.

        with github.track_calls() as stats:
            ...
        run.api_calls, run.ratelimit_remaining = stats.calls, stats.remaining
    """
    stats = CallStats()
    token = _trackers.set((*_trackers.get(), stats))
    try:
        yield stats
    finally:
        _trackers.reset(token)


def count_call() -> None:
    for stats in _trackers.get():
        stats.calls += 1


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def record_budget(headers: Mapping[str, str]) -> None:
    remaining = _int(headers.get("x-ratelimit-remaining"))
    if remaining is None:
        return
    reset = _int(headers.get("x-ratelimit-reset"))
    for stats in _trackers.get():
        stats.remaining = remaining
        stats.limit = _int(headers.get("x-ratelimit-limit"))
        stats.used = _int(headers.get("x-ratelimit-used"))
        stats.reset_at = datetime.fromtimestamp(reset, tz=UTC) if reset is not None else None
        stats.resource = headers.get("x-ratelimit-resource")
