"""What the alerts app adds to usage's pages (`usage.reporting.annotations`, registered in
`AlertsConfig.ready`): a marker on the dashboard's daily chart for each anomaly alert of
the days shown, and a link to the alerts page, with the count of open alerts, on the
overview and the dashboard."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Q
from django.urls import reverse

from accounts.models import Organization
from usage.reporting.annotations import DayMarker, OrgLink
from usage.reporting.filters import Filters
from usage.vocabulary import product_id, sku_id

from .models import FiredAlert, Rule
from .selectors import open_alert_counts


def _shown(data: dict, filters: Filters) -> bool:
    """Whether the chart under these filters contains the alert's subject."""
    if filters.product and product_id(data.get("product") or "") != filters.product:
        return False
    if filters.sku and sku_id(data.get("sku") or "") != filters.sku:
        return False
    return filters.repository is None or data.get("repository") == filters.repository


def anomaly_markers(organization: Organization, filters: Filters) -> list[DayMarker]:
    alerts = FiredAlert.objects.filter(
        organization=organization,
        kind=Rule.Kind.ANOMALY,
        period__gte=filters.start,
        period__lte=filters.end,
    ).order_by("period", "pk")
    return [
        DayMarker(day=a.period, text=f"anomaly alert, {a.message.rstrip('.')}")
        for a in alerts[:200]
        if _shown(a.data, filters)
    ]


def org_alert_links(organization_ids: Sequence[int]) -> dict[int, list[OrgLink]]:
    counts = open_alert_counts(list(organization_ids))
    # Organizations with collected data, or alerts: not those billingdash cannot read yet.
    orgs = Organization.objects.filter(pk__in=organization_ids).filter(
        Q(last_collected_at__isnull=False) | Q(pk__in=list(counts))
    )
    links = {}
    for pk, login in orgs.values_list("pk", "login"):
        count = counts.get(pk, 0)
        text = f"{count} open alert{'s' if count != 1 else ''}" if count else "Alerts"
        url = reverse("org_alerts", args=[login])
        links[pk] = [OrgLink(text=text, url=url, tone="warn" if count else "")]
    return links
