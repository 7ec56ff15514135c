"""The "Copilot" link in the dashboard's header and on the overview, for organizations
whose usage has Copilot premium-request or AI-credit lines."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Exists, OuterRef
from django.urls import reverse

from accounts.models import Organization
from copilot.quotas import METERED_SKUS
from usage.models import DailyUsage
from usage.reporting.annotations import OrgLink


def org_copilot_links(organization_ids: Sequence[int]) -> dict[int, list[OrgLink]]:
    copilot_lines = DailyUsage.objects.filter(organization=OuterRef("pk"), sku__in=METERED_SKUS)
    orgs = (
        Organization.objects.filter(pk__in=list(organization_ids))
        .filter(Exists(copilot_lines))
        .values_list("pk", "login")
    )
    return {
        pk: [OrgLink(text="Copilot", url=reverse("org_copilot", args=[login]))]
        for pk, login in orgs
    }
