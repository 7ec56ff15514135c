"""The Copilot page, its CSV and its JSON API: owners and billing managers see them,
members and outsiders get a 404; the API's shape, decimal strings and 400s."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from accounts.models import AuditEvent
from copilot.models import CopilotModelMonth
from usage import periods

from .conftest import cents

pytestmark = [pytest.mark.django_db, pytest.mark.dates]
DECIMAL = re.compile(r"^-?\d+\.\d{10}$")


def page(login: str = "acme-corp") -> str:
    return f"/orgs/{login}/copilot/"


def api(login: str = "acme-corp") -> str:
    return f"/api/orgs/{login}/copilot"


@pytest.mark.parametrize("who", ["olivia", "bill"])
def test_owners_and_billing_managers_see_models_users_and_quota(client, acme, people, who):
    client.force_login(people[who])
    answer = client.get(page(), {"range": "last_month"})
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "Copilot spend by day" in html and "Value of use by model" in html
    assert "Claude Sonnet 4.5" in html  # a model of the simulator
    assert "Top users in" in html and "over</span>" in html  # someone is over quota
    assert "Seats without use in 30 days" in html and "seats had no Copilot activity" in html
    assert "vendor/plotly-basic" in html


def test_the_dashboard_header_links_to_it(client, acme, people):
    client.force_login(people["olivia"])
    html = client.get("/orgs/acme-corp/").content.decode()
    assert 'href="/orgs/acme-corp/copilot/"' in html


@pytest.mark.parametrize("who", ["mia", "charlie"])
def test_members_and_outsiders_get_404(client, acme, people, who):
    client.force_login(people[who])
    for url in (page(), api(), "/orgs/acme-corp/copilot/export.csv"):
        answer = client.get(url)
        assert answer.status_code == 404, url
        assert b"mona" not in answer.content


def test_anonymous_is_sent_to_sign_in_and_the_api_answers_401(client, acme):
    assert client.get(page()).status_code == 302
    assert client.get(api()).status_code == 401


def test_api_shape_by_model_equals_the_stored_months(client, acme, people):
    client.force_login(people["olivia"])
    month = periods.previous_month()
    body = client.get(api(), {"start": str(month), "end": str(month), "group_by": "model"}).json()
    assert set(body) == {"organization", "start", "end", "group_by", "currency", "groups", "total"}
    assert body["organization"] == "acme-corp" and body["group_by"] == "model"
    assert body["start"] == str(month)
    group = body["groups"][0]
    assert set(group) == {
        "key",
        "quantity",
        "unit_type",
        "gross_amount",
        "discount_amount",
        "net_amount",
    }
    assert all(DECIMAL.match(g[k]) for g in body["groups"] for k in ("quantity", "net_amount"))
    net = sum(
        (r.net_amount for r in CopilotModelMonth.objects.filter(organization=acme, period=month)),
        Decimal(0),
    )
    assert Decimal(body["total"]["net_amount"]) == net
    assert body["total"]["unit_type"] == group["unit_type"]


def test_api_by_day_and_by_user_agree_to_the_cent(client, acme, people):
    client.force_login(people["bill"])
    month = periods.previous_month()
    params = {"range": "last_month"}
    by_day = client.get(api(), {**params, "group_by": "day"}).json()
    by_user = client.get(api(), {**params, "group_by": "user"}).json()
    assert by_day["start"] == str(month)
    assert cents(by_day["total"]["gross_amount"]) == cents(by_user["total"]["gross_amount"])
    assert len(by_user["groups"]) >= 8


@pytest.mark.parametrize(
    "params,message",
    [
        ({"group_by": "repository"}, "group_by must be one of day, model, user"),
        ({"range": "custom", "start": "2026-13-01", "end": "2026-01-01"}, "start"),
        ({"range": "custom", "start": "2026-03-01", "end": "2026-02-01"}, ""),
    ],
)
def test_bad_parameters_get_400_with_a_message(client, acme, people, params, message):
    client.force_login(people["olivia"])
    answer = client.get(api(), params)
    assert answer.status_code == 400
    assert message in answer.json()["error"]
    assert client.get("/orgs/acme-corp/copilot/export.csv", params).status_code == 400


def test_csv_by_user(client, acme, people):
    client.force_login(people["olivia"])
    answer = client.get("/orgs/acme-corp/copilot/export.csv", {"group_by": "user"})
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    lines = answer.content.decode().splitlines()
    assert lines[0] == "user,quantity,unit_type,gross_amount,discount_amount,net_amount"
    assert len(lines) > 5
    # Audited as every export is (it names Copilot users).
    event = AuditEvent.objects.get(action="export_copilot_csv")
    assert event.actor == people["olivia"] and event.organization == acme
    assert event.details["group_by"] == "user"


def test_a_bad_filter_on_the_page_is_said_not_500(client, acme, people):
    client.force_login(people["olivia"])
    answer = client.get(page(), {"range": "custom", "start": "nope", "top": "x"})
    assert answer.status_code == 200
    assert b"top must be a number" in answer.content
