"""Usage older than ``USAGE_RETENTION_MONTHS`` (this month included) is deleted: every
usage table's rows dated before the first kept month, organization by organization,
each organization's purge audited. Beat runs `purge_old_usage` daily; a second run finds
nothing (idempotent). The months kept always cover a backfill (settings refuse a
retention shorter than ``BACKFILL_MONTHS``), so collection never refills what this
deletes.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date

from celery import shared_task
from django.apps import apps
from django.conf import settings
from django.db import models, transaction

from accounts.audit import audit_log
from accounts.models import Organization
from usage import periods
from usage.collection.versions import org_data_version_bump

log = logging.getLogger(__name__)

# The field that dates a row, by name, in the order looked for.
DATE_FIELDS = ("date", "month", "period")


def retention_cutoff() -> date:
    """The first month kept: the current one and the ``USAGE_RETENTION_MONTHS - 1``
    before it."""
    return periods.add_months(periods.current_month(), -(settings.USAGE_RETENTION_MONTHS - 1))


def _dated_models() -> list[tuple[type[models.Model], str]]:
    """Every usage model with an organization and a date field (new ones included)."""
    found = []
    for model in apps.get_app_config("usage").get_models():
        names = {f.name: f for f in model._meta.get_fields() if getattr(f, "concrete", False)}
        org = names.get("organization")
        if org is None or getattr(org, "related_model", None) is not Organization:
            continue
        for name in DATE_FIELDS:
            if isinstance(names.get(name), models.DateField):
                found.append((model, name))
                break
    return found


def usage_purge_expired() -> int:
    """Delete usage dated before `retention_cutoff`; returns how many organizations had
    some. One transaction and one audit event per organization."""
    cutoff = retention_cutoff()
    dated = _dated_models()
    org_ids: set[int] = set()
    for model, field in dated:
        org_ids.update(
            model.objects.filter(**{f"{field}__lt": cutoff})
            .values_list("organization_id", flat=True)
            .distinct()
        )
    purged = 0
    for organization in Organization.objects.filter(pk__in=org_ids).order_by("pk"):
        rows: dict[str, int] = defaultdict(int)
        with transaction.atomic():
            for model, field in dated:
                old = model.objects.filter(organization=organization, **{f"{field}__lt": cutoff})
                _, per_model = old.delete()
                for label, count in per_model.items():
                    rows[label] += count
            if not any(rows.values()):
                continue
            org_data_version_bump(organization=organization)
            audit_log(
                actor=None,
                action="usage.purged",
                organization=organization,
                target=organization.login,
                details={
                    "before": cutoff.isoformat(),
                    "retention_months": settings.USAGE_RETENTION_MONTHS,
                    "rows": dict(sorted(rows.items())),
                },
            )
        purged += 1
    if purged:
        log.info("purged usage before %s of %d organizations", cutoff, purged)
    return purged


@shared_task(name="usage.tasks.purge_old_usage")
def purge_old_usage() -> int:
    """Delete usage older than USAGE_RETENTION_MONTHS (daily, beat; idempotent)."""
    return usage_purge_expired()
