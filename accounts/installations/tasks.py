"""Celery tasks of the installations: reconcile what we store with `GET /app/installations`,
and delete the data of organizations uninstalled longer than the retention."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.exceptions import ImproperlyConfigured

from accounts.installations.retention import orgs_purge_expired
from accounts.installations.services import installations_reconcile
from billingdash import github

log = logging.getLogger(__name__)


@shared_task(name="accounts.tasks.reconcile_installations")
def reconcile_installations() -> dict[str, int] | None:
    """Compare ``GET /app/installations`` with what is stored (every 15 minutes, beat)."""
    try:
        result = installations_reconcile()
    except (github.GitHubError, ImproperlyConfigured) as error:
        # The next run (15 minutes) tries again; nothing was changed.
        log.warning("installation reconciliation skipped: %r", error)
        return None
    return {
        "seen": result.seen,
        "created": len(result.created),
        "revived": len(result.revived),
        "changed": len(result.changed),
        "deleted": len(result.deleted),
    }


@shared_task(name="accounts.tasks.purge_uninstalled_orgs")
def purge_uninstalled_orgs() -> int:
    """Delete the data of organizations uninstalled more than ORG_DATA_RETENTION_DAYS
    ago (daily, beat; idempotent)."""
    return orgs_purge_expired()
