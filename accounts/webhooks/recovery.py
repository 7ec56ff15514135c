"""Recovering webhook deliveries GitHub could not make while billingdash was down.

GitHub does not redeliver a failed delivery by itself. Its delivery log for the App
(``GET /app/hook/deliveries``, newest first, 30 days) lists every attempt: a delivery
(one ``guid``, our ``X-GitHub-Delivery``) that has no attempt with status ``"OK"`` and
that is not stored here was missed. We ask GitHub to send it again
(``POST /app/hook/deliveries/{id}/attempts``); it arrives at the endpoint like any
delivery, and the delivery-id dedupe there makes a second arrival harmless.

Bounded: only attempts within ``WEBHOOK_RECOVERY_WINDOW_SECONDS``, at most
``WEBHOOK_RECOVERY_MAX_PER_RUN`` redeliveries a run, and never for a delivery GitHub has
already attempted ``WEBHOOK_RECOVERY_MAX_ATTEMPTS`` times (one that fails every time,
e.g. refused for its signature or size, is left to an operator). Idempotent: the state
is GitHub's log and our stored deliveries, so a doubled run asks again at most for what
is still missing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import WebhookDelivery
from billingdash import github

log = logging.getLogger(__name__)

# A delivery attempt GitHub logs with any other status failed (GitHub's docs: "The data
# for a failed delivery will have a status value that is not OK").
DELIVERED = "OK"


@dataclass
class Missed:
    """One delivery (guid) as GitHub's log shows it: its attempts, and the newest one."""

    guid: str
    attempts: int = 0
    delivered: bool = False
    newest_id: int = 0


@dataclass
class RecoveryResult:
    scanned: int = 0
    missed: int = 0
    redelivered: list[str] = field(default_factory=list)
    gave_up: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "scanned": self.scanned,
            "missed": self.missed,
            "redelivered": len(self.redelivered),
            "gave_up": len(self.gave_up),
        }


def _by_guid(entries: Iterable[github.HookDelivery], since: datetime) -> dict[str, Missed]:
    found: dict[str, Missed] = {}
    for entry in entries:
        at = github.parse_timestamp(entry.get("delivered_at"))
        if at is None or at < since:
            break  # newest first: everything after this is older
        guid = str(entry.get("guid") or "")
        if not guid:
            continue
        seen = found.setdefault(guid, Missed(guid))
        seen.attempts += 1
        seen.delivered = seen.delivered or entry.get("status") == DELIVERED
        seen.newest_id = max(seen.newest_id, int(entry.get("id") or 0))
    return found


def webhook_deliveries_recover(*, now: datetime | None = None) -> RecoveryResult:
    """Ask GitHub to redeliver what it could not deliver to us within the window."""
    since = (now or timezone.now()) - timedelta(seconds=settings.WEBHOOK_RECOVERY_WINDOW_SECONDS)
    result = RecoveryResult()

    def counted(entries: Iterable[github.HookDelivery]) -> Iterable[github.HookDelivery]:
        for entry in entries:
            result.scanned += 1
            yield entry

    log_entries = _by_guid(counted(github.iter_app_hook_deliveries()), since)
    failed = {guid: m for guid, m in log_entries.items() if not m.delivered and m.newest_id}
    stored = set(
        WebhookDelivery.objects.filter(delivery_id__in=list(failed)).values_list(
            "delivery_id", flat=True
        )
    )
    missed = [m for guid, m in failed.items() if guid not in stored]
    result.missed = len(missed)
    for entry in missed:
        if entry.attempts >= settings.WEBHOOK_RECOVERY_MAX_ATTEMPTS:
            result.gave_up.append(entry.guid)
            continue
        if len(result.redelivered) >= settings.WEBHOOK_RECOVERY_MAX_PER_RUN:
            break  # the next run carries on
        github.redeliver_app_hook_delivery(entry.newest_id)
        result.redelivered.append(entry.guid)
    if result.redelivered or result.gave_up:
        log.info(
            "webhook recovery: %d missed, %d redelivered, %d given up (%d log entries read)",
            result.missed,
            len(result.redelivered),
            len(result.gave_up),
            result.scanned,
        )
    return result
