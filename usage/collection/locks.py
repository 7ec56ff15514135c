"""The per-organization lease lock: two collections of one org never run at once.

A row per org in `OrgLock` (the database, so it survives worker restarts and is shared
by every process), claimed with a compare-and-swap ``filter(...).update(...)`` that only
matches a free or expired lease. The holder renews it from a heartbeat thread; a worker
that is killed stops renewing and the lease expires after ``COLLECTION_LEASE_SECONDS``.
Before committing a month, the holder fences: `lease_confirm` inside the month's
transaction fails if the lease was lost (the row update also blocks a thief until the
commit, so nobody can take the lease in between).
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import timedelta
from types import TracebackType

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, models
from django.db.models import Q
from django.utils import timezone

from usage.models import OrgLock

#: The lease table: `OrgLock`, or a table with the same fields (an app above usage keeps
#: its own lease per organization with it, so its work never waits for this one's).
LockModel = type[models.Model]

log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """Our lease expired and another worker may have taken the organization."""


def lease_seconds() -> int:
    return max(3, int(settings.COLLECTION_LEASE_SECONDS))


def new_holder(prefix: str = "") -> str:
    """A unique holder name for one execution (task id + random, so two deliveries of
    the same message are two different holders)."""
    return f"{prefix[:60]}:{uuid.uuid4().hex[:16]}" if prefix else uuid.uuid4().hex


def lease_acquire(*, organization_id: int, holder: str, model: LockModel = OrgLock) -> bool:
    """Take the org's lease if it is free or expired. True when we hold it now."""
    now = timezone.now()
    # get_or_create copes with a concurrent creation (savepoint + IntegrityError).
    model.objects.get_or_create(organization_id=organization_id)
    claimed = (
        model.objects.filter(organization_id=organization_id)
        .filter(Q(holder="") | Q(expires_at__lte=now) | Q(holder=holder))
        .update(holder=holder, acquired_at=now, expires_at=now + timedelta(seconds=lease_seconds()))
    )
    return claimed == 1


def lease_renew(*, organization_id: int, holder: str, model: LockModel = OrgLock) -> bool:
    """Extend our lease; False when somebody else holds it now."""
    expires = timezone.now() + timedelta(seconds=lease_seconds())
    return (
        model.objects.filter(organization_id=organization_id, holder=holder).update(
            expires_at=expires
        )
        == 1
    )


def lease_confirm(*, organization_id: int, holder: str, model: LockModel = OrgLock) -> None:
    """Fencing check, called inside the transaction that writes a month: renew the lease
    and raise `LeaseLost` if it is not ours any more."""
    if not lease_renew(organization_id=organization_id, holder=holder, model=model):
        raise LeaseLost(f"the collection lease of organization {organization_id} was lost")


def lease_release(*, organization_id: int, holder: str, model: LockModel = OrgLock) -> None:
    model.objects.filter(organization_id=organization_id, holder=holder).update(
        holder="", expires_at=None
    )


def lease_is_live(*, organization_id: int) -> bool:
    """Someone holds an unexpired lease on the org."""
    return (
        OrgLock.objects.filter(organization_id=organization_id, expires_at__gt=timezone.now())
        .exclude(holder="")
        .exists()
    )


class LeaseKeeper:
    """Context manager: renews the lease every third of its length from a thread (with
    its own database connection) while the block runs. `lost` is set when a renewal
    finds the lease taken; the worker checks it between steps."""

    def __init__(self, *, organization_id: int, holder: str, model: LockModel = OrgLock) -> None:
        self.organization_id = organization_id
        self.holder = holder
        self.model = model
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)

    def check(self) -> None:
        if self.lost.is_set():
            raise LeaseLost(f"the collection lease of organization {self.organization_id} was lost")

    def _run(self) -> None:
        interval = lease_seconds() / 3
        try:
            while not self._stop.wait(interval):
                try:
                    renewed = lease_renew(
                        organization_id=self.organization_id, holder=self.holder, model=self.model
                    )
                    if not renewed:
                        self.lost.set()
                        return
                except DatabaseError as exc:
                    # SQLite: the writer holds the database; the fence decides at commit.
                    log.warning("lease renewal failed (%s); trying again", exc)
                    close_old_connections()
        finally:
            connection.close()

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
