"""No query string, however odd, makes the dashboard, the CSV, the API or "refresh now"
answer 500: the page falls back to its defaults, the CSV and the API say 400."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from usage import periods
from usage.reporting.lineitems import encode_cursor

pytestmark = pytest.mark.django_db

KEYS = [
    "range",
    "start",
    "end",
    "product",
    "sku",
    "repository",
    "sort",
    "after",
    "before",
    "qp",
    "group_by",
    "page",
    "x",
]
VALUES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "custom",
            "12m",
            "this_month",
            "2026-11-01",
            "2026-02-30",
            "0000-01-01",
            "9999-12-31",
            "-date",
            "net",
            "-net",
            "quantity",
            "(no repository)",
            "day",
            "sku",
            "repository",
            "\x00",
            "'; drop table usage_usageitem; --",
            "</script><script>alert(1)</script>",
            encode_cursor("2026-11-01", 1),
            encode_cursor("1e999999", 1),
            encode_cursor("NaN", 2),
            encode_cursor("x\x00", 3),
            encode_cursor("5", 2**70),
            "eyJhIjoxfQ",
            "%%%",
            "é" * 10,
        ]
    ),
)
QUERIES = st.lists(st.tuples(st.sampled_from(KEYS), VALUES), max_size=8)


@pytest.fixture
def tiny(make_org):
    return make_org("tiny-co", repos=2, skus_per_repo=2, months=[periods.current_month()])


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=QUERIES)
def test_no_500_for_any_query_string(client, tiny, people, query):
    client.force_login(people["olivia"])
    qs = urlencode(query)
    page = client.get(f"/orgs/tiny-co/?{qs}")
    assert page.status_code == 200
    csv = client.get(f"/orgs/tiny-co/usage.csv?{qs}")
    assert csv.status_code in (200, 400)
    if csv.status_code == 200:
        b"".join(csv.streaming_content)
    api = client.get(f"/api/orgs/tiny-co/usage?{qs}")
    assert api.status_code in (200, 400)
    assert "error" in api.json() or "groups" in api.json()
    refresh = client.post("/orgs/tiny-co/refresh/", {"return_query": qs})
    assert refresh.status_code == 302 and refresh["Location"].startswith("/orgs/tiny-co/")
