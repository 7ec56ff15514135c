"""The github_app_manifest command: the manifest, the --serve flow, --convert."""

from __future__ import annotations

import html
import json
import re
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

import pytest
import requests
from django.core.management import CommandError, call_command

from ghsim.config import SimConfig
from tests.helpers import free_port

# What GitHub's conversion returns: a new App's key and secrets, made for this run.
_APP, PEM = SimConfig.generate()
# A line from the middle of the key: it must never be printed.
KEY_LINE = PEM.splitlines()[5]
CONVERSION = {
    "id": 1234,
    "slug": "billingdash-acme",
    "node_id": "A_1",
    "name": "billingdash acme",
    "client_id": "Iv23liABCDEFGHIJKLMN",
    "client_secret": _APP.app_client_secret,
    "webhook_secret": _APP.webhook_secret,
    "pem": PEM,
}


def run(*args: str) -> str:
    out = StringIO()
    call_command("github_app_manifest", *args, stdout=out)
    return out.getvalue()


class ConversionStub:
    """Stands in for GitHub's ``POST /app-manifests/{code}/conversions`` only: the
    simulator does not implement the manifest conversion. Codes work once, as at GitHub."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str | None]] = []
        self.used: set[str] = set()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                stub.requests.append((self.command, self.path, self.headers.get("Authorization")))
                match = re.fullmatch(r"/app-manifests/([^/]+)/conversions", self.path)
                if match and match[1] not in stub.used:
                    stub.used.add(match[1])
                    status, body = 201, CONVERSION
                else:
                    status, body = 404, {"message": "Not Found"}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> ConversionStub:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def github_stub(settings) -> Iterator[ConversionStub]:
    with ConversionStub() as stub:
        settings.GITHUB_API_URL = stub.url
        settings.GITHUB_WEB_URL = "https://github.example"
        settings.GITHUB_HTTP_MAX_ATTEMPTS = 2
        yield stub


def test_manifest_content():
    manifest = json.loads(run("--base-url", "https://billing.example.com/"))
    assert manifest["url"] == "https://billing.example.com/"
    assert manifest["name"] == "billingdash"
    assert manifest["hook_attributes"] == {
        "url": "https://billing.example.com/github/webhook/",
        "active": True,
    }
    assert manifest["callback_urls"] == ["https://billing.example.com/complete/github-app/"]
    assert manifest["setup_url"] == "https://billing.example.com/github/setup/"
    assert manifest["setup_on_update"] is True
    assert manifest["request_oauth_on_install"] is False
    assert manifest["public"] is False
    assert manifest["default_permissions"] == {
        "organization_administration": "read",
        "members": "read",
    }
    # installation, installation_repositories and github_app_authorization are always
    # sent and cannot be subscribed to; organization and membership need a subscription.
    assert sorted(manifest["default_events"]) == ["membership", "organization"]
    assert manifest["redirect_url"].startswith("http://127.0.0.1:")


def test_manifest_options():
    manifest = json.loads(
        run("--base-url", "https://b.example", "--name", "billingdash acme", "--public")
    )
    assert manifest["public"] is True
    assert manifest["name"] == "billingdash acme"


def test_base_url_is_required():
    with pytest.raises(CommandError, match="--base-url"):
        run()


def test_convert_prints_env_lines_and_writes_the_key(github_stub, tmp_path):
    key = tmp_path / "app.pem"
    out = run("--convert", "abc123", "--key-out", str(key))
    lines = [line for line in out.splitlines() if not line.startswith("#")]
    assert lines == [
        "GITHUB_APP_ID=1234",
        "GITHUB_APP_SLUG=billingdash-acme",
        "GITHUB_APP_CLIENT_ID=Iv23liABCDEFGHIJKLMN",
        f"GITHUB_APP_CLIENT_SECRET={_APP.app_client_secret}",
        f"GITHUB_WEBHOOK_SECRET={_APP.webhook_secret}",
        f"GITHUB_APP_PRIVATE_KEY_PATH={key.resolve()}",
    ]
    assert "PRIVATE KEY" not in out and KEY_LINE not in out
    assert key.read_text() == PEM
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    # No credentials of ours are sent: the code is the credential.
    assert github_stub.requests == [("POST", "/app-manifests/abc123/conversions", None)]


def test_convert_never_overwrites_a_key(github_stub, tmp_path):
    key = tmp_path / "app.pem"
    key.write_text("keep me")
    with pytest.raises(CommandError, match="exists"):
        run("--convert", "abc123", "--key-out", str(key))
    assert key.read_text() == "keep me"
    assert github_stub.requests == []


def test_convert_with_a_used_code_fails_cleanly(github_stub, tmp_path):
    run("--convert", "once", "--key-out", str(tmp_path / "a.pem"))
    with pytest.raises(CommandError, match="refused"):
        run("--convert", "once", "--key-out", str(tmp_path / "b.pem"))
    assert not (tmp_path / "b.pem").exists()
    # A POST with a one-time code is not retried.
    assert len(github_stub.requests) == 2


def test_convert_needs_key_out():
    with pytest.raises(CommandError, match="--key-out"):
        run("--convert", "abc")


@pytest.mark.parametrize("org", [None, "acme-corp"])
def test_serve_flow(github_stub, tmp_path, org):
    port = free_port()
    key = tmp_path / "app.pem"
    args = [
        "--base-url",
        "https://billing.example.com",
        "--serve",
        "--port",
        str(port),
        "--key-out",
        str(key),
    ] + (["--org", org] if org else [])
    out = StringIO()
    errors: list[BaseException] = []

    def command() -> None:
        try:
            call_command("github_app_manifest", *args, stdout=out)
        except BaseException as error:  # reported by the test thread
            errors.append(error)

    thread = threading.Thread(target=command, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    page = None
    for _ in range(100):
        try:
            page = requests.get(base + "/", timeout=2).text
            break
        except requests.ConnectionError:
            thread.join(0.05)
    assert page is not None, errors

    action = html.unescape(re.search(r"<form action='([^']+)' method='post'>", page)[1])
    expected = "https://github.example/" + (
        f"organizations/{org}/settings/apps/new" if org else "settings/apps/new"
    )
    assert action.split("?state=")[0] == expected
    state = action.split("?state=")[1]
    manifest = json.loads(html.unescape(re.search(r"name='manifest' value='([^']+)'", page)[1]))
    assert manifest["redirect_url"] == f"{base}/redirect"
    assert manifest["hook_attributes"]["url"] == "https://billing.example.com/github/webhook/"

    # GitHub sends the browser back with the code and our state; a wrong state is refused.
    wrong = requests.get(f"{base}/redirect", params={"code": "c1", "state": "forged"}, timeout=5)
    assert wrong.status_code == 400
    assert github_stub.requests == []
    done = requests.get(f"{base}/redirect", params={"code": "c1", "state": state}, timeout=5)
    assert done.status_code == 200
    thread.join(10)
    assert not thread.is_alive() and not errors
    assert "GITHUB_APP_ID=1234" in out.getvalue()
    assert KEY_LINE not in out.getvalue()
    assert stat.S_IMODE(Path(key).stat().st_mode) == 0o600
