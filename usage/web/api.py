"""The usage JSON API, session-authenticated:

``GET /api/orgs/<login>/usage?start=YYYY-MM-DD&end=YYYY-MM-DD&group_by=day|product|sku|repository``
(optional ``product``, ``sku``, ``repository`` filters as on the dashboard; without
dates: this month). Answers the sums per group and in total; amounts are decimal
strings exactly as summed (10 decimals, never floats). 401 without a session, 404 for
anyone who may not see the organization's billing, 400 with a message for a bad
parameter.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.roles.access import get_org_for_billing
from usage.reporting.dimensions import (
    dimension_groups,
    months_without_detailed_report,
    parse_dimensions,
)
from usage.reporting.filters import FilterError, parse_strict
from usage.reporting.reports import GROUP_KEYS, api_groups, total_of

FIELDS = ("gross_amount", "discount_amount", "net_amount", "quantity")


TEN_PLACES = Decimal("1E-10")


def decimal_string(value: Decimal | None) -> str:
    """A sum as plain text with the columns' 10 decimals (exactly as summed: the
    columns have 10 decimals; no exponent, so ``0E-10`` is ``0.0000000000``)."""
    return format((value or Decimal(0)).quantize(TEN_PLACES), "f")


def _group(key: Any, sums: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {} if key is None else {"key": key}
    out.update({name: decimal_string(sums[name]) for name in FIELDS})
    out["items"] = int(sums["items"] or 0)
    return out


def _error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@never_cache
@require_GET
def api_org_usage(request: HttpRequest, login: str) -> JsonResponse:
    if not request.user.is_authenticated:
        return _error("authentication required", 401)
    try:
        organization = get_org_for_billing(user=request.user, login=login)
    except Http404:
        return _error("no such organization", 404)
    group_by = request.GET.get("group_by", "day")
    if group_by in DIMENSIONS:
        return _dimension_answer(request, organization, group_by)
    if group_by not in GROUP_KEYS:
        return _error(f"group_by must be one of {', '.join((*GROUP_KEYS, *DIMENSIONS))}")
    try:
        filters = parse_strict(request.GET)
    except FilterError as exc:
        return _error(str(exc))
    groups = api_groups(organization, filters, group_by)
    total = total_of(groups)
    return JsonResponse(
        {
            "organization": organization.login,
            "start": filters.start.isoformat(),
            "end": filters.end.isoformat(),
            "group_by": group_by,
            "filters": {
                "product": filters.product or None,
                "sku": filters.sku or None,
                "repository": filters.repository,
            },
            "currency": "USD",
            "groups": [
                _group(g["key"].isoformat() if group_by == "day" else g["key"], g) for g in groups
            ],
            "total": _group(None, total.__dict__),
        }
    )


# group_by=user|workflow (issue 15): from imported detailed reports.
DIMENSIONS = ("user", "workflow")


def _dimension_answer(request: HttpRequest, organization: Any, group_by: str) -> JsonResponse:
    try:
        filters = parse_strict(request.GET)
    except FilterError as exc:
        return _error(str(exc))
    dims = parse_dimensions(request.GET)
    groups = dimension_groups(organization, filters, dims, group_by)
    out = []
    for g in groups:
        entry = _group(g["key"], g)
        if group_by == "workflow":
            entry.update(repository=g["repository"], workflow=g["workflow"])
        out.append(entry)
    return JsonResponse(
        {
            "organization": organization.login,
            "start": filters.start.isoformat(),
            "end": filters.end.isoformat(),
            "group_by": group_by,
            "filters": {
                "product": filters.product or None,
                "sku": filters.sku or None,
                "repository": filters.repository,
                "user": dims.user,
                "workflow": dims.workflow,
            },
            "currency": "USD",
            "source": "reports",
            "months_without_detailed_report": months_without_detailed_report(organization, filters),
            "groups": out,
            "total": _group(None, total_of(groups).__dict__),
        }
    )
