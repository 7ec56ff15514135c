"""The webhook endpoint: signatures, sizes, malformed bodies, storage, redeliveries."""

from __future__ import annotations

import io
import json
import socket
import time
from urllib.parse import urlsplit

import pytest
from django.test import Client, RequestFactory
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from accounts.models import WebhookDelivery
from accounts.webhooks.endpoint import github_webhook, signature_is_valid
from accounts.webhooks.handlers import webhook_delivery_process

from .conftest import SECRET, sign

URL = "/github/webhook/"

# GitHub's published test vector ("Testing the webhook payload validation").
VECTOR_SECRET = "It's a Secret to Everybody"
VECTOR_BODY = b"Hello, World!"
VECTOR_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_github_test_vector():
    assert signature_is_valid(VECTOR_BODY, VECTOR_SIGNATURE, VECTOR_SECRET)
    assert sign(VECTOR_BODY, VECTOR_SECRET) == VECTOR_SIGNATURE
    assert not signature_is_valid(VECTOR_BODY, VECTOR_SIGNATURE, VECTOR_SECRET + "!")
    assert not signature_is_valid(VECTOR_BODY + b" ", VECTOR_SIGNATURE, VECTOR_SECRET)


@pytest.mark.django_db
def test_test_vector_passes_the_endpoint_signature_check(client, settings):
    settings.GITHUB_WEBHOOK_SECRET = VECTOR_SECRET
    response = client.post(
        URL,
        data=VECTOR_BODY,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=VECTOR_SIGNATURE,
        HTTP_X_GITHUB_EVENT="ping",
        HTTP_X_GITHUB_DELIVERY="vector-1",
    )
    # Signed correctly, so it gets past the 401; "Hello, World!" is not JSON.
    assert response.status_code == 400
    assert "Malformed JSON" in response.json()["message"]
    assert not WebhookDelivery.objects.exists()


@hyp_settings(max_examples=50, deadline=None)
@given(body=st.binary(max_size=512), secret=st.text(min_size=1, max_size=40))
def test_signature_property(body, secret):
    good = sign(body, secret)
    assert signature_is_valid(body, good, secret)
    flipped = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert not signature_is_valid(body, flipped, secret)
    assert not signature_is_valid(body, good.replace("sha256=", "sha1="), secret)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({"HTTP_X_HUB_SIGNATURE_256": ""}, "missing"),
        ({"HTTP_X_HUB_SIGNATURE_256": "", "HTTP_X_HUB_SIGNATURE": "sha1=abc"}, "sha1 only"),
        ({"HTTP_X_HUB_SIGNATURE_256": "sha256=" + "é" * 64}, "non-ascii"),
        ({"HTTP_X_HUB_SIGNATURE_256": "sha256=" + "0" * 64}, "wrong"),
        ({"HTTP_X_HUB_SIGNATURE_256": "sha256="}, "empty digest"),
        ({"HTTP_X_HUB_SIGNATURE_256": "garbage"}, "no prefix"),
    ],
)
def test_bad_signatures_get_401(post_webhook, headers, why):
    payload = {"action": "created", "installation": {"id": 1}}
    signature = headers.pop("HTTP_X_HUB_SIGNATURE_256")
    response = post_webhook("installation", payload, signature=signature, headers=headers)
    assert response.status_code == 401, why
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_sha1_only_says_why(post_webhook):
    response = post_webhook(
        "ping", {"zen": "x"}, signature="", headers={"HTTP_X_HUB_SIGNATURE": "sha1=0"}
    )
    assert response.status_code == 401
    assert "SHA-1" in response.json()["message"]


@pytest.mark.django_db
def test_signed_with_another_secret_gets_401(post_webhook):
    body = b'{"zen": "x"}'
    response = post_webhook("ping", body=body, signature=sign(body, SECRET + "x"))
    assert response.status_code == 401


@pytest.mark.django_db
def test_no_secret_configured_refuses(post_webhook, settings):
    settings.GITHUB_WEBHOOK_SECRET = ""
    response = post_webhook("ping", {"zen": "x"})
    assert response.status_code == 503


@pytest.mark.django_db
def test_get_is_not_allowed(client, webhook_settings):
    assert client.get(URL).status_code == 405


@pytest.mark.django_db
def test_csrf_exempt(webhook_settings):
    body = b'{"zen": "Keep it logically awesome."}'
    response = Client(enforce_csrf_checks=True).post(
        URL,
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=sign(body),
        HTTP_X_GITHUB_EVENT="ping",
        HTTP_X_GITHUB_DELIVERY="csrf-1",
    )
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b" ",
        b'{"a": 1',
        b"\xff\xfe\x00garbage",
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=["broken", "blank", "truncated", "not-utf8", "deeply-nested"],
)
def test_malformed_json_gets_400_with_a_message(post_webhook, body):
    response = post_webhook("installation", body=body)
    assert response.status_code == 400
    assert response.json()["message"]
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"null", b"42"])
def test_json_that_is_not_an_object_gets_400(post_webhook, body):
    assert post_webhook("installation", body=body).status_code == 400


@pytest.mark.django_db
def test_missing_event_or_delivery_headers_get_400(post_webhook):
    payload = {"action": "created"}
    assert post_webhook("", payload).status_code == 400
    response = post_webhook("installation", payload, headers={"HTTP_X_GITHUB_DELIVERY": ""})
    assert response.status_code == 400


def _raw_request(content_length: str | None, stream: io.RawIOBase):
    request = RequestFactory().generic(
        "POST",
        URL,
        data=b"",
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="ping",
        HTTP_X_GITHUB_DELIVERY="raw-1",
    )
    if content_length is None:
        request.META.pop("CONTENT_LENGTH", None)
    else:
        request.META["CONTENT_LENGTH"] = content_length
    request._stream = stream  # what Django reads request.read() from
    return request


class ExplodingStream(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def read(self, size=-1):
        raise AssertionError("the body was read")

    readinto = read


def test_oversize_is_refused_before_reading(webhook_settings, settings):
    request = _raw_request(str(settings.WEBHOOK_MAX_BODY_BYTES + 1), ExplodingStream())
    response = github_webhook(request)
    assert response.status_code == 413
    assert json.loads(response.content)["message"] == (
        f"Payload over {settings.WEBHOOK_MAX_BODY_BYTES} bytes: billingdash subscribes only "
        "to small events."
    )


def test_the_body_cap_is_far_below_githubs_25_mb_and_fits_every_event(settings):
    """GitHub caps payloads at 25 MB; the events the App receives are a few KB (the
    largest of GitHub's examples), so the endpoint reads far less before the signature
    check (issue 14, finding 6)."""
    from pathlib import Path

    examples = Path(settings.BASE_DIR, "ghsim", "spec", "examples").glob("webhook__*.json")
    largest = max(path.stat().st_size for path in examples)
    assert 1000 < largest < 10_000
    assert settings.WEBHOOK_MAX_BODY_BYTES <= 1024 * 1024
    assert 100 * largest <= settings.WEBHOOK_MAX_BODY_BYTES


def test_missing_content_length_is_an_empty_body(webhook_settings):
    # Django reads no body without Content-Length; an empty body is not signed right.
    response = github_webhook(_raw_request(None, ExplodingStream()))
    assert response.status_code == 401


def test_invalid_content_length_gets_400(webhook_settings):
    assert github_webhook(_raw_request("-5", ExplodingStream())).status_code == 400
    assert github_webhook(_raw_request("12abc", ExplodingStream())).status_code == 400


def test_body_shorter_than_content_length_gets_400(webhook_settings):
    response = github_webhook(_raw_request("100", io.BytesIO(b"{}")))
    assert response.status_code == 400


@pytest.mark.django_db
def test_a_signed_body_over_the_cap_is_refused_and_not_stored(post_webhook, settings):
    payload = {"action": "ping", "padding": "x" * settings.WEBHOOK_MAX_BODY_BYTES}
    response = post_webhook("ping", payload)
    assert response.status_code == 413
    assert not WebhookDelivery.objects.exists()
    # Just under the cap is accepted.
    payload = {"action": "ping", "padding": "x" * (settings.WEBHOOK_MAX_BODY_BYTES - 100)}
    assert post_webhook("ping", payload).status_code == 200


def test_oversize_over_http_is_not_read(live_server, webhook_settings):
    """26 MB announced, 64 KB sent: the server answers 413 without waiting for the
    rest (it never reads past the limit)."""
    url = urlsplit(live_server.url)
    body = b'{"padding": "' + b"x" * 65536
    head = (
        f"POST {URL} HTTP/1.1\r\nHost: {url.hostname}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {26 * 1024 * 1024}\r\n"
        f"X-GitHub-Event: ping\r\nX-GitHub-Delivery: big-1\r\n"
        f"X-Hub-Signature-256: sha256={'0' * 64}\r\n\r\n"
    ).encode()
    started = time.monotonic()
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(head + body)
        status_line = sock.makefile("rb").readline()
    assert status_line.split()[1] == b"413", status_line
    assert time.monotonic() - started < 5


@pytest.mark.django_db
def test_delivery_is_stored_then_processed_once(post_webhook):
    payload = {"action": "renamed", "organization": {"id": 1, "login": "x"}}
    response = post_webhook("organization", payload, delivery="d-1")
    assert response.status_code == 202
    delivery = WebhookDelivery.objects.get(delivery_id="d-1")
    assert (delivery.event, delivery.action, delivery.state) == (
        "organization",
        "renamed",
        "pending",
    )
    assert delivery.payload == payload

    assert webhook_delivery_process(delivery_pk=delivery.pk) == "ignored"  # org unknown
    assert webhook_delivery_process(delivery_pk=delivery.pk) is None  # claimed already
    delivery.refresh_from_db()
    assert delivery.attempts == 1


@pytest.mark.django_db
def test_redelivery_is_acknowledged_and_not_processed_twice(post_webhook):
    payload = {"action": "renamed", "organization": {"id": 1, "login": "x"}}
    assert post_webhook("organization", payload, delivery="same").status_code == 202
    delivery = WebhookDelivery.objects.get()
    webhook_delivery_process(delivery_pk=delivery.pk)

    for _ in range(2):
        response = post_webhook("organization", payload, delivery="same")
        assert response.status_code == 200
        assert response.json()["message"] == "duplicate"
    delivery.refresh_from_db()
    assert WebhookDelivery.objects.count() == 1
    assert delivery.redeliveries == 2
    assert delivery.attempts == 1
    assert webhook_delivery_process(delivery_pk=delivery.pk) is None


@pytest.mark.django_db
def test_redelivery_of_a_failed_delivery_rearms_it(post_webhook):
    payload = {"action": "renamed", "organization": {"id": 1, "login": "x"}}
    post_webhook("organization", payload, delivery="failed-1")
    WebhookDelivery.objects.update(state=WebhookDelivery.State.FAILED, error="boom")
    response = post_webhook("organization", payload, delivery="failed-1")
    assert response.status_code == 202
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.error, delivery.redeliveries) == ("pending", "", 1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("ping", {"zen": "Design for failure.", "hook_id": 1}),
        ("push", {"ref": "refs/heads/main"}),
        ("organization", {"action": "member_invited"}),
        ("installation", {"action": "something_new", "installation": {"id": 5}}),
        ("installation_repositories", {"action": "added", "installation": {"id": 5}}),
    ],
)
def test_unknown_events_and_actions_are_acknowledged_and_ignored(post_webhook, event, payload):
    response = post_webhook(event, payload)
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == WebhookDelivery.State.IGNORED
    assert delivery.event == event


@pytest.mark.django_db
def test_nul_characters_are_stored(post_webhook):
    body = json.dumps({"action": "renamed", "organization": {"id": 1, "login": "a\u0000b"}})
    assert post_webhook("organization", body=body.encode()).status_code == 202
    assert WebhookDelivery.objects.get().payload["organization"]["login"] == "a\ufffdb"


@pytest.mark.django_db
def test_processing_failure_goes_back_to_pending_then_fails(post_webhook):
    # A payload GitHub would never send (no installation id) makes the handler raise.
    post_webhook("installation", {"action": "created", "installation": {}}, delivery="bad")
    delivery = WebhookDelivery.objects.get()
    for attempt in (1, 2):
        assert webhook_delivery_process(delivery_pk=delivery.pk) == "pending", attempt
    assert webhook_delivery_process(delivery_pk=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert delivery.attempts == 3
    assert "KeyError" in delivery.error
