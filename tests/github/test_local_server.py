"""Cases the simulator cannot express, against a tiny local HTTP server of our own:
the exact request headers sent, and pagination links that leave GITHUB_API_URL or loop."""

import gzip
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from billingdash import github
from billingdash.github import http


class _Handler(BaseHTTPRequestHandler):
    seen: list = []
    link_to: str | None = None

    def do_GET(self):
        type(self).seen.append((self.path, dict(self.headers)))
        if "/settings/billing/usage" in self.path:
            return self._gzipped_usage()
        body = json.dumps([len(type(self).seen)]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if type(self).link_to:
            self.send_header("Link", f'<{type(self).link_to}>; rel="next"')
        self.end_headers()
        self.wfile.write(body)

    def _gzipped_usage(self):
        # GitHub compresses JSON when asked (requests sends Accept-Encoding: gzip).
        item = (
            '{"date":"2026-10-01T00:00:00Z","product":"actions","sku":"Actions Linux",'
            '"quantity":1.5,"unitType":"Minutes","pricePerUnit":0.006,"grossAmount":0.009,'
            '"discountAmount":0,"netAmount":0.009,"organizationName":"acme-corp"}'
        )
        raw = ('{"usageItems":[' + ",".join([item] * 20_000) + "]}").encode()
        body = gzip.compress(raw)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def local_api(settings):
    _Handler.seen = []
    _Handler.link_to = None
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}/api/v3"
    settings.GITHUB_API_URL = base
    settings.GITHUB_API_VERSION = "2022-11-28"
    settings.GITHUB_HTTP_MAX_ATTEMPTS = 2
    settings.GITHUB_HTTP_BACKOFF_SECONDS = 0.01
    yield base
    server.shutdown()
    server.server_close()


def test_request_headers(local_api):
    http.request_json("GET", "/items", token="ghu_header_check_token")
    ((path, headers),) = _Handler.seen
    assert path == "/api/v3/items"
    assert headers["Accept"] == "application/vnd.github+json"
    assert headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert headers["User-Agent"].startswith("billingdash/")
    assert headers["Authorization"] == "Bearer ghu_header_check_token"


def test_no_authorization_without_token(local_api):
    http.request_json("GET", "/items")
    ((_, headers),) = _Handler.seen
    assert "Authorization" not in headers


def test_link_to_another_host_is_not_followed(local_api, closed_port):
    _Handler.link_to = f"http://127.0.0.1:{closed_port}/api/v3/items?page=2"
    pages = http.paginate("/items", token="ghu_must_stay_home")
    assert next(pages) == 1
    with pytest.raises(github.MalformedResponse):
        next(pages)
    assert len(_Handler.seen) == 1


def test_link_outside_the_api_base_path_is_not_followed(local_api):
    _Handler.link_to = local_api.replace("/api/v3", "") + "/login/oauth/access_token"
    with pytest.raises(github.MalformedResponse):
        list(http.paginate("/items", token="ghu_x"))


def test_link_loop_is_stopped(local_api):
    _Handler.link_to = local_api + "/items?page=2"
    with pytest.raises(github.MalformedResponse):
        list(http.paginate("/items", token="ghu_x"))
    assert len(_Handler.seen) == 2  # page 1, then page 2 once; its repeat is refused


def test_gzipped_usage_stream(local_api):
    items = list(github.iter_billing_usage("ghu_x", "acme-corp", year=2026, month=10))
    assert len(items) == 20_000
    assert items[0]["quantity"] == Decimal("1.5")
    assert sum(i["netAmount"] for i in items) == Decimal("180.000")
    ((_, headers),) = _Handler.seen
    assert "gzip" in headers["Accept-Encoding"]
