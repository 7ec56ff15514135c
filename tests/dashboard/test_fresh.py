"""The view cache (usage.reporting.cache) is keyed by the org's data version: after a
month is replaced, the dashboard, the JSON API and the CSV show the new numbers at once
(never a cached old answer), and the API and CSV answer a matching ``If-None-Match``
with 304 until then, 200 after."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.db.models import Sum

from accounts.models import AuditEvent
from tests.dashboard.conftest import collect
from usage import periods
from usage.collection.versions import data_version_of, org_data_version_bump
from usage.models import UsageItem

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


def stored_net(org) -> Decimal:
    month = periods.current_month()
    items = UsageItem.objects.filter(organization=org, date__gte=month)
    return items.aggregate(n=Sum("net_amount"))["n"]


def csv_net(response) -> Decimal:
    text = b"".join(response.streaming_content).decode()
    return sum((Decimal(r["net_amount"]) for r in csv.DictReader(io.StringIO(text))), Decimal(0))


def views(client, org):
    """(dashboard's net this month, API total net, CSV net, API response, CSV response)."""
    page = client.get(f"/orgs/{org.login}/")
    assert page.status_code == 200
    api = client.get(f"/api/orgs/{org.login}/usage", {"group_by": "product"})
    assert api.status_code == 200
    export = client.get(f"/orgs/{org.login}/usage.csv")
    assert export.status_code == 200
    return (
        page.context["totals"].net_amount,
        Decimal(api.json()["total"]["net_amount"]),
        csv_net(export),
        api,
        export,
    )


def test_a_replaced_month_shows_at_once_everywhere(client, acme, people, dash):
    client.force_login(people["olivia"])
    before = stored_net(acme)
    page_net, api_net, csv_total, api, export = views(client, acme)
    assert page_net == api_net == csv_total == before
    version = data_version_of(acme)
    api_url, csv_url = (
        f"/api/orgs/{acme.login}/usage?group_by=product",
        f"/orgs/{acme.login}/usage.csv",
    )

    # Unchanged data: the same ETags, 304 for a client that has them (any reader).
    client.force_login(people["bill"])
    again = client.get(api_url, HTTP_IF_NONE_MATCH=api["ETag"])
    assert again.status_code == 304 and again["ETag"] == api["ETag"]
    assert "no-store" not in again["Cache-Control"]
    exports = AuditEvent.objects.filter(action="export_csv").count()
    assert client.get(csv_url, HTTP_IF_NONE_MATCH=export["ETag"]).status_code == 304
    assert AuditEvent.objects.filter(action="export_csv").count() == exports  # nothing sent
    # Another group_by or range is another ETag.
    other = client.get(f"/api/orgs/{acme.login}/usage?group_by=sku", HTTP_IF_NONE_MATCH=api["ETag"])
    assert other.status_code == 200 and other["ETag"] != api["ETag"]

    # A spike today, and the current month collected again (replaced).
    dash.control.add_spike(acme.login, periods.today().isoformat(), "actions_linux", factor=50)
    collect(acme, [periods.current_month()])
    after = stored_net(acme)
    assert after > before
    assert data_version_of(acme) > version

    client.force_login(people["olivia"])
    page_net, api_net, csv_total, api2, export2 = views(client, acme)
    assert page_net == api_net == csv_total == after
    fresh = client.get(api_url, HTTP_IF_NONE_MATCH=api["ETag"])
    assert fresh.status_code == 200 and fresh["ETag"] == api2["ETag"] != api["ETag"]
    assert Decimal(fresh.json()["total"]["net_amount"]) == after
    assert client.get(csv_url, HTTP_IF_NONE_MATCH=export["ETag"]).status_code == 200
    assert client.get(csv_url, HTTP_IF_NONE_MATCH=export2["ETag"]).status_code == 304


def test_an_import_bump_changes_the_etag(client, acme, people):
    """Imports (another writer of usage) call the same public bump."""
    client.force_login(people["bill"])
    url = f"/api/orgs/{acme.login}/usage"
    first = client.get(url)
    org_data_version_bump(organization=acme)
    second = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200 and second["ETag"] != first["ETag"]


@pytest.mark.parametrize("who", ["mia", "charlie"])
def test_no_etag_opens_anything_to_others(client, acme, people, who):
    client.force_login(people["olivia"])
    etag = client.get(f"/api/orgs/{acme.login}/usage")["ETag"]
    client.force_login(people[who])
    assert client.get(f"/api/orgs/{acme.login}/usage", HTTP_IF_NONE_MATCH=etag).status_code == 404
    assert client.get(f"/orgs/{acme.login}/usage.csv", HTTP_IF_NONE_MATCH="*").status_code == 404
    assert client.get(f"/orgs/{acme.login}/").status_code == 404
