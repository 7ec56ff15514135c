"""A local mailbox for the demo and the tests: an SMTP server (aiosmtpd) that keeps every
message it is given, and a small web page listing them.

    python -m ghsim.mailbox --smtp-port 18325 --web-port 18326 [--host 127.0.0.1]

billingdash reaches it with ``EMAIL_URL=smtp://127.0.0.1:18325`` (no TLS, no password).
Recipients whose address starts with ``reject`` are refused (550), those starting with
``tempfail`` put off (451), as real servers do. The page (``/``) shows each message's
headers (List-Unsubscribe included), its plain-text part and its HTML part
(``/messages/<id>/html``, sandboxed), and a button that does what a mail provider does
with RFC 8058's one-click unsubscribe: it POSTs ``List-Unsubscribe=One-Click`` to the
List-Unsubscribe URL, without cookies.
``/messages.json`` is the same as JSON; ``DELETE /messages`` empties the mailbox.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import logging
import re
import socket
import threading
import time
from typing import Any

import requests
from aiosmtpd.controller import Controller
from flask import Flask, Response, jsonify, redirect
from markupsafe import escape

KEEP = 1000


class MailStore:
    """The messages received, oldest first (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[dict[str, Any]] = []
        self.next_id = 1

    def add(self, mail_from: str, rcpt_tos: list[str], content: bytes) -> dict[str, Any]:
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        text = parsed.get_body(preferencelist=("plain",))
        html = parsed.get_body(preferencelist=("html",))
        with self.lock:
            record = {
                "id": self.next_id,
                "mail_from": mail_from,
                "rcpt_tos": list(rcpt_tos),
                "received_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "subject": str(parsed.get("Subject", "")),
                # Unfolded: a long header (List-Unsubscribe) is folded onto a new line.
                "headers": [[k, " ".join(str(v).split())] for k, v in parsed.items()],
                "text": text.get_content() if text is not None else None,
                "html": html.get_content() if html is not None else None,
                "raw": content.decode("utf-8", "replace"),
            }
            self.next_id += 1
            self.messages.append(record)
            del self.messages[:-KEEP]
        return record

    def all(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(m) for m in self.messages]

    def get(self, message_id: int) -> dict[str, Any] | None:
        with self.lock:
            return next((dict(m) for m in self.messages if m["id"] == message_id), None)

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()


class _Handler:
    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        # Addresses that play a refusing mail server: "reject..." is a permanent 550,
        # "tempfail..." a temporary 451 (greylisting, a full mailbox).
        local = address.split("@")[0].lower()
        if local.startswith("reject"):
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        if local.startswith("tempfail"):
            return f"451 4.2.0 <{address}>: try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        content = envelope.original_content or envelope.content
        self.store.add(envelope.mail_from, envelope.rcpt_tos, content)
        return "250 Message accepted for delivery"


def header(message: dict[str, Any], name: str) -> str | None:
    return next((v for k, v in message["headers"] if k.lower() == name.lower()), None)


def unsubscribe_url(message: dict[str, Any]) -> str | None:
    value = header(message, "List-Unsubscribe") or ""
    match = re.search(r"<(https?://[^>]+)>", value)
    return match.group(1) if match else None


def _message_html(m: dict[str, Any]) -> str:
    headers = "\n".join(f"{k}: {v}" for k, v in m["headers"])
    button = ""
    if unsubscribe_url(m) and header(m, "List-Unsubscribe-Post"):
        button = (
            f'<form method="post" action="/messages/{m["id"]}/unsubscribe">'
            "<button>One-click unsubscribe (as a mail provider would)</button></form>"
        )
    html = f'<p><a href="/messages/{m["id"]}/html">HTML part</a></p>' if m["html"] else ""
    return (
        f"<li><h2>#{m['id']} {escape(m['subject'])}</h2>"
        f"<p>to {escape(', '.join(m['rcpt_tos']))} · {escape(m['received_at'])}</p>"
        f"<pre>{escape(headers)}</pre><h3>Plain text</h3>"
        f"<pre>{escape(m['text'] or '(none)')}</pre>{html}{button}</li>"
    )


def create_web_app(store: MailStore) -> Flask:
    app = Flask("ghsim.mailbox")

    @app.get("/")
    def page() -> str:
        rows = list(reversed(store.all()))
        return (
            "<!doctype html><title>Mailbox</title><h1>Mailbox</h1>"
            f"<p>{len(rows)} message(s), newest first. As JSON: "
            '<a href="/messages.json">/messages.json</a></p>'
            f"<ol>{''.join(_message_html(m) for m in rows)}</ol>"
        )

    @app.get("/messages.json")
    def messages_json() -> Response:
        return jsonify(store.all())

    @app.delete("/messages")
    def messages_clear() -> Response:
        store.clear()
        return jsonify({"cleared": True})

    @app.get("/messages/<int:message_id>/html")
    def message_html(message_id: int) -> Response:
        message = store.get(message_id)
        if message is None or not message["html"]:
            return Response("no such message", status=404)
        response = Response(message["html"], mimetype="text/html")
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
        return response

    @app.post("/messages/<int:message_id>/unsubscribe")
    def message_unsubscribe(message_id: int) -> Response:
        message = store.get(message_id)
        url = unsubscribe_url(message) if message else None
        if url is None:
            return Response("no unsubscribe link in that message", status=404)
        answer = requests.post(url, data={"List-Unsubscribe": "One-Click"}, timeout=10)
        if answer.ok:
            return redirect("/")
        return Response(f"the unsubscribe POST got {answer.status_code}", status=502)

    return app


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


# aiosmtpd logs every SMTP command (and the addresses) at INFO.
logging.getLogger("mail.log").setLevel(logging.WARNING)


class Mailbox:
    """The SMTP server (and, with `web=True`, the page) in threads of this process (tests):
    ``with Mailbox() as box: box.smtp_port; box.messages()``."""

    def __init__(
        self, host: str = "127.0.0.1", smtp_port: int = 0, web_port: int | None = None
    ) -> None:
        self.host = host
        self.store = MailStore()
        self.smtp_port = smtp_port or free_port(host)
        self.controller = Controller(_Handler(self.store), hostname=host, port=self.smtp_port)
        self.web_port = web_port
        self.web_server = None
        self.web_thread: threading.Thread | None = None

    @property
    def web_url(self) -> str:
        return f"http://{self.host}:{self.web_port}"

    def start(self) -> Mailbox:
        self.controller.start()
        if self.web_port is not None:
            from werkzeug.serving import make_server

            from ghsim.server import QuietSimRequestHandler

            self.web_server = make_server(
                self.host,
                self.web_port,
                create_web_app(self.store),
                threaded=True,
                request_handler=QuietSimRequestHandler,
            )
            self.web_port = self.web_server.server_port
            self.web_thread = threading.Thread(target=self.web_server.serve_forever, daemon=True)
            self.web_thread.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
        if self.web_server is not None:
            self.web_server.shutdown()
            self.web_server.server_close()

    def __enter__(self) -> Mailbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def messages(self) -> list[dict[str, Any]]:
        return self.store.all()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ghsim.mailbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=8025)
    parser.add_argument("--web-port", type=int, default=8026)
    args = parser.parse_args(argv)
    mailbox = Mailbox(args.host, args.smtp_port)
    mailbox.controller.start()
    print(
        f"mailbox: smtp://{args.host}:{args.smtp_port}  web http://{args.host}:{args.web_port}/",
        flush=True,
    )
    from werkzeug.serving import run_simple

    try:
        run_simple(
            args.host,
            args.web_port,
            create_web_app(mailbox.store),
            threaded=True,
            use_reloader=False,
        )
    finally:
        mailbox.controller.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
