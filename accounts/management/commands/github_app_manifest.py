"""Register billingdash's GitHub App from a manifest (GitHub's "manifest flow").

    manage.py github_app_manifest --base-url https://billing.example.com
        prints the manifest (JSON) for this deployment.
    manage.py github_app_manifest --base-url ... --serve --key-out app.pem [--org ORG]
        serves a one-button page on http://127.0.0.1:PORT/ that POSTs the manifest to
        GitHub ({GITHUB_WEB_URL}/settings/apps/new, or /organizations/ORG/settings/apps/new);
        GitHub sends the browser back with a one-hour ``code``, which is converted at once.
    manage.py github_app_manifest --convert CODE --key-out app.pem
        converts a code by hand (POST {GITHUB_API_URL}/app-manifests/{code}/conversions).

The conversion prints the environment lines for the operator (App id, slug, client id
and secret, webhook secret) and writes the private key to ``--key-out`` (mode 0600). The
key is never printed. https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest
"""

from __future__ import annotations

import html
import json
import os
import secrets
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from billingdash import github

DEFAULT_PORT = 8765
# "Administration: read" is what the billing usage endpoints need; "Members: read" lets
# the App see roles and subscribe to the organization and membership events.
PERMISSIONS = {"organization_administration": "read", "members": "read"}
# Events an App must subscribe to (both need Members read). GitHub sends `installation`,
# `installation_repositories` and `github_app_authorization` to every App without a
# subscription (they cannot be chosen). GitHub's docs say neither that
# `installation_target` (account renamed) is sent by default nor that it can be
# subscribed to, so it is not asked for: renames also come from `organization.renamed`
# and from the periodic reconciliation.
EVENTS = ["organization", "membership"]


def build_manifest(
    *, base_url: str, name: str, public: bool, redirect_url: str | None
) -> dict[str, Any]:
    base = base_url.rstrip("/")
    manifest: dict[str, Any] = {
        "name": name,
        "url": f"{base}/",
        "description": "GitHub billing usage for organization owners and billing managers.",
        "hook_attributes": {"url": f"{base}/github/webhook/", "active": True},
        "callback_urls": [f"{base}/complete/github-app/"],
        "setup_url": f"{base}/github/setup/",
        "setup_on_update": True,
        # Kept off on purpose: with "Request user authorization (OAuth) during
        # installation" GitHub drops the Setup URL (and with it our `state` check) and
        # sends installers to the callback URL instead.
        "request_oauth_on_install": False,
        "public": public,
        "default_permissions": dict(PERMISSIONS),
        "default_events": list(EVENTS),
    }
    if redirect_url:
        manifest["redirect_url"] = redirect_url
    return manifest


def registration_url(org: str | None) -> str:
    web = settings.GITHUB_WEB_URL.rstrip("/")
    if org:
        return f"{web}/organizations/{github.api_urls.quote_segment(org)}/settings/apps/new"
    return f"{web}/settings/apps/new"


def _write_key(path: Path, pem: str) -> None:
    # O_EXCL: never overwrite an existing key; 0600 from the start (not chmod after).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(pem)
    os.chmod(path, 0o600)


def convert(code: str, key_out: Path) -> list[str]:
    """Exchange the manifest code for the App's credentials; write the key; return the
    environment lines (the key itself is not among them)."""
    if key_out.exists():
        raise CommandError(f"{key_out} exists; choose another --key-out (it is not overwritten).")
    try:
        # The code works once and for an hour: a POST that is never retried once sent.
        data = github.request_json(
            "POST", f"/app-manifests/{github.api_urls.quote_segment(code)}/conversions"
        )
    except github.GitHubError as error:
        raise CommandError(f"GitHub refused the conversion: {error}") from error
    missing = [k for k in ("id", "slug", "client_id", "client_secret", "pem") if not data.get(k)]
    if missing:
        raise CommandError(f"GitHub's answer lacks {', '.join(missing)}.")
    _write_key(key_out, data["pem"])
    return [
        f"GITHUB_APP_ID={data['id']}",
        f"GITHUB_APP_SLUG={data['slug']}",
        f"GITHUB_APP_CLIENT_ID={data['client_id']}",
        f"GITHUB_APP_CLIENT_SECRET={data['client_secret']}",
        f"GITHUB_WEBHOOK_SECRET={data.get('webhook_secret') or ''}",
        f"GITHUB_APP_PRIVATE_KEY_PATH={key_out.resolve()}",
    ]


def form_page(manifest: dict[str, Any], action: str) -> str:
    value = html.escape(json.dumps(manifest), quote=True)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Register the GitHub App"
        "</title></head><body><h1>Register billingdash's GitHub App</h1>"
        f"<p>This sends the manifest below to <code>{html.escape(action)}</code>. "
        "GitHub asks you to confirm the name, then sends you back here.</p>"
        f"<form action='{html.escape(action, quote=True)}' method='post'>"
        f"<input type='hidden' name='manifest' value='{value}'>"
        "<button type='submit'>Create the GitHub App on GitHub</button></form>"
        f"<pre>{html.escape(json.dumps(manifest, indent=2))}</pre></body></html>"
    )


class _Flow:
    """State of one --serve run, shared with the request handler."""

    def __init__(self, page: str, state: str, key_out: Path) -> None:
        self.page, self.state, self.key_out = page, state, key_out
        self.lines: list[str] | None = None
        self.error: str | None = None
        self.done = threading.Event()


def _handler(flow: _Flow) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return  # the query string carries the one-time code

        def _send(self, status: int, text: str) -> None:
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/":
                self._send(200, flow.page)
                return
            if url.path != "/redirect":
                self._send(404, "Not found.")
                return
            query = parse_qs(url.query)
            state = query.get("state", [""])[0]
            code = query.get("code", [""])[0]
            if not code or not secrets.compare_digest(state.encode(), flow.state.encode()):
                self._send(400, "Missing code or wrong state: start again from the form.")
                return
            try:
                flow.lines = convert(code, flow.key_out)
            except CommandError as error:
                flow.error = str(error)
                self._send(502, f"<p>{html.escape(str(error))}</p>")
            else:
                self._send(200, "<p>The App is registered. Return to the terminal.</p>")
            flow.done.set()

    return Handler


class Command(BaseCommand):
    help = "Print the GitHub App manifest, or run GitHub's manifest registration flow."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", help="Public URL of this deployment.")
        parser.add_argument("--name", default="billingdash", help="The App's name.")
        parser.add_argument("--public", action="store_true", help="Installable by anyone.")
        parser.add_argument("--org", help="Register the App under this organization.")
        parser.add_argument("--serve", action="store_true", help="Serve the registration form.")
        parser.add_argument("--host", default="127.0.0.1", help="Address for --serve.")
        parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="Port for --serve.")
        parser.add_argument("--convert", metavar="CODE", help="Convert a manifest code.")
        parser.add_argument("--key-out", type=Path, help="Where to write the private key.")

    def handle(self, *args: Any, **options: Any) -> None:
        key_out: Path | None = options["key_out"]
        if options["convert"]:
            if key_out is None:
                raise CommandError("--convert needs --key-out (the private key's file).")
            self._print_env(convert(options["convert"], key_out))
            return
        if not options["base_url"]:
            raise CommandError("--base-url is required (the public URL of this deployment).")
        redirect = f"http://{options['host']}:{options['port']}/redirect"
        manifest = build_manifest(
            base_url=options["base_url"],
            name=options["name"],
            public=options["public"],
            redirect_url=redirect,
        )
        if not options["serve"]:
            self.stdout.write(json.dumps(manifest, indent=2))
            return
        if key_out is None:
            raise CommandError("--serve needs --key-out (the private key's file).")
        self._serve(manifest, options["org"], options["host"], options["port"], key_out)

    def _serve(
        self, manifest: dict[str, Any], org: str | None, host: str, port: int, key_out: Path
    ) -> None:
        state = secrets.token_urlsafe(24)
        action = f"{registration_url(org)}?state={state}"
        flow = _Flow(form_page(manifest, action), state, key_out)
        server = HTTPServer((host, port), _handler(flow))
        self.stdout.write(f"Open http://{host}:{port}/ and press the button (Ctrl-C stops).")
        self.stdout.flush()
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            while not flow.done.wait(0.5):
                pass
        except KeyboardInterrupt as interrupted:
            raise CommandError("Stopped before GitHub sent the App back.") from interrupted
        finally:
            server.shutdown()
            server.server_close()
        if flow.error or flow.lines is None:
            raise CommandError(flow.error or "The conversion failed.")
        self._print_env(flow.lines)

    def _print_env(self, lines: list[str]) -> None:
        self.stdout.write("# Add to the deployment's environment (keep these secret):")
        for line in lines:
            self.stdout.write(line)
