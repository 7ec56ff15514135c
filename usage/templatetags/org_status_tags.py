"""``{% org_status_of organization role as status %}``: the org's state
(`usage.reporting.status.org_status`) for templates of apps that may not import usage
(the install wizard's progress step in ``accounts``), so every page says the same; and
the words of the dashboard's filters for its empty states (``filter_words``,
``clear_filters_query``)."""

from __future__ import annotations

from django import template

from accounts.models import Organization
from usage.reporting import filter_words as words
from usage.reporting.filters import Filters
from usage.reporting.status import OrgStatus, org_status

register = template.Library()


@register.simple_tag
def org_status_of(organization: Organization, role: str | None = None) -> OrgStatus:
    return org_status(organization, role=role or None)


@register.filter
def filter_words(filters: Filters) -> str:
    return words.filter_words(filters)


@register.filter
def clear_filters_query(filters: Filters) -> str:
    return words.clear_filters_query(filters)
