"""The import task: thin, a service call. Idempotent: the service claims the import
once (a redelivered message finds it claimed and does nothing)."""

from __future__ import annotations

from celery import shared_task

from usage.imports import services


@shared_task(name="usage.imports.process_report_import")
def process_report_import(report_import_id: int) -> str:
    report_import = services.report_import_process(report_import_id=report_import_id)
    return report_import.status if report_import is not None else "already claimed"
