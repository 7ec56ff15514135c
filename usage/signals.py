"""Signals of the usage app, for the apps above it (usage never imports them).

`month_collected`: a month of an organization's usage was replaced and committed (a
successful collection). `usage.collection.collect` calls `month_collected_on_commit`
inside the transaction that replaces the month; the signal is sent after the commit,
with ``send_robust`` (a failing receiver is logged, never fails the collection), and not
at all when the transaction rolls back. Keyword arguments: ``organization_id`` (int),
``period`` (the month's first day, a `date`) and ``run_id`` (the `CollectionRun`'s id).
The alerts app connects its rule evaluation to it.

`data_changed`: an organization's data version was bumped and committed (any writer:
a month replace, an import, a purge, budgets). Keyword argument: ``organization_id``.
The CSV exports kept as files (`usage.web.export_files`) drop the older versions' files.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.dispatch import Signal

month_collected = Signal()
data_changed = Signal()


def month_collected_on_commit(*, organization_id: int, period: date, run_id: int) -> None:
    """Send `month_collected` once the current transaction commits (Django logs a
    receiver's exception: ``send_robust``)."""
    transaction.on_commit(
        lambda: month_collected.send_robust(
            sender=None, organization_id=organization_id, period=period, run_id=run_id
        )
    )


def data_changed_on_commit(*, organization_id: int) -> None:
    """Send `data_changed` once the current transaction commits (``send_robust``)."""
    transaction.on_commit(
        lambda: data_changed.send_robust(sender=None, organization_id=organization_id)
    )
