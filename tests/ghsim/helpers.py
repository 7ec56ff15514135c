"""Helpers for the simulator tests: a validating HTTP session, a webhook receiver, JWTs."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import requests

from tests.ghsim.openapi_check import check_api_response

CALLBACK = "http://app.test/complete/github/"
SETUP = "http://app.test/github/setup/"


class ApiSession(requests.Session):
    """Every API answer it receives is validated against the OpenAPI description."""

    def __init__(self, api_url: str) -> None:
        super().__init__()
        self.api_url = api_url
        self.hooks["response"].append(self._validate)

    def _validate(self, resp: requests.Response, **_: Any) -> None:
        if resp.request.headers.get("X-Skip-Validation"):
            return
        version = resp.headers.get("x-github-api-version-selected", "2022-11-28")
        check_api_response(
            resp.request.method or "GET", resp.url, resp.status_code, resp.content, version
        )

    def call(
        self, method: str, path: str, token: str | None = None, **kw: Any
    ) -> requests.Response:
        headers = dict(kw.pop("headers", {}) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        kw.setdefault("timeout", 60)
        return self.request(method, self.api_url + path, headers=headers, **kw)

    def get(self, path: str, token: str | None = None, **kw: Any) -> requests.Response:  # type: ignore[override]
        return self.call("GET", path, token, **kw)


def make_jwt(config: Any, private_key: str, now: float | None = None, **claims: Any) -> str:
    """An App JWT as GitHub recommends (iat 60 s in the past, exp 9 minutes ahead)."""
    now = time.time() if now is None else now
    body = {"iat": int(now) - 60, "exp": int(now) + 540, "iss": config.app_client_id}
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    # PyJWS rather than jwt.encode: tests also need claims PyJWT refuses (an integer iss).
    return jwt.PyJWS().encode(json.dumps(body).encode(), private_key, algorithm="RS256")


class WebhookReceiver:
    """A tiny HTTP server recording (headers, raw body) of each POST."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                data = self.rfile.read(length)
                with receiver._cond:
                    receiver.received.append((dict(self.headers.items()), data))
                    receiver._cond.notify_all()
                self.send_response(receiver.status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if receiver.status < 400 else b"boom")

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhooks/github/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def clear(self) -> None:
        with self._cond:
            self.received.clear()
        self.status = 200

    def events(self) -> list[tuple[str, dict[str, Any]]]:
        with self._cond:
            return [(h["X-GitHub-Event"], json.loads(b)) for h, b in self.received]
