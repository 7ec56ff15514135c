"""The JSON API's contract: ``GET /api/orgs/<login>/usage?start&end&group_by`` returns
totals per group as decimal strings; bad parameters get 400 with a message; no session
401; anyone who may not see the billing 404."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from usage import periods
from usage.models import UsageItem

pytestmark = [pytest.mark.django_db, pytest.mark.dates]

URL = "/api/orgs/acme-corp/usage"
DECIMAL = re.compile(r"^-?\d+\.\d{10}$")


def get(client, user, **params):
    client.force_login(user)
    return client.get(URL, params)


def test_the_answer_has_the_documented_shape(client, acme, people):
    month = periods.current_month()
    answer = get(client, people["olivia"], start=str(month), end=str(periods.today()))
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/json"
    assert "no-cache" in answer["Cache-Control"] or "max-age=0" in answer["Cache-Control"]
    body = answer.json()
    assert set(body) == {
        "organization",
        "start",
        "end",
        "group_by",
        "filters",
        "currency",
        "groups",
        "total",
    }
    assert body["group_by"] == "day" and body["currency"] == "USD"
    assert body["start"] == str(month)
    for group in [*body["groups"], body["total"]]:
        for key in ("gross_amount", "discount_amount", "net_amount", "quantity"):
            assert isinstance(group[key], str) and DECIMAL.match(group[key]), group[key]
        assert isinstance(group["items"], int)
    assert [g["key"] for g in body["groups"]] == sorted(g["key"] for g in body["groups"])
    # Exactly the sum of the stored line items, every decimal.
    items = UsageItem.objects.filter(organization=acme, date__gte=month)
    assert Decimal(body["total"]["net_amount"]) == sum((i.net_amount for i in items), Decimal(0))


def test_filters_and_the_default_range(client, acme, people):
    body = get(client, people["bill"], group_by="product").json()
    assert body["start"] == str(periods.current_month())
    only = get(client, people["bill"], group_by="product", product="copilot").json()
    assert [g["key"] for g in only["groups"]] == ["copilot"]
    assert only["filters"] == {"product": "copilot", "sku": None, "repository": None}
    none = get(client, people["bill"], group_by="repository", repository="(no repository)")
    assert [g["key"] for g in none.json()["groups"]] == [""]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-13-01", "end": "2026-12-31"}, "start must be a date"),
        ({"start": "yesterday", "end": "2026-12-31"}, "start must be a date"),
        ({"start": "2026-1-1", "end": "2026-12-31"}, "start must be a date"),
        ({"start": "2026-02-30", "end": "2026-03-31"}, "start must be a date"),
        ({"start": "2026-11-20", "end": "2026-11-01"}, "start must not be after end"),
        ({"start": "2026-11-01"}, "needs both start and end"),
        ({"group_by": "fortnight"}, "group_by must be one of"),
        ({"bucket": "year"}, "bucket must be one of"),
        ({"group_by": ""}, "group_by must be one of"),
        ({"start": "1900-01-01", "end": "1900-01-31"}, "dates must be between"),
        ({"start": "2008-01-01", "end": "2026-11-01"}, "at most"),
        ({"start": "2026-11-01", "end": "9999-12-31"}, "dates must be between"),
        ({"range": "forever"}, "range must be one of"),
        ({"product": "x" * 500}, "product is not a valid name"),
        ({"repository": "a\x00b"}, "repository is not a valid name"),
    ],
)
def test_bad_parameters_get_400_with_a_message(client, acme, people, params, message):
    answer = get(client, people["olivia"], **params)
    assert answer.status_code == 400
    assert message in answer.json()["error"]


def test_who_may_ask(client, acme, people):
    assert client.get(URL).status_code == 401
    for who in ("mia", "charlie"):
        answer = get(client, people[who])
        assert answer.status_code == 404 and answer.json() == {"error": "no such organization"}
    client.force_login(people["olivia"])
    assert client.get("/api/orgs/no-such-org/usage").status_code == 404
    assert client.post(URL).status_code == 405
    assert get(client, people["bill"]).status_code == 200


def test_an_empty_range_has_zero_totals(client, acme, people):
    long_ago = periods.add_months(periods.current_month(), -20)
    end = long_ago + timedelta(days=3)
    body = get(client, people["olivia"], start=str(long_ago), end=str(end)).json()
    assert body["groups"] == []
    assert body["total"]["items"] == 0 and Decimal(body["total"]["net_amount"]) == 0
