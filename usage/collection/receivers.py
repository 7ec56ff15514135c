"""Signal receivers of the usage app (connected in `UsageConfig.ready`)."""

from __future__ import annotations

import logging
from typing import Any

from accounts.models import Installation
from usage.collection.services import org_backfill_start

log = logging.getLogger(__name__)


def start_backfill(sender: Any, *, installation: Installation, reason: str = "", **_: Any) -> None:
    """``accounts.signals.installation_ready`` (sent after commit): backfill the org's
    last months. Months already final are skipped, so a repeated signal is cheap."""
    organization = installation.organization
    if organization is None or not installation.can_read_billing:
        return
    runs = org_backfill_start(organization=organization)
    log.info(
        "installation %s ready (%s): %d month(s) queued for %s",
        installation.installation_id,
        reason,
        len(runs),
        organization,
    )
