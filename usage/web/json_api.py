"""What every session-authenticated JSON API of the site starts with (the usage, sources,
Copilot and alerts APIs): `org_or_error` (the access helper, answered in JSON: 401
without a session, 404 for anyone who may not see the org's billing), `json_error`, and
`json_body` for writes."""

from __future__ import annotations

import json
from typing import Any

from django.http import Http404, HttpRequest, JsonResponse

from accounts.models import Organization
from accounts.roles.access import get_org_for_billing


def json_error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def org_or_error(request: HttpRequest, login: str) -> Organization | JsonResponse:
    """`get_org_for_billing` for a JSON API: the organization, or the error to answer."""
    if not request.user.is_authenticated:
        return json_error("authentication required", 401)
    try:
        return get_org_for_billing(user=request.user, login=login)
    except Http404:
        return json_error("no such organization", 404)


def json_body(request: HttpRequest) -> dict[str, Any] | JsonResponse:
    """The request's JSON object, or the 400 to answer."""
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return json_error("the body must be JSON")
    if not isinstance(data, dict):
        return json_error("the body must be a JSON object")
    return data
