"""Injected faults for API requests (`POST /_sim/faults`).

Kinds: status, latency, secondary_rate_limit, primary_rate_limit, malformed_json,
truncated. `path` is a regex searched in the API path after `/api/v3`; `method` is
optional; `count` limits how many requests the fault hits (default: unlimited).
"""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass, field
from typing import Any

KINDS = (
    "status",
    "latency",
    "secondary_rate_limit",
    "primary_rate_limit",
    "malformed_json",
    "truncated",
)


class FaultError(ValueError):
    pass


@dataclass
class Fault:
    id: int
    kind: str
    path: str
    method: str | None = None
    count: int | None = None  # remaining hits, None = unlimited
    status: int | None = None
    latency_ms: int = 0
    retry_after: int = 60
    reset_in: int = 60
    message: str | None = None
    hits: int = 0
    pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.pattern = re.compile(self.path)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "path": self.path,
            "method": self.method,
            "remaining": self.count,
            "status": self.status,
            "latency_ms": self.latency_ms,
            "retry_after": self.retry_after,
            "reset_in": self.reset_in,
            "hits": self.hits,
        }


class FaultRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, spec: dict[str, Any]) -> Fault:
        kind = spec.get("kind")
        if kind not in KINDS:
            raise FaultError(f"kind must be one of {', '.join(KINDS)}")
        try:
            count = spec.get("count")
            fault = Fault(
                id=0,
                kind=kind,
                path=str(spec.get("path") or ".*"),
                method=(str(spec["method"]).upper() if spec.get("method") else None),
                count=None if count is None else int(count),
                status=None if spec.get("status") is None else int(spec["status"]),
                latency_ms=int(spec.get("latency_ms") or 0),
                retry_after=int(spec.get("retry_after", 60)),
                reset_in=int(spec.get("reset_in", 60)),
                message=spec.get("message"),
            )
        except re.error as exc:
            raise FaultError(f"bad path regex: {exc}") from exc
        except (TypeError, ValueError) as exc:
            raise FaultError(str(exc)) from exc
        with self._lock:
            fault.id = next(self._ids)
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.as_json() for f in self._faults]

    def match(self, method: str, path: str) -> list[Fault]:
        """Faults hitting this request (their counts are consumed); latency ones first."""
        hit: list[Fault] = []
        with self._lock:
            for fault in self._faults:
                if fault.count is not None and fault.count <= 0:
                    continue
                if fault.method and fault.method != method.upper():
                    continue
                if not fault.pattern.search(path):
                    continue
                if fault.kind != "latency" and any(f.kind != "latency" for f in hit):
                    continue
                if fault.count is not None:
                    fault.count -= 1
                fault.hits += 1
                hit.append(fault)
        return sorted(hit, key=lambda f: f.kind != "latency")
