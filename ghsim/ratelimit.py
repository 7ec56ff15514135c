"""Primary rate limits: one hourly bucket per token identity.

SOURCE.md / GitHub docs: user access tokens share 5,000 requests/hour per user (across
apps and tokens); installations get 5,000/h plus 50/h per repository over 20 and per
user over 20, capped at 12,500; unauthenticated requests get 60/h per IP.
`GET /rate_limit` does not count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ghsim.clock import SimClock

USER_LIMIT = 5000
APP_JWT_LIMIT = 5000
UNAUTHENTICATED_LIMIT = 60
WINDOW = 3600


def installation_limit(repos: int, users: int) -> int:
    extra = 50 * max(0, repos - 20) + 50 * max(0, users - 20)
    return min(12500, 5000 + extra)


@dataclass
class Bucket:
    limit: int
    used: int
    reset: int  # epoch seconds
    exhausted_until: float | None = None

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


class RateLimiter:
    """Not thread-safe by itself: callers hold the State lock."""

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.buckets: dict[str, Bucket] = {}

    def _bucket(self, key: str, limit: int) -> Bucket:
        now = self.clock.now()
        bucket = self.buckets.get(key)
        if bucket is None or now >= bucket.reset:
            bucket = Bucket(limit=limit, used=0, reset=math.ceil(now) + WINDOW)
            self.buckets[key] = bucket
        bucket.limit = limit
        if bucket.exhausted_until is not None and now >= bucket.exhausted_until:
            bucket.exhausted_until = None
            bucket.used = 0
        return bucket

    def peek(self, key: str, limit: int) -> Bucket:
        return self._bucket(key, limit)

    def hit(self, key: str, limit: int) -> tuple[Bucket, bool]:
        """Count one request; returns (bucket, exceeded)."""
        bucket = self._bucket(key, limit)
        if bucket.exhausted_until is not None or bucket.used >= bucket.limit:
            bucket.used = bucket.limit
            return bucket, True
        bucket.used += 1
        return bucket, False

    def exhaust(self, key: str, limit: int, reset_in: float) -> Bucket:
        """Used by the primary_rate_limit fault: the bucket is empty until `reset_in`."""
        bucket = self._bucket(key, limit)
        until = self.clock.now() + reset_in
        bucket.used = bucket.limit
        bucket.exhausted_until = until
        bucket.reset = math.ceil(until)
        return bucket
