"""Signed webhook deliveries, sent asynchronously from a background thread (as GitHub does).

Headers as GitHub sends them to an App: `X-GitHub-Event`, `X-GitHub-Delivery` (UUID),
`X-GitHub-Hook-ID`, `X-GitHub-Hook-Installation-Target-Type: integration`,
`X-GitHub-Hook-Installation-Target-ID: <app id>`, `X-Hub-Signature` (HMAC-SHA1, legacy) and
`X-Hub-Signature-256` (HMAC-SHA256) of the raw body, `User-Agent: GitHub-Hookshot/...`.
Every delivery is recorded (even without a webhook URL) and can be redelivered with the
same GUID. Each attempt is what GitHub's delivery log (`GET /app/hook/deliveries`,
routes_hooks.py) calls a delivery: its own numeric `id`, `delivered_at`, `duration`,
`status` ("OK", "Invalid HTTP Response: 503", "failed to connect to network", "timed
out") and `status_code` (0 when no HTTP answer came), `redelivery`, the request and
response headers and bodies. Redirects are not followed (GitHub does not).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests

from ghsim.clock import SimClock, iso
from ghsim.config import SimConfig

HOOK_ID = 500001
USER_AGENT = "GitHub-Hookshot/ghsim"
#: ids of attempts ("deliveries" in GitHub's delivery log)
FIRST_ATTEMPT_ID = 90000000001
#: how much of the receiver's answer the log keeps
RESPONSE_KEEP = 10_000


def sign(secret: str, body: bytes) -> tuple[str, str]:
    """(X-Hub-Signature, X-Hub-Signature-256) for a body."""
    sha1 = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    sha256 = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha1={sha1}", f"sha256={sha256}"


@dataclass
class Delivery:
    guid: str
    event: str
    action: str | None
    installation_id: int | None
    body: bytes
    created_at: float
    attempts: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self, with_payload: bool = True) -> dict[str, Any]:
        last = self.attempts[-1] if self.attempts else {}
        out: dict[str, Any] = {
            "guid": self.guid,
            "event": self.event,
            "action": self.action,
            "installation_id": self.installation_id,
            "created_at": iso(self.created_at),
            "status_code": last.get("status_code"),
            "response_excerpt": last.get("response_excerpt"),
            "error": last.get("error"),
            "delivered": last.get("delivered", False),
            "redelivery": last.get("redelivery", False),
            "attempts": list(self.attempts),
        }
        if with_payload:
            out["payload"] = json.loads(self.body)
        return out


class Dispatcher:
    """Queue + worker thread. `wait()` blocks until every queued attempt has been made."""

    def __init__(self, config: SimConfig, clock: SimClock) -> None:
        self.config = config
        self.clock = clock
        self.deliveries: dict[str, Delivery] = {}
        self._queue: queue.Queue[tuple[str, bool] | None] = queue.Queue()
        self._cond = threading.Condition()
        self._pending = 0
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._session = requests.Session()
        self._attempt_ids = itertools.count(FIRST_ATTEMPT_ID)

    # -- public ---------------------------------------------------------------------
    def send(self, event: str, payload: dict[str, Any], installation_id: int | None) -> str:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        delivery = Delivery(
            guid=str(uuid.uuid4()),
            event=event,
            action=payload.get("action"),
            installation_id=installation_id,
            body=body,
            created_at=self.clock.now(),
        )
        with self._cond:
            self.deliveries[delivery.guid] = delivery
        self._enqueue(delivery.guid, redelivery=False)
        return delivery.guid

    def redeliver(self, guid: str) -> bool:
        if guid not in self.deliveries:
            return False
        self._enqueue(guid, redelivery=True)
        return True

    def wait(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def list(self, with_payload: bool = True) -> list[dict[str, Any]]:
        with self._cond:
            items = sorted(self.deliveries.values(), key=lambda d: d.created_at)
            return [d.as_json(with_payload) for d in items]

    def attempts(self) -> list[tuple[Delivery, dict[str, Any]]]:
        """Every attempt made so far, with its delivery (a snapshot)."""
        with self._cond:
            return [(d, dict(a)) for d in self.deliveries.values() for a in d.attempts]

    def clear(self) -> None:
        self.wait(5)
        with self._cond:
            self.deliveries.clear()
            self._attempt_ids = itertools.count(FIRST_ATTEMPT_ID)

    def stop(self) -> None:
        self._stopped = True
        self._queue.put(None)

    # -- worker ---------------------------------------------------------------------
    def _enqueue(self, guid: str, redelivery: bool) -> None:
        with self._cond:
            self._pending += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ghsim-hooks", daemon=True)
                self._thread.start()
        self._queue.put((guid, redelivery))

    def _run(self) -> None:
        while not self._stopped:
            item = self._queue.get()
            if item is None:
                return
            guid, redelivery = item
            try:
                self._attempt(guid, redelivery)
            finally:
                with self._cond:
                    self._pending -= 1
                    self._cond.notify_all()

    def _attempt(self, guid: str, redelivery: bool) -> None:
        delivery = self.deliveries.get(guid)
        if delivery is None:
            return
        attempt: dict[str, Any] = {
            "at": iso(self.clock.now()),
            "redelivery": redelivery,
            "url": self.config.webhook_url,
            "delivered": False,
            "status_code": None,
            "status": None,
            "response_excerpt": None,
            "error": None,
        }
        url = self.config.webhook_url
        if not url:
            attempt["error"] = "no webhook URL configured; delivery recorded only"
        else:
            sig1, sig256 = sign(self.config.webhook_secret, delivery.body)
            headers = {
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "X-GitHub-Event": delivery.event,
                "X-GitHub-Delivery": delivery.guid,
                "X-GitHub-Hook-ID": str(HOOK_ID),
                "X-GitHub-Hook-Installation-Target-Type": "integration",
                "X-GitHub-Hook-Installation-Target-ID": str(self.config.app_id),
                "X-Hub-Signature": sig1,
                "X-Hub-Signature-256": sig256,
            }
            attempt["request_headers"] = headers
            started = time.monotonic()
            try:
                # GitHub gives receivers 10 seconds and does not follow redirects.
                resp = self._session.post(
                    url, data=delivery.body, headers=headers, timeout=10, allow_redirects=False
                )
                attempt["status_code"] = resp.status_code
                attempt["response_excerpt"] = resp.text[:200]
                attempt["response_body"] = resp.text[:RESPONSE_KEEP]
                attempt["response_headers"] = dict(resp.headers)
                attempt["delivered"] = 200 <= resp.status_code < 300
                attempt["status"] = (
                    "OK" if attempt["delivered"] else f"Invalid HTTP Response: {resp.status_code}"
                )
            except requests.RequestException as exc:
                attempt["error"] = f"{type(exc).__name__}: {exc}"[:300]
                attempt["status_code"] = 0
                attempt["status"] = _failure_status(exc)
            attempt["duration_ms"] = round((time.monotonic() - started) * 1000)
        with self._cond:
            attempt["id"] = next(self._attempt_ids)
            delivery.attempts.append(attempt)


def _failure_status(exc: requests.RequestException) -> str:
    """GitHub's words for a delivery that got no HTTP answer (troubleshooting-webhooks)."""
    if isinstance(exc, requests.Timeout):
        return "timed out"
    text = str(exc)
    if "Name or service not known" in text or "NameResolution" in text:
        return "failed to connect to host"
    if isinstance(exc, requests.ConnectionError):
        return "failed to connect to network"  # the server refused the connection
    return "failed to connect to host"
