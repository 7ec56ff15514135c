"""``GET /orgs/<login>/progress.json`` (``org_progress``): the install wizard's poll.

The first collection's progress (`usage.collection.selectors.org_collection_progress`) plus where
the dashboard is, whether data is there, and our App's installation in words, so the
wizard's script (``static/js/wizard.js``) can stop polling and say why.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.installations.install_status import installation_status
from accounts.roles.access import get_org_for_billing, org_access
from usage.collection.selectors import org_collection_progress


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


@never_cache
@login_required
@require_GET
def org_progress(request: HttpRequest, login: str) -> JsonResponse:
    """``{months_total, months_done, items, errors, last_error, running, finished,
    last_collected_at, has_data, dashboard_url, access, installation: {state, words,
    installation_id, settings_url}}``. ``finished`` is false until a backfill started
    and nothing is queued or running; ``has_data``: a collection succeeded."""
    organization = get_org_for_billing(user=request.user, login=login)
    collected = org_collection_progress(organization=organization)
    progress = {key: _jsonable(value) for key, value in collected.items()}
    status = installation_status(organization=organization)
    progress.update(
        has_data=progress.get("last_collected_at") is not None,
        dashboard_url=reverse("org_dashboard", args=[organization.login]),
        access=org_access(user=request.user, organization=organization),
        installation=status.as_json(),
    )
    return JsonResponse(progress)
