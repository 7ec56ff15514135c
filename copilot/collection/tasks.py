"""The Copilot collection task (thin: the work is `copilot.collection.collect`)."""

from __future__ import annotations

from celery import shared_task

from copilot.collection.collect import org_copilot_collect
from copilot.collection.services import send_collect
from usage.collection.collect import max_countdown
from usage.collection.locks import lease_seconds, new_holder


@shared_task(name="copilot.tasks.collect_org", bind=True)
def collect_copilot(self, organization_id: int, recheck: bool = False) -> dict:
    """Collect the org's due Copilot months, then per-user figures within the budget;
    re-send itself after a rate limit, a backoff or when its time budget ran out."""
    result = org_copilot_collect(
        organization_id=organization_id, holder=new_holder(self.request.id or "")
    )
    if result.busy and not recheck:
        send_collect(organization_id, countdown=min(max_countdown(), lease_seconds() + 2))
    elif result.retry_in is not None:
        send_collect(organization_id, countdown=min(max_countdown(), max(1.0, result.retry_in)))
    return {"months": result.months, "user_calls": result.user_calls, "busy": result.busy}
