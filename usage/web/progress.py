"""``GET /orgs/<login>/progress.json`` (``org_progress``): the install wizard's poll.

The first collection's progress (`usage.collection.selectors.org_collection_progress`) plus where
the dashboard is, whether data is there, our App's installation in words, and the org's
state (`usage.reporting.status.org_status`, the one every page shows), so the wizard's
script (``static/js/wizard.js``) and the dashboard's can stop polling and say why.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.roles.access import get_org_for_billing, org_access
from usage.reporting.status import org_status


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


@never_cache
@login_required
@require_GET
def org_progress(request: HttpRequest, login: str) -> JsonResponse:
    """``{months_total, months_done, items, errors, last_error, running, finished,
    last_collected_at, has_data, dashboard_url, access, installation: {state, words,
    installation_id, settings_url}, status: {state, badge, tone, sentence, next_step,
    next_url, next_label, detail, retry_at, attempt}}``. ``finished`` is false until a
    backfill started and nothing is queued or running; ``has_data``: a collection
    succeeded; ``status.state`` is one of `usage.reporting.states.OrgState`."""
    organization = get_org_for_billing(user=request.user, login=login)
    membership = getattr(organization, "membership", None)
    status = org_status(organization, role=membership.role if membership else None)
    progress = {key: _jsonable(value) for key, value in status.progress.items()}
    progress.update(
        has_data=progress.get("last_collected_at") is not None,
        dashboard_url=reverse("org_dashboard", args=[organization.login]),
        access=org_access(user=request.user, organization=organization),
        installation=status.installation.as_json(),
        status=status.as_json(),
    )
    return JsonResponse(progress)
