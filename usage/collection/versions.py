"""Data versions: one integer per organization that changes whenever its usage data
does (`usage.models.OrgDataVersion`).

Every write of usage items or rollups calls `org_data_version_bump` inside its own
transaction (a month replace, an import of a usage report, a purge of old months), so
the new version becomes visible exactly when the new data does. Readers call
`data_version_of` *before* they read the data: under READ COMMITTED a reader that saw
version n reads data at least as new as n, so a result cached under (org, n) is never
older than n (it may be newer, which is harmless: after the commit everyone reads
n + 1). That is what lets `usage.reporting.cache` keep view results without expiry.
"""

from __future__ import annotations

import secrets

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Organization
from usage.models import OrgDataVersion
from usage.signals import data_changed_on_commit


def _org_id(organization: Organization | int) -> int:
    return organization if isinstance(organization, int) else organization.pk


def org_data_version_bump(*, organization: Organization | int) -> int:
    """Count one change of the organization's usage data (items, rollups, budgets,
    summary); call it inside the transaction that changes the data. Returns the new
    version."""
    org_id = _org_id(organization)
    changes = {
        "version": F("version") + 1,
        "token": secrets.randbits(63),
        "changed_at": timezone.now(),
    }
    with transaction.atomic():
        rows = OrgDataVersion.objects.filter(pk=org_id)
        if not rows.update(**changes):
            OrgDataVersion.objects.get_or_create(organization_id=org_id)
            rows.update(**changes)
        data_changed_on_commit(organization_id=org_id)
        return rows.values_list("version", flat=True).get()


def data_stamp_of(organization: Organization | int) -> tuple[int, int]:
    """(version, token) of the organization's data: what caches key by."""
    found = OrgDataVersion.objects.filter(pk=_org_id(organization)).values_list("version", "token")
    return next(iter(found), (0, 0))


def data_version_of(organization: Organization | int) -> int:
    """The organization's current data version (0 before its first change)."""
    return data_stamp_of(organization)[0]
