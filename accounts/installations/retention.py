"""What happens to an organization's data once our App is uninstalled.

An organization whose every installation is uninstalled keeps its data for
``ORG_DATA_RETENTION_DAYS`` (30) after the last uninstall, so that an owner who
uninstalled by mistake, or who moves the App to a new installation, loses nothing. Then
`orgs_purge_expired` (beat, daily) deletes the organization: its row and, by cascade,
everything that belongs to it (usage items and rollups, runs, summaries, budgets, alert
channels with their encrypted destinations, memberships, install requests), and the
cached tokens of its installations. The installation records stay (without their org)
for the audit trail, as does the audit log. Installing the App again before the date
cancels it; installing it after starts afresh (a new organization row, a new backfill).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.audit import audit_log
from accounts.models import Installation, Organization
from billingdash import github

log = logging.getLogger(__name__)

PURGE_BATCH = 100


def _retention() -> timedelta:
    return timedelta(days=settings.ORG_DATA_RETENTION_DAYS)


def _live_installations() -> Exists:
    return Exists(
        Installation.objects.filter(organization=OuterRef("pk")).exclude(
            state=Installation.State.DELETED
        )
    )


def org_data_deletion_due(*, organization: Organization) -> datetime | None:
    """When the organization's data will be deleted: the last uninstall plus the
    retention, or None while an installation is live (or none was ever made)."""
    return deletion_due_of(list(organization.installations.all()))


def deletion_due_of(installations: Sequence[Installation]) -> datetime | None:
    """`org_data_deletion_due` from the organization's installations, already read."""
    if not installations or any(i.state != Installation.State.DELETED for i in installations):
        return None
    uninstalled = [i.deleted_at or i.updated_at for i in installations]
    return max(uninstalled) + _retention()


def org_data_deletion_date(*, organization: Organization) -> date | None:
    """The day (local time) `org_data_deletion_due` falls on."""
    return deletion_date_of(list(organization.installations.all()))


def deletion_date_of(installations: Sequence[Installation]) -> date | None:
    """`org_data_deletion_date` from the organization's installations, already read."""
    due = deletion_due_of(installations)
    return timezone.localtime(due).date() if due is not None else None


def orgs_due_for_purge(*, now: datetime | None = None):
    """Organizations whose every installation was uninstalled longer ago than the
    retention (never an organization that was never installed: it has no usage)."""
    cutoff = (now or timezone.now()) - _retention()
    return (
        Organization.objects.annotate(live=_live_installations())
        .filter(live=False, installations__isnull=False)
        .annotate(
            last_uninstall=Max(Coalesce("installations__deleted_at", "installations__updated_at"))
        )
        .filter(last_uninstall__lt=cutoff)
    )


def org_data_delete(*, organization_id: int, now: datetime | None = None) -> bool:
    """Delete one organization's data if it is (still) due; audited. Returns whether it
    did. Safe to run twice at once: the row is locked, then checked again."""
    installation_ids: list[int] = []
    with transaction.atomic():
        organization = Organization.objects.select_for_update().filter(pk=organization_id).first()
        if organization is None:
            return False  # deleted already (a doubled run)
        due = org_data_deletion_due(organization=organization)
        if due is None or due > (now or timezone.now()):
            return False  # installed again meanwhile
        installation_ids = list(
            organization.installations.values_list("installation_id", flat=True)
        )
        deleted, per_model = organization.delete()
        rows = dict(sorted(Counter(per_model).items()))
        audit_log(
            actor=None,
            action="organization.data_deleted",
            target=organization.login,
            details={
                "github_id": organization.github_id,
                "retention_days": settings.ORG_DATA_RETENTION_DAYS,
                "installations": installation_ids,
                "rows": rows,
            },
        )
    for installation_id in installation_ids:
        github.forget_installation_token(installation_id)
    log.info("deleted the data of uninstalled organization %s (%d rows)", organization_id, deleted)
    return True


def orgs_purge_expired() -> int:
    """Delete the data of every organization due for it (at most `PURGE_BATCH` a run);
    returns how many. Beat runs it daily; a doubled run finds nothing left to do."""
    ids = list(orgs_due_for_purge().order_by("pk").values_list("pk", flat=True)[:PURGE_BATCH])
    return sum(org_data_delete(organization_id=pk) for pk in ids)
