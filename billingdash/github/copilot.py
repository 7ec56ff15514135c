"""Copilot endpoints: the premium-request and AI-credit usage reports, and the seat list.

`get_copilot_usage(token, org, endpoint="premium_request"|"ai_credit", year, month,
user=None)`: ``usageItems`` aggregated per product, SKU and model (no user per item:
per-user figures need the ``user`` filter, one call per user). Needs the org's
Administration (read) permission, like the usage report.
https://docs.github.com/rest/billing/usage#get-billing-premium-request-usage-report-for-an-organization
https://docs.github.com/rest/billing/usage#get-billing-ai-credit-usage-report-for-an-organization

`list_copilot_seats(token, org)`: every seat (paginated). Needs the App's organization
permission "GitHub Copilot Business" (`organization_copilot_seat_management`) read.
https://docs.github.com/rest/copilot/copilot-user-management#list-all-copilot-seat-assignments-for-an-organization

Error messages name the path only, never the ``user`` parameter (a person's login).
"""

from __future__ import annotations

from typing import Any

from billingdash.github import api_urls, errors, http

ENDPOINTS = ("premium_request", "ai_credit")


def get_copilot_usage(
    token: str,
    org: str,
    *,
    endpoint: str,
    year: int,
    month: int,
    user: str | None = None,
) -> list[dict[str, Any]]:
    """The month's ``usageItems`` (numbers as `Decimal`)."""
    if endpoint not in ENDPOINTS:
        raise ValueError(f"endpoint must be one of {ENDPOINTS}")
    params: dict[str, Any] = {"year": int(year), "month": int(month)}
    if user is not None:
        params["user"] = user
    path = f"/organizations/{api_urls.quote_segment(org)}/settings/billing/{endpoint}/usage"
    data = http.request_json("GET", path, token=token, params=params)
    if not isinstance(data, dict) or not isinstance(data.get("usageItems", []), list):
        raise errors.MalformedResponse(f"{endpoint} usage is not an object with usageItems")
    items = data.get("usageItems", [])
    for item in items:
        if not isinstance(item, dict) or "grossAmount" not in item or "sku" not in item:
            raise errors.MalformedResponse(f"{endpoint} usage item lacks fields")
    return items


def list_copilot_seats(token: str, org: str) -> list[dict[str, Any]]:
    path = f"/orgs/{api_urls.quote_segment(org)}/copilot/billing/seats"
    return [s for s in http.paginate(path, token=token, items_key="seats") if isinstance(s, dict)]
