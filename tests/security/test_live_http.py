"""A few hostile requests over real HTTP (a raw socket to the live server), where the
test client cannot go: raw bytes in the request line, a Content-Length that lies or is
not a number, chunked bodies, non-ASCII header bytes. Never a 500; nothing stored but the
one valid delivery."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.test import Client

from accounts.models import Membership, WebhookDelivery
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

from .conftest import changed, snapshot

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "live-http-secret"


def raw(live_server, request: bytes, *, half_close: bool = False) -> int:
    """Send `request` as is; the status code of the answer."""
    parts = urlsplit(live_server.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def webhook(headers: list[bytes], body: bytes = b"") -> bytes:
    head = [b"POST /github/webhook/ HTTP/1.1", b"Host: localhost", b"Connection: close"]
    return b"\r\n".join([*head, *headers, b"", body])


@pytest.fixture
def olivia_cookie(live_server, settings) -> bytes:
    settings.GITHUB_WEBHOOK_SECRET = SECRET
    org = OrganizationFactory(login="acme-corp", github_id=7770001)
    olivia = UserFactory(github_login="olivia")
    MembershipFactory(user=olivia, organization=org, role=Membership.Role.OWNER)
    client = Client()
    client.force_login(olivia)
    session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    return f"Cookie: {django_settings.SESSION_COOKIE_NAME}={session}".encode()


@pytest.mark.parametrize(
    "path",
    [
        b"/orgs/%00/",
        b"/orgs/\xff\xfe/",
        b"/api/orgs/%ff%fe/usage?start=\xff",
        b"/api/orgs/acme-corp/usage?group_by=%00&start=9999-99-99",
        b"/orgs/acme-corp/usage.csv?range=%00%ff",
        b"/orgs/..%2f..%2fetc%2fpasswd/",
        b"/orgs/acme-corp/progress.json/../../admin/",
        b"/orgs/" + b"a" * 6000 + b"/",
        b"/api/orgs/?" + b"&".join(b"k%d=%%00" % i for i in range(500)),
    ],
    ids=lambda p: p[:32].decode("latin-1"),
)
def test_odd_request_lines_never_500(live_server, olivia_cookie, path):
    before = snapshot(exclude=("accounts.AuditEvent",))
    request = b"GET " + path + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    status = raw(live_server, request + olivia_cookie + b"\r\n\r\n")
    assert 200 <= status < 500, (path[:60], status)
    assert changed(before, snapshot(exclude=("accounts.AuditEvent",))) == {}


def test_webhook_framing_attacks_over_http(live_server, olivia_cookie):
    before = snapshot()
    body = json.dumps({"zen": "Design for failure."}).encode()
    good = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    sig = f"X-Hub-Signature-256: {good}".encode()
    event = [b"X-GitHub-Event: ping", b"X-GitHub-Delivery: live-1", b"Content-Type: text/json"]
    cases = {
        # Claims more than it sends, then stops sending: the short body is refused.
        "short body": (webhook([*event, sig, b"Content-Length: 500"], body), 400, True),
        "length not a number": (webhook([*event, sig, b"Content-Length: ten"], body), 400, False),
        "negative length": (webhook([*event, sig, b"Content-Length: -5"], body), 400, False),
        # Chunked: Django reads no body without a length; the signature is of the body.
        "chunked": (
            webhook(
                [*event, sig, b"Transfer-Encoding: chunked"],
                b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n",
            ),
            401,
            False,
        ),
        "latin-1 signature": (
            webhook([*event, b"X-Hub-Signature-256: sha256=\xff\xfe", b"Content-Length: 2"], b"{}"),
            401,
            False,
        ),
        "over 25 MB, unread": (webhook([*event, sig, b"Content-Length: 30000000"]), 413, False),
    }
    for name, (request, expected, half_close) in cases.items():
        assert raw(live_server, request, half_close=half_close) == expected, name
    assert changed(before, snapshot()) == {}
    # The same delivery, framed properly, is accepted (the cases above were refused for
    # their framing, not for their content).
    length = f"Content-Length: {len(body)}".encode()
    assert raw(live_server, webhook([*event, sig, length], body)) == 200
    assert WebhookDelivery.objects.get().delivery_id == "live-1"


@pytest.mark.parametrize("path", ["/README.md", "/db.sqlite3", "/billingdash/settings.py"])
def test_the_live_server_serves_no_project_file(live_server, path):
    """With MEDIA_URL unset, Django's test live server answered every path it could not
    route with the file of that name under the working directory."""
    request = f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    status = raw(live_server, request.encode())
    assert status == 404, path
