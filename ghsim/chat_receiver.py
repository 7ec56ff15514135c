"""A chat-webhook receiver for the demo and the tests: it plays Slack's and Teams'
incoming webhooks and any generic webhook receiver, and keeps what arrives.

    python -m ghsim.chat_receiver --port 18330 [--host 127.0.0.1] [--secret S]
        [--tls-cert cert.pem --tls-key key.pem]

Every ``POST`` to any path is kept (newest last) with its headers and body, and answered
as the real receiver would: a Slack payload (``text`` or ``blocks``) with 200 ``ok``, a
Teams Workflows payload (a message with an Adaptive Card attachment) with 202, a
billingdash generic webhook (``schema`` ``billingdash.alert/v1``) with 200, after
checking ``X-Billingdash-Signature-256`` when a secret is known for the path (or
``--secret``): 401 when it does not match. Anything else is a 400, as Slack and Teams
answer malformed payloads.

Pages: ``/`` lists what arrived; ``/_receiver/messages.json`` is the same as JSON
(``DELETE /_receiver/messages`` empties it). Control, for tests: ``POST
/_receiver/secret`` ``{"path", "secret"}``; ``POST /_receiver/script`` ``{"path",
"responses": [{"status": 503}, {"status": 429, "retry_after": "2"}, {"status": 302,
"location": "..."}, {"delay": 5}, {"body_bytes": 1000000}]}``: the next requests to
that path get those answers, one each, then the normal one again.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, jsonify, request
from markupsafe import escape

from ghsim.server import QuietSimRequestHandler

KEEP = 1000


@dataclass
class ReceiverState:
    secret: str = ""
    secrets: dict[str, str] = field(default_factory=dict)
    scripts: dict[str, deque] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_id: int = 1


def detect(payload: Any) -> str:
    """slack, teams, webhook, or "" for a payload none of them takes."""
    if not isinstance(payload, dict):
        return ""
    if str(payload.get("schema", "")).startswith("billingdash.alert/"):
        return "webhook"
    if payload.get("type") == "message" and isinstance(payload.get("attachments"), list):
        cards = payload["attachments"]
        ok = bool(cards) and all(
            isinstance(c, dict)
            and c.get("contentType") == "application/vnd.microsoft.card.adaptive"
            and isinstance(c.get("content"), dict)
            and c["content"].get("type") == "AdaptiveCard"
            for c in cards
        )
        return "teams" if ok else ""
    if isinstance(payload.get("text"), str) or isinstance(payload.get("blocks"), list):
        return "slack"
    return ""


def verify(secret: str, body: bytes, header: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header or "")


def _normal_answer(record: dict[str, Any], secret: str) -> Response:
    kind = record["kind"]
    if kind == "webhook" and secret:
        record["signature_valid"] = verify(
            secret, record["raw"].encode(), record["headers"].get("X-Billingdash-Signature-256", "")
        )
        if not record["signature_valid"]:
            return Response("bad signature", status=401)
    if kind == "slack":
        return Response("ok", status=200, mimetype="text/plain")
    if kind == "teams":
        return Response("", status=202)
    if kind == "webhook":
        return jsonify({"received": record["id"]})
    return Response("invalid_payload", status=400, mimetype="text/plain")


def _scripted(step: dict[str, Any], record: dict[str, Any]) -> Response | None:
    if step.get("delay"):
        time.sleep(float(step["delay"]))
    if step.get("body_bytes"):
        size = int(step["body_bytes"])
        return Response((b"x" * 65536 for _ in range(size // 65536 + 1)), status=200)
    if "status" not in step:
        return None
    response = Response(str(step.get("body", "")), status=int(step["status"]))
    if step.get("retry_after") is not None:
        response.headers["Retry-After"] = str(step["retry_after"])
    if step.get("location"):
        response.headers["Location"] = step["location"]
    return response


def _row_html(m: dict[str, Any]) -> str:
    signature = ""
    if m["signature_valid"] is not None:
        signature = " · signature " + ("valid" if m["signature_valid"] else "INVALID")
    return (
        f"<li><h2>#{m['id']} {escape(m['kind'] or 'unrecognised')} to {escape(m['path'])} "
        f"(answered {m['status']})</h2><p>{escape(m['received_at'])}{signature}</p>"
        f"<pre>{escape(json.dumps(m['headers'], indent=2))}</pre>"
        f"<pre>{escape(m['raw'][:20000])}</pre></li>"
    )


def create_app(secret: str = "") -> Flask:
    app = Flask("ghsim.chat_receiver")
    state = ReceiverState(secret=secret)
    app.extensions["chat_receiver"] = state

    @app.get("/")
    def page() -> str:
        with state.lock:
            rows = list(reversed(state.messages))
        return (
            "<!doctype html><title>Chat receiver</title><h1>Chat webhook receiver</h1>"
            f"<p>{len(rows)} request(s), newest first. As JSON: "
            '<a href="/_receiver/messages.json">/_receiver/messages.json</a></p>'
            f"<ol>{''.join(_row_html(m) for m in rows)}</ol>"
        )

    @app.get("/_receiver/messages.json")
    def messages_json() -> Response:
        with state.lock:
            return jsonify(list(state.messages))

    @app.delete("/_receiver/messages")
    def messages_clear() -> Response:
        with state.lock:
            state.messages.clear()
            state.scripts.clear()
            state.secrets.clear()
        return jsonify({"cleared": True})

    @app.post("/_receiver/secret")
    def set_secret() -> Response:
        data = request.get_json(force=True)
        with state.lock:
            state.secrets[data["path"]] = data["secret"]
        return jsonify({"ok": True})

    @app.post("/_receiver/script")
    def set_script() -> Response:
        data = request.get_json(force=True)
        with state.lock:
            state.scripts.setdefault(data["path"], deque()).extend(data["responses"])
        return jsonify({"ok": True})

    @app.route("/<path:path>", methods=["POST", "PUT", "GET"])
    def receive(path: str) -> Response:
        if request.method != "POST":
            return Response("POST only", status=405)
        full = "/" + path
        raw = request.get_data()
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        with state.lock:
            record = {
                "id": state.next_id,
                "path": full,
                "query": request.query_string.decode(),
                "headers": dict(request.headers),
                "raw": raw.decode("utf-8", "replace"),
                "json": payload,
                "kind": detect(payload),
                "signature_valid": None,
                "received_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "status": None,
                "answered": False,
            }
            state.next_id += 1
            state.messages.append(record)
            del state.messages[:-KEEP]
            script = state.scripts.get(full)
            step = script.popleft() if script else None
            secret = state.secrets.get(full, state.secret)
        response = _scripted(step, record) if step else None
        if response is None:
            response = _normal_answer(record, secret)
        with state.lock:
            record["status"] = response.status_code
            record["answered"] = True
        return response

    return app


class ChatReceiver:
    """The receiver in a thread of this process, on a free port (tests):
    ``with ChatReceiver() as rx: rx.url + "/slack/x"; rx.messages()``. `tls` is an
    optional (certfile, keyfile)."""

    def __init__(self, host: str = "127.0.0.1", *, secret: str = "", tls=None) -> None:
        from werkzeug.serving import make_server

        self.app = create_app(secret)
        self.state: ReceiverState = self.app.extensions["chat_receiver"]
        self.server = make_server(
            host,
            0,
            self.app,
            threaded=True,
            ssl_context=tls,
            request_handler=QuietSimRequestHandler,
        )
        self.port = self.server.server_port
        self.url = f"{'https' if tls else 'http'}://{host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> ChatReceiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def __enter__(self) -> ChatReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def messages(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(m) for m in self.state.messages]

    def clear(self) -> None:
        with self.state.lock:
            self.state.messages.clear()
            self.state.scripts.clear()
            self.state.secrets.clear()

    def set_secret(self, path: str, secret: str) -> None:
        with self.state.lock:
            self.state.secrets[path] = secret

    def script(self, path: str, *responses: dict[str, Any]) -> None:
        with self.state.lock:
            self.state.scripts.setdefault(path, deque()).extend(responses)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ghsim.chat_receiver", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8030)
    parser.add_argument("--secret", default="", help="verify generic webhooks with this secret")
    parser.add_argument("--tls-cert", default="")
    parser.add_argument("--tls-key", default="")
    args = parser.parse_args(argv)
    from werkzeug.serving import run_simple

    tls = (args.tls_cert, args.tls_key) if args.tls_cert else None
    scheme = "https" if tls else "http"
    print(f"chat receiver: {scheme}://{args.host}:{args.port}/", flush=True)
    run_simple(
        args.host,
        args.port,
        create_app(args.secret),
        threaded=True,
        use_reloader=False,
        ssl_context=tls,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
