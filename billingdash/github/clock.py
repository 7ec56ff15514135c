"""GitHub's clock as seen from here: local time plus the offset read from GitHub's
``Date`` response headers.

App JWTs are judged by GitHub's clock (``iat`` not in the future, ``exp`` in the future
and at most 10 minutes away) and installation tokens expire by it, so a host whose clock
drifts would sign JWTs GitHub refuses and keep tokens GitHub already dropped. Like
octokit's auth-app (which retries a JWT refused for ``iat``/``exp`` with the ``Date``
difference), every response's ``Date`` updates the offset; small differences (the header
has one-second resolution) are ignored.
"""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

__all__ = ["forget", "now", "observe", "offset"]

# Differences up to this many seconds are noise (Date is truncated to the second, plus
# latency): the offset stays 0 so a healthy, NTP-synced host uses its own clock.
NOISE_SECONDS = 3.0

_offset = 0.0


def offset() -> float:
    """Seconds to add to local time to get GitHub's time (0 when in step)."""
    return _offset


def now() -> float:
    """GitHub's current time (epoch seconds), as best known."""
    return time.time() + _offset


def observe(date_header: str | None, received_at: float | None = None) -> None:
    """Learn the offset from a response's ``Date`` header."""
    global _offset
    if not date_header:
        return
    try:
        server = parsedate_to_datetime(date_header).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return
    local = time.time() if received_at is None else received_at
    # The header is truncated to the second: GitHub's time was within [server, server+1).
    estimate = server + 0.5 - local
    if abs(estimate) <= NOISE_SECONDS:
        _offset = 0.0
    elif abs(estimate - _offset) > NOISE_SECONDS / 2:
        _offset = estimate


def forget() -> None:
    """Drop the learned offset (back to the local clock)."""
    global _offset
    _offset = 0.0
