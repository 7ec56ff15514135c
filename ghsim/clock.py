"""The simulator's notion of "now" (real time plus an adjustable offset)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime


class SimClock:
    """Thread-safe clock: token expiry, rate-limit windows and "today" for usage data."""

    def __init__(self, offset: float = 0.0) -> None:
        self._offset = float(offset)
        self._lock = threading.Lock()

    @property
    def offset(self) -> float:
        return self._offset

    def now(self) -> float:
        return time.time() + self._offset

    def now_dt(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    def today(self) -> date:
        return self.now_dt().date()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += float(seconds)

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        with self._lock:
            self._offset = when.timestamp() - time.time()

    def reset(self, offset: float) -> None:
        with self._lock:
            self._offset = float(offset)


def iso(value: float | datetime | None) -> str | None:
    """GitHub's timestamp format: `2026-11-25T12:00:00Z`."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.fromtimestamp(value, UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)
