"""``{% org_status_of organization role as status %}``: the org's state
(`usage.reporting.status.org_status`) for templates of apps that may not import usage
(the install wizard's progress step in ``accounts``), so every page says the same."""

from __future__ import annotations

from django import template

from accounts.models import Organization
from usage.reporting.status import OrgStatus, org_status

register = template.Library()


@register.simple_tag
def org_status_of(organization: Organization, role: str | None = None) -> OrgStatus:
    return org_status(organization, role=role or None)
