"""``GET /api/orgs/`` (``api_org_list``): the signed-in user's organizations as JSON, each
with role, access and source and, where the user may see its billing, the org's state as
every page shows it (`usage.reporting.status.org_statuses`: the `/orgs/` badge)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.roles.access import memberships_refresh_if_stale, user_org_rows
from usage.reporting.status import org_statuses


@never_cache
@require_GET
def api_org_list(request: HttpRequest) -> JsonResponse:
    """``[{"login", "name", "role", "access", "installed", "last_collected_at", "source",
    "source_detail", "status"}]`` (source: ``app``, ``user_token``, ``owner_token``,
    ``reports`` or null; see `usage.collection.sources`). ``status`` is
    ``{state, badge, tone, sentence, next_step, next_url, next_label, detail, retry_at,
    attempt}`` (as in ``progress.json``) for an owner or billing manager whose role is
    verified, and null for anyone else: a member sees no billing state."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "authentication required"}, status=401)
    memberships_refresh_if_stale(user=request.user)
    rows = user_org_rows(user=request.user)
    statuses = org_statuses(
        (row.organization, row.membership.role) for row in rows if row.billing_verified
    )
    answer = []
    for row in rows:
        status = statuses.get(row.organization.pk)
        answer.append({**row.as_json(), "status": status.as_json() if status else None})
    return JsonResponse(answer, safe=False)
