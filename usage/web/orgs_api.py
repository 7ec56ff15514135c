"""``GET /api/orgs/`` (``api_org_list``): the signed-in user's organizations as JSON, each
with role, access and source and, where the user may see its billing, the org's state as
every page shows it (`usage.reporting.status.org_status`: the `/orgs/` badge)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.roles.access import memberships_refresh_if_stale, user_org_rows
from usage.reporting.status import org_status


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
    answer = []
    for row in user_org_rows(user=request.user):
        entry = row.as_json()
        entry["status"] = (
            org_status(row.organization, role=row.membership.role).as_json()
            if row.billing_verified
            else None
        )
        answer.append(entry)
    return JsonResponse(answer, safe=False)
