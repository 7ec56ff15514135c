"""``{% org_status_of organization role as status %}``: the org's state
(`usage.reporting.status.org_status`) for templates of apps that may not import usage
(the install wizard's progress step in ``accounts``), so every page says the same; and
the words of the dashboard's filters for its empty states (``filter_words``,
``clear_filters_query``)."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

from django import template

from accounts.models import Organization
from usage import vocabulary
from usage.reporting.filters import Filters
from usage.reporting.status import OrgStatus, org_status

register = template.Library()


@register.simple_tag
def org_status_of(organization: Organization, role: str | None = None) -> OrgStatus:
    return org_status(organization, role=role or None)


@register.filter
def filter_words(filters: Filters) -> str:
    """What the product/SKU/repository filters keep, in words ("product Copilot,
    repository acme/web"), or ""."""
    parts = []
    if filters.product:
        parts.append(f"product {vocabulary.product_label(filters.product)}")
    if filters.sku:
        parts.append(f"SKU {vocabulary.sku_label(filters.sku)}")
    if filters.repository is not None:
        repo = filters.repository
        parts.append(f"repository {repo}" if repo else "usage without a repository")
    return ", ".join(parts)


@register.filter
def clear_filters_query(filters: Filters) -> str:
    """The query string of the same dates without the product/SKU/repository filters."""
    params = replace(filters, product="", sku="", repository=None).params()
    return f"?{urlencode(params)}" if params else "?"
