"""Hostile input on the read-only endpoints, property-based (hypothesis, derandomized):
``GET /api/orgs/``, ``GET /api/orgs/<login>/usage``, ``GET /orgs/<login>/usage.csv``,
``GET /orgs/<login>/progress.json`` and the dashboard's filters, with any query string,
logins with odd unicode, NUL, ``../``, slashes, percent signs or thousands of
characters, as each persona and anonymously.

Properties: never a 500; only an owner or a billing manager of the organization ever
gets a 200 from its endpoints (and only at its real login, in any letter case); the JSON
API answers JSON; nothing stored changes, except the one audit row a successful CSV
export writes.
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest
from hypothesis import event as tally
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import AuditEvent
from usage.reporting.lineitems import encode_cursor

from .conftest import ORG, changed, fuzz, rolled_back, snapshot

pytestmark = pytest.mark.django_db

WHO = st.sampled_from(["olivia", "bill", "mia", "charlie", "staff", "anonymous"])
ODD_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),  # lone surrogates cannot be sent
    max_size=40,
)
LOGINS = st.one_of(
    st.sampled_from([ORG, ORG.upper(), "Sec-Corp", "charlies-org", "acme-corp", "no-such-org"]),
    ODD_TEXT,
    st.sampled_from(
        [
            "",
            ".",
            "..",
            "../..",
            f"../{ORG}",
            f"{ORG}/../{ORG}",
            f"{ORG}%00",
            f"{ORG}\x00",
            "\x00",
            "%2e%2e",
            "sec-corp\u200b",  # zero-width space
            "ѕес-corp",  # Cyrillic look-alikes
            "SEC\u2011CORP",
            "\ufeffsec-corp",
            "😀" * 50,
            "' OR 1=1 --",
            "<script>alert(1)</script>",
        ]
    ),
    st.integers(min_value=40, max_value=20_000).map(lambda n: "a" * n),
)
SAFE = st.sampled_from(["", "/", "/.%"])  # which characters are left unencoded
KEYS = st.one_of(
    st.sampled_from(
        [
            "range",
            "start",
            "end",
            "product",
            "sku",
            "repository",
            "group_by",
            "sort",
            "after",
            "before",
            "qp",
            "page",
            "format",
            "callback",
        ]
    ),
    ODD_TEXT,
)
VALUES = st.one_of(
    ODD_TEXT,
    st.sampled_from(
        [
            "custom",
            "3m",
            "12m",
            "day",
            "product",
            "sku",
            "repository",
            "2026-01-01",
            "2026-02-30",
            "0001-01-01",
            "9999-12-31",
            "-1",
            "1e999",
            "NaN",
            "(no repository)",
            "\x00",
            "%00",
            "a" * 5000,
            "'; DROP TABLE usage_usageitem; --",
            encode_cursor("2026-11-01", 1),
            encode_cursor("x\x00", 2**70),
        ]
    ),
)
QUERIES = st.lists(st.tuples(KEYS, VALUES), max_size=6)
ORG_ENDPOINTS = {
    "api": "/api/orgs/{}/usage",
    "csv": "/orgs/{}/usage.csv",
    "progress": "/orgs/{}/progress.json",
    "dashboard": "/orgs/{}/",
}
ALLOWED = {200, 301, 302, 400, 401, 404}
# Whose billing each persona may see (charlie owns an organization of his own).
CAN_SEE = {"olivia": {ORG}, "bill": {ORG}, "charlie": {"charlies-org"}}


def check_org_endpoint(world, kind: str, who: str, login: str, safe: str, query) -> None:
    client = world.clients[who]
    path = ORG_ENDPOINTS[kind].format(quote(login, safe=safe))
    qs = urlencode(query)
    with rolled_back():
        before = snapshot(exclude=("accounts.AuditEvent",))
        audits = AuditEvent.objects.count()
        response = client.get(f"{path}?{qs}" if qs else path)
        status = response.status_code
        assert status in ALLOWED, (status, path, qs)
        tally(f"{kind} {status}")
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if status == 200:
            # Only an owner or billing manager, only of that organization, only its URL.
            assert login.lower() in CAN_SEE.get(who, ()), (who, path)
        match = response.wsgi_request.resolver_match
        view = match.url_name if match else None
        if kind == "api" and view == "api_org_usage":  # (other URLs: the HTML 404 page)
            data = json.loads(body)
            assert ("groups" in data) if status == 200 else ("error" in data)
        if kind == "progress" and status == 200:
            assert "months_total" in json.loads(body)
        assert changed(before, snapshot(exclude=("accounts.AuditEvent",))) == {}, path
        exported = 1 if (kind == "csv" and status == 200) else 0
        assert AuditEvent.objects.count() == audits + exported


@fuzz(120)
@given(
    kind=st.sampled_from(sorted(ORG_ENDPOINTS)),
    who=WHO,
    login=LOGINS,
    safe=SAFE,
    query=QUERIES,
)
def test_org_endpoints_never_500_and_never_leak(world, kind, who, login, safe, query):
    check_org_endpoint(world, kind, who, login, safe, query)


@fuzz(60)
@given(who=st.sampled_from(["olivia", "bill"]), kind=st.sampled_from(["api", "csv"]), q=QUERIES)
def test_owner_and_billing_manager_filters_never_500(world, who, kind, q):
    """The real organization with the real people: the filters reach the reports."""
    check_org_endpoint(world, kind, who, ORG, "", q)


@fuzz(40)
@given(who=WHO, query=QUERIES)
def test_org_list_api_never_500(world, who, query):
    with rolled_back():
        before = snapshot()
        qs = urlencode(query)
        response = world.clients[who].get("/api/orgs/" + (f"?{qs}" if qs else ""))
        assert response.status_code == (401 if who == "anonymous" else 200)
        rows = response.json()
        if who in ("olivia", "bill", "mia"):
            assert ORG in {row["login"] for row in rows}
        if who in ("charlie", "staff", "anonymous"):
            assert ORG not in json.dumps(rows)
        assert changed(before, snapshot()) == {}


def test_the_fuzzed_endpoints_do_answer_data(world):
    """The properties above are not vacuous: the real URLs answer with the data."""
    olivia = world.clients["olivia"]
    api = olivia.get(f"/api/orgs/{ORG}/usage?group_by=sku").json()
    assert api["groups"] and int(api["total"]["items"]) > 0
    csv = olivia.get(f"/orgs/{ORG}/usage.csv")
    assert len(b"".join(csv.streaming_content).splitlines()) > 1
    assert olivia.get(f"/orgs/{ORG}/progress.json").json()["has_data"] is True
    assert b"data-plotly-figure" in olivia.get(f"/orgs/{ORG}/?range=3m").content
