"""Hostile input on ``POST /github/webhook/``, property-based (hypothesis, derandomized),
against a world with real rows (an installed, collected organization and its people).

- Unsigned, badly signed or wrongly signed requests, whatever their body and headers:
  401 (405 for other methods), and nothing stored changes.
- Correctly signed requests with random JSON (any value), random event names, actions
  and delivery ids: 400 for what GitHub never sends (a bad event name or delivery id,
  a body that is not a JSON object), else exactly one new delivery (IGNORED for an
  event or action we do not handle, PENDING for one we do) and nothing else changes.
- Processing correctly signed deliveries of the events we handle, with random payloads
  about accounts we do not know: never raises (a payload a handler cannot use ends as a
  recorded failure), and no row that existed before changes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import event as tally
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import WebhookDelivery
from accounts.webhooks.handlers import HANDLERS, webhook_delivery_process

from .conftest import changed, fuzz, rolled_back, snapshot

pytestmark = pytest.mark.django_db

URL = "/github/webhook/"
EVENT_OK = re.compile(r"[a-z0-9_]{1,100}")
DELIVERY_OK = re.compile(r"[A-Za-z0-9._:-]{1,100}")
HANDLED_EVENTS = sorted({event for event, _ in HANDLERS})
LATIN1 = st.text(alphabet=st.characters(max_codepoint=255, blacklist_categories=("Cc",)))

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 2, max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=25,
)
BODIES = st.one_of(
    JSON.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.text(max_size=12), JSON).map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=300),
    st.sampled_from(
        [
            b"",
            b"{",
            b"[]",
            b"null",
            b'{"a": NaN}',
            b'{"a": Infinity}',
            b"\xff\xfe{}",
            b'{"action": "created", "x": "\\u0000"}',
            b"[" * 5000 + b"]" * 5000,
        ]
    ),
)
EVENTS = st.one_of(st.sampled_from([*HANDLED_EVENTS, "ping", "push", "issues"]), LATIN1)
ACTIONS = st.one_of(st.sampled_from(sorted({a for _, a in HANDLERS})), st.text(max_size=20))
DELIVERIES = st.one_of(st.uuids().map(str), LATIN1)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _refuse(constant: str):
    raise ValueError(constant)


def strict_json(body: bytes):
    """The body as JSON (RFC 8259: no NaN or Infinity), or None."""
    try:
        return json.loads(body, parse_constant=_refuse)
    except (ValueError, RecursionError):
        return None


def same_json(a, b) -> bool:
    def numeric(v):
        return json.loads(json.dumps(v), parse_float=Decimal, parse_int=Decimal)

    return numeric(a) == numeric(b)


def post(client, body: bytes, headers: dict[str, str], method: str = "post"):
    meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    content_type = meta.pop("HTTP_CONTENT_TYPE", "application/json")
    return client.generic(method.upper(), URL, data=body, content_type=content_type, **meta)


@fuzz(100)
@given(
    body=BODIES,
    event=EVENTS,
    delivery=DELIVERIES,
    signature=st.one_of(
        st.none(),
        LATIN1,
        st.text(alphabet="0123456789abcdef", min_size=64, max_size=64).map("sha256=".__add__),
        st.just("wrong-secret"),
        st.just("other-body"),
    ),
    sha1=st.one_of(st.none(), LATIN1.map("sha1=".__add__)),
    content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form"]),
    method=st.sampled_from(["post", "post", "post", "put", "get", "delete"]),
)
def test_unsigned_or_badly_signed_requests_change_nothing(
    world, client, settings, body, event, delivery, signature, sha1, content_type, method
):
    headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "Content-Type": content_type}
    if signature == "wrong-secret":
        signature = sign(settings.GITHUB_WEBHOOK_SECRET + "x", body)
    elif signature == "other-body":
        signature = sign(settings.GITHUB_WEBHOOK_SECRET, body + b" ")
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    if sha1 is not None:
        headers["X-Hub-Signature"] = sha1
    with rolled_back():
        before = snapshot()
        response = post(client, body, headers, method)
        assert response.status_code == (401 if method == "post" else 405)
        assert changed(before, snapshot()) == {}


@fuzz(120)
@given(body=BODIES, event=EVENTS, action=ACTIONS, delivery=DELIVERIES, add_action=st.booleans())
def test_signed_random_json_stores_one_delivery_at_most(
    world, client, settings, body, event, action, delivery, add_action
):
    if add_action:  # a JSON object with an action we may handle
        data = strict_json(body)
        if isinstance(data, dict):
            body = json.dumps({**data, "action": action}).encode()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": sign(settings.GITHUB_WEBHOOK_SECRET, body),
    }
    with rolled_back():
        before = snapshot()
        response = post(client, body, headers)
        status = response.status_code
        assert status in (200, 202, 400), (status, response.content[:300])
        tally(f"status {status}")
        assert response.json()["message"]
        payload = strict_json(body)
        acceptable = (
            EVENT_OK.fullmatch(event) and DELIVERY_OK.fullmatch(delivery) and type(payload) is dict
        )
        if not acceptable:
            assert status == 400
            assert changed(before, snapshot()) == {}
            return
        stored = WebhookDelivery.objects.get(delivery_id=delivery)
        got_action = payload.get("action") if isinstance(payload.get("action"), str) else ""
        handled = (event, got_action[:100]) in HANDLERS
        assert (stored.event, stored.action) == (event, got_action[:100])
        assert stored.state == ("pending" if handled else "ignored")
        assert status == (202 if handled else 200)
        assert changed(before, snapshot()) == {"accounts.WebhookDelivery": (0, 1)}


@fuzz(40)
@given(
    event=st.from_regex(r"[a-z0-9_]{1,40}", fullmatch=True).filter(
        lambda e: e not in HANDLED_EVENTS
    ),
    payload=st.dictionaries(st.text(max_size=12), JSON),
)
def test_a_signed_unknown_event_only_adds_an_ignored_delivery(
    world, client, settings, event, payload
):
    body = json.dumps(payload).encode()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": "d-" + hashlib.md5(body + event.encode()).hexdigest(),
        "X-Hub-Signature-256": sign(settings.GITHUB_WEBHOOK_SECRET, body),
    }
    with rolled_back():
        before = snapshot()
        response = post(client, body, headers)
        assert (response.status_code, response.json()["message"]) == (200, "ignored")
        assert changed(before, snapshot()) == {"accounts.WebhookDelivery": (0, 1)}
        stored = WebhookDelivery.objects.get()
        assert (stored.event, stored.state) == (event, "ignored")
        # jsonb keeps numbers as numbers (5.0 may come back as 5) and cannot hold U+0000,
        # which the endpoint stores as U+FFFD.
        kept = json.dumps(payload).replace("\\u0000", "\\ufffd")
        assert same_json(stored.payload, json.loads(kept))
        # Processing it changes nothing either.
        assert webhook_delivery_process(delivery_pk=stored.pk) is None


# --- processing: random payloads of the events we handle --------------------------------

UNKNOWN_ID = st.one_of(
    st.integers(min_value=10**11, max_value=10**12),  # nobody we know
    st.sampled_from([-1, 0, 2**63, 2**80, 1.5, "12", "x", None, True, [], {}]),
)
ACCOUNT = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {"id": UNKNOWN_ID, "login": st.one_of(st.text(max_size=50), JSON)},
        optional={"type": st.sampled_from(["Organization", "User", "Bot", ""])},
    ),
)
INSTALLATION = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {"id": UNKNOWN_ID, "account": ACCOUNT},
        optional={
            "target_type": st.sampled_from(["Organization", "User", 7]),
            "permissions": st.one_of(
                JSON, st.just({"organization_administration": "read", "members": "read"})
            ),
            "events": JSON,
            "repository_selection": JSON,
            "suspended_at": st.one_of(st.none(), st.text(max_size=30)),
        },
    ),
)


@pytest.mark.parametrize("pair", sorted(HANDLERS), ids=lambda p: ".".join(p))
@fuzz(12)
@given(
    parts=st.fixed_dictionaries(
        {},
        optional={
            "installation": INSTALLATION,
            "sender": ACCOUNT,
            "account": ACCOUNT,
            "organization": ACCOUNT,
            "member": ACCOUNT,
            "user": ACCOUNT,
            "membership": st.one_of(
                JSON,
                st.fixed_dictionaries(
                    {"user": ACCOUNT, "role": st.sampled_from(["admin", "member", "x"])}
                ),
            ),
        },
    ),
)
def test_processing_random_payloads_never_raises_nor_touches_known_rows(
    world, client, settings, pair, parts
):
    event, action = pair
    body = json.dumps({"action": action, **parts}).encode()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": "p-" + hashlib.md5(body + event.encode()).hexdigest(),
        "X-Hub-Signature-256": sign(settings.GITHUB_WEBHOOK_SECRET, body),
    }
    with rolled_back():
        before = existing_rows()
        response = post(client, body, headers)
        assert response.status_code == 202, response.content
        delivery = WebhookDelivery.objects.get()
        state = webhook_delivery_process(delivery_pk=delivery.pk)
        assert state in ("processed", "ignored", "pending"), state
        tally(state)
        assert existing_rows(before) == before


KNOWN_TABLES = (
    "accounts_user",
    "accounts_githubtoken",
    "accounts_organization",
    "accounts_membership",
    "accounts_installation",
    "accounts_installrequest",
    "usage_usageitem",
    "usage_collectionrun",
)


def existing_rows(before: dict | None = None) -> dict[str, tuple[int, str]]:
    """table -> (highest id, md5 of the rows up to it): rows added later do not count."""
    digests = {}
    with connection.cursor() as cursor:
        for table in KNOWN_TABLES:
            limit = before[table][0] if before else None
            if limit is None:
                cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
                limit = cursor.fetchone()[0]
            cursor.execute(
                f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) "
                f"FROM {table} t WHERE t.id <= %s",
                [limit],
            )
            digests[table] = (limit, cursor.fetchone()[0])
    return digests
