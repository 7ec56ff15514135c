"""What alerts add to usage's pages through usage's extension points: markers on the
dashboard's daily chart where an anomaly fired (drawn, named in the chart's note, only
when the chart shows that SKU or repository), and the count of open alerts, a link to the
alerts page, on /orgs/ and the dashboard."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import FiredAlert
from usage import periods

from .usage_data import put_usage

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


def anomaly(acme, day, **data) -> FiredAlert:
    return FiredAlert.objects.create(
        organization=acme.org,
        kind="anomaly",
        period=day,
        key=str(data),
        title="Unusual spend",
        message=(
            f"Actions Linux in acme-corp/api: $182 on {day:%a} {day.day} {day:%b}, usual $9–$14."
        ),
        data={"day": day.isoformat(), "product": "actions", **data},
    )


def daily_figure(html: str) -> dict:
    match = re.search(
        r'<script id="chart-daily-figure" type="application/json">(.*?)</script>', html
    )
    return json.loads(match.group(1))


def test_anomaly_markers_on_the_daily_chart(client, acme):
    today = periods.today()
    put_usage(
        acme.org,
        [
            (today, "actions", "Actions Linux", "acme-corp/api", 182),
            (today, "copilot", "Copilot", "", 4),
        ],
    )
    anomaly(acme, today, sku="Actions Linux", repository="acme-corp/api")
    anomaly(acme, today - timedelta(days=400), sku="Actions Linux")  # outside the range
    client.force_login(acme.people["olivia"])
    html = client.get("/orgs/acme-corp/").content.decode()
    layout = daily_figure(html)["layout"]
    (line,) = layout["shapes"]
    assert (line["x0"], line["yref"], line["line"]["dash"]) == (today.isoformat(), "paper", "dot")
    (label,) = layout["annotations"]
    assert "Actions Linux in acme-corp/api: $182" in label["hovertext"]
    note = re.sub(r"\s+", " ", html)
    assert (
        f"Red dotted lines mark alerts: {today:%a} {today.day} {today:%b}: anomaly alert, "
        "Actions Linux in acme-corp/api: $182"
    ) in note
    # Filtered to Copilot, or to another repository: not that chart's story.
    for query in ("?product=copilot", "?repository=acme-corp/web"):
        other = client.get("/orgs/acme-corp/" + query).content.decode()
        if 'id="chart-daily-figure"' in other:
            assert "shapes" not in daily_figure(other)["layout"], query
        assert "Red dotted lines" not in other
    same = client.get("/orgs/acme-corp/?sku=Actions+Linux").content.decode()
    assert len(daily_figure(same)["layout"]["shapes"]) == 1


def test_open_alerts_are_counted_on_the_overview_and_the_dashboard(client, acme):
    today = periods.today()
    client.force_login(acme.people["bill"])
    # Nothing collected yet: nothing to alert on, no link.
    assert "/orgs/acme-corp/alerts/" not in client.get("/orgs/").content.decode()
    put_usage(acme.org, [(today, "actions", "Actions Linux", "acme-corp/api", 5)])
    acme.org.last_collected_at = timezone.now()
    acme.org.save()
    overview = re.sub(r"\s+", " ", client.get("/orgs/").content.decode())
    assert '<a class="badge" href="/orgs/acme-corp/alerts/">Alerts</a>' in overview
    anomaly(acme, today, sku="a")
    anomaly(acme, today, sku="b")
    acknowledged = anomaly(acme, today, sku="c")
    acknowledged.acknowledged_at = timezone.now()
    acknowledged.save()
    overview = re.sub(r"\s+", " ", client.get("/orgs/").content.decode())
    assert '<a class="badge warn" href="/orgs/acme-corp/alerts/">2 open alerts</a>' in overview
    dashboard = client.get("/orgs/acme-corp/").content.decode()
    assert 'href="/orgs/acme-corp/alerts/" class="badge warn">2 open alerts</a>' in dashboard
    # A member sees the org on /orgs/ but no alerts of it.
    client.force_login(acme.people["mia"])
    assert "open alert" not in client.get("/orgs/").content.decode()
