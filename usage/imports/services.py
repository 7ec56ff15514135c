"""Writes of the import pipeline: take an upload, process it (in the Celery task), merge
a workspace once its owner's role is verified.

The upload never holds the file in memory: Django streams it to a temporary file
(`TemporaryFileUploadHandler`, set by the view), which is copied, hashed on the way,
into ``REPORT_IMPORTS_DIR`` for the worker (same machine or shared storage), and
deleted there once processed.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.audit import audit_log
from accounts.models import Organization, User
from billingdash.celery import app
from usage.collection.ingest import month_bounds
from usage.collection.locks import lease_confirm
from usage.collection.versions import org_data_version_bump
from usage.imports import metered  # noqa: F401 (registers the metered kinds)
from usage.imports.kinds import Outcome, kind_named, kind_of, kinds
from usage.imports.lease import OrgBusy, org_lease
from usage.imports.parse import ReportUnreadable, read_header
from usage.imports.rebuild import month_rebuild
from usage.imports.selectors import month_source
from usage.models import ReportImport, ReportItem

log = logging.getLogger(__name__)
CHUNK = 1 << 20


class ImportRefused(Exception):
    """The upload is not a report billingdash can import (the message says why)."""


def imports_dir() -> Path:
    configured = getattr(settings, "REPORT_IMPORTS_DIR", "")
    folder = Path(configured) if configured else Path(tempfile.gettempdir()) / "billingdash-imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _store(upload: Any) -> tuple[str, str, int]:
    """Copy the upload into `imports_dir()`, hashing it: (path, sha256, size)."""
    target = imports_dir() / f"{uuid.uuid4().hex}.csv"
    digest, size = hashlib.sha256(), 0
    with target.open("wb") as out:
        for chunk in upload.chunks(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return str(target), digest.hexdigest(), size


def _send(report_import_id: int) -> None:
    # By name: the task module imports this one.
    app.send_task("usage.imports.process_report_import", args=[report_import_id])


def report_import_create(
    *,
    organization: Organization,
    user: User,
    upload: Any,
    verified: bool,
    request: Any = None,
) -> ReportImport:
    """Store an uploaded report and queue its processing. Raises `ImportRefused` when
    the file is not a report of a kind billingdash imports."""
    path, sha, size = _store(upload)
    try:
        header = read_header(path)
    except ReportUnreadable as exc:
        os.remove(path)
        raise ImportRefused(str(exc)) from None
    kind = kind_of(header.set)
    if kind is None:
        os.remove(path)
        known = ", ".join(k.label.lower() for k in kinds())
        raise ImportRefused(
            "This file is not a usage report billingdash can read: its first line has the "
            f"columns {', '.join(header.names[:8]) or '(none)'}. Upload a CSV file GitHub "
            f"made ({known}), as downloaded."
        )
    name = os.path.basename(str(getattr(upload, "name", "") or "report.csv"))[:300]
    report_import = ReportImport.objects.create(
        organization=organization,
        kind=kind.name,
        uploaded_by=user,
        workspace=None if verified else user,
        verified=verified,
        file_name=name,
        size=size,
        sha256=sha,
        path=path,
    )
    audit_log(
        actor=user,
        action="report_upload",
        organization=organization,
        target=name,
        request=request,
        details={
            "import": report_import.pk,
            "kind": kind.name,
            "size": size,
            "sha256": sha,
            "workspace": not verified,
        },
    )
    transaction.on_commit(lambda: _send(report_import.pk))
    return report_import


def _progress(report_import_id: int):
    def record(percent: int) -> None:
        ReportImport.objects.filter(pk=report_import_id).update(progress=max(0, min(percent, 99)))

    return record


def _status(outcome: Outcome) -> str:
    if outcome.months and not outcome.months_kept and not outcome.error_count:
        return ReportImport.Status.DONE
    if outcome.months:
        return ReportImport.Status.PARTIAL
    if not outcome.error_count and not outcome.months_kept:
        return ReportImport.Status.DONE  # a file of its header alone: nothing to do
    return ReportImport.Status.FAILED


def report_import_process(*, report_import_id: int) -> ReportImport | None:
    """Process a queued import once (claimed with a compare-and-swap): read, apply,
    record the outcome, audit it and delete the stored file."""
    claimed = ReportImport.objects.filter(
        pk=report_import_id, status=ReportImport.Status.QUEUED
    ).update(status=ReportImport.Status.RUNNING, started_at=timezone.now())
    if not claimed:
        return None
    report_import = ReportImport.objects.select_related("organization", "uploaded_by").get(
        pk=report_import_id
    )
    kind = kind_named(report_import.kind)
    outcome = Outcome()
    try:
        if kind is None:
            raise ReportUnreadable(f"billingdash no longer imports {report_import.kind} reports.")
        outcome = kind.run(
            report_import=report_import,
            path=report_import.path,
            progress=_progress(report_import.pk),
        )
        status = _status(outcome)
    except ReportUnreadable as exc:
        status, outcome.message = ReportImport.Status.FAILED, str(exc)
    except OrgBusy:
        status = ReportImport.Status.FAILED
        outcome = Outcome(
            message="A collection of this organization kept it busy for ten minutes, so "
            "nothing was changed. Upload the file again in a few minutes."
        )
    except Exception:
        log.exception("report import %s failed", report_import.pk)
        status = ReportImport.Status.FAILED
        outcome.message = "The import failed on our side; nothing was changed. Try again later."
    _finish(report_import, status, outcome)
    return report_import


def _finish(report_import: ReportImport, status: str, outcome: Outcome) -> None:
    if report_import.path:
        with contextlib.suppress(OSError):
            os.remove(report_import.path)
    if status == ReportImport.Status.FAILED and not outcome.message and outcome.months_kept:
        outcome.message = "No month could be imported: every month of the file has bad rows."
    for name, value in (
        ("status", status),
        ("progress", 100),
        ("rows", outcome.rows),
        ("rows_read", outcome.rows_read),
        ("months", outcome.months),
        ("months_kept", outcome.months_kept),
        ("errors", outcome.errors[:100]),
        ("error_count", outcome.error_count),
        ("first_day", outcome.first_day),
        ("last_day", outcome.last_day),
        ("message", outcome.message),
        ("path", ""),
        ("finished_at", timezone.now()),
    ):
        setattr(report_import, name, value)
    report_import.save()
    audit_log(
        actor=report_import.uploaded_by,
        action="report_import",
        organization=report_import.organization,
        target=report_import.file_name,
        details={
            "import": report_import.pk,
            "kind": report_import.kind,
            "status": status,
            "size": report_import.size,
            "sha256": report_import.sha256,
            "months": outcome.months,
            "months_kept": outcome.months_kept,
            "rows": outcome.rows,
            "bad_rows": outcome.error_count,
            "workspace": report_import.workspace_id is not None,
        },
    )
    if report_import.workspace_id is None and outcome.months:
        # Whatever the dashboard caches under the data version may read the new rows.
        org_data_version_bump(organization=report_import.organization)


def workspace_merge(*, organization: Organization, user: User) -> int:
    """Merge `user`'s workspace imports of `organization` into the org's data, oldest
    first, each replacing the org's rows on its days (as if uploaded now, verified).
    Call only once the user's role is verified (owner or billing manager). Returns how
    many imports were merged."""
    pending = list(
        ReportImport.objects.filter(
            organization=organization, workspace=user, merged_at__isnull=True
        )
        .exclude(status__in=(ReportImport.Status.QUEUED, ReportImport.Status.RUNNING))
        .order_by("created_at", "pk")
    )
    if not pending:
        return 0
    months: set[date] = set()
    try:
        with org_lease(organization.pk, f"merge-{user.pk}", wait=0) as keeper:
            _merge(organization, user, pending, months, keeper.holder)
    except OrgBusy:
        return 0  # a collection or an import is writing: merged on the next visit
    audit_log(
        actor=user,
        action="report_workspace_merge",
        organization=organization,
        target=organization.login,
        details={"imports": [i.pk for i in pending], "months": [f"{m:%Y-%m}" for m in months]},
    )
    return len(pending)


def _merge(
    organization: Organization,
    user: User,
    pending: list[ReportImport],
    months: set[date],
    holder: str,
) -> None:
    with transaction.atomic():
        for report_import in pending:
            if report_import.first_day is not None:
                for month in report_import.months:
                    start, end = month_bounds(date.fromisoformat(f"{month}-01"))
                    low = max(report_import.first_day, start)
                    high = min(report_import.last_day, date.fromordinal(end.toordinal() - 1))
                    ReportItem.objects.filter(
                        organization=organization,
                        workspace__isnull=True,
                        date__gte=low,
                        date__lte=high,
                    )._raw_delete(using=connection.alias)
                    months.add(start)
            ReportItem.objects.filter(report_import=report_import, workspace=user).update(
                workspace=None
            )
            report_import.workspace = None
            report_import.verified = True
            report_import.merged_at = timezone.now()
            report_import.save(update_fields=["workspace", "verified", "merged_at"])
        for start in sorted(months):
            if month_source(organization, start) == "reports":
                month_rebuild(organization_id=organization.pk, month=start)
        org_data_version_bump(organization=organization)
        lease_confirm(organization_id=organization.pk, holder=holder)
