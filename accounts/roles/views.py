"""The signed-in user's organizations as JSON (`GET /api/orgs/`): role, access and
freshness per org."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.roles.access import memberships_refresh_if_stale, user_org_rows


@never_cache
@require_GET
def api_org_list(request: HttpRequest) -> JsonResponse:
    """``[{"login", "name", "role", "access", "installed", "last_collected_at", "source",
    "source_detail"}]`` (source: ``app``, ``user_token``, ``owner_token``, ``reports`` or
    null; see `usage.collection.sources`)."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "authentication required"}, status=401)
    memberships_refresh_if_stale(user=request.user)
    rows = user_org_rows(user=request.user)
    return JsonResponse([row.as_json() for row in rows], safe=False)
