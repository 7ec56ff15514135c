"""werkzeug request handler for the simulator: GitHub's `Date` header is GitHub's clock.

Clients learn their clock offset from `Date` (to sign JWTs GitHub accepts), so the header
follows the simulator's clock (`POST /_sim/clock`), not the host's.
"""

from __future__ import annotations

from werkzeug.http import http_date
from werkzeug.serving import WSGIRequestHandler


class SimRequestHandler(WSGIRequestHandler):
    quiet = False

    def date_time_string(self, timestamp: float | None = None) -> str:
        state = getattr(getattr(self.server, "app", None), "extensions", {}).get("ghsim")
        if timestamp is None and state is not None:
            timestamp = state.clock.now()
        return http_date(timestamp)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if not self.quiet:
            super().log_request(code, size)


class QuietSimRequestHandler(SimRequestHandler):
    """No access log lines on stderr."""

    quiet = True
