"""The org's collection lease, held while an import writes its usage."""

from __future__ import annotations

import time
from contextlib import contextmanager

from usage.collection.locks import LeaseKeeper, lease_acquire, lease_release, new_holder


class OrgBusy(Exception):
    """The organization's lease stayed taken (a long collection or import)."""


LEASE_WAIT_SECONDS = 600


@contextmanager
def org_lease(organization_id: int, prefix: str, wait: float | None = None):
    """Hold the org's collection lease (`usage.collection.locks`) while writing its usage:
    an import never interleaves with a collection or another import of the same org
    (both replace days and months: interleaved, they could double rows). Waits up to
    `wait` seconds for it; yields the `LeaseKeeper` (its `holder` fences the commit)."""
    holder = new_holder(prefix)
    wait = LEASE_WAIT_SECONDS if wait is None else wait
    deadline = time.monotonic() + wait
    while not lease_acquire(organization_id=organization_id, holder=holder):
        if time.monotonic() > deadline:
            raise OrgBusy(f"organization {organization_id} stayed busy for {wait:.0f} s")
        time.sleep(1)
    try:
        with LeaseKeeper(organization_id=organization_id, holder=holder) as keeper:
            yield keeper
    finally:
        lease_release(organization_id=organization_id, holder=holder)
