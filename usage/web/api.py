"""The usage JSON API, session-authenticated:

``GET /api/orgs/<login>/usage?start=YYYY-MM-DD&end=YYYY-MM-DD&group_by=...``
(``group_by``: day, week, month, product, sku or repository; optional ``range``,
``product``, ``sku``, ``repository`` filters as on the dashboard; without dates: this
month, the 1st to today). ``week`` groups by ISO week (Monday to Sunday) and ``month``
by calendar month, each group keyed by its first day and saying which days of the range
it covers (``first_day``, ``last_day``, ``partial``). Answers the sums per group and in
total; amounts are decimal strings exactly as summed (10 decimals, never floats). 401
without a session, 404 for anyone who may not see the organization's billing, 400 with a
message for a bad parameter.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from accounts.models import Organization
from usage.reporting.cache import (
    cache_or_never,
    cached,
    etag_matches,
    filter_key,
    not_modified,
    revalidate,
    snapshot,
)
from usage.reporting.dimensions import (
    dimension_groups,
    months_without_detailed_report,
    parse_dimensions,
)
from usage.reporting.filters import FilterError, Filters, parse_strict
from usage.reporting.reports import GROUP_BY, TIME_BUCKETS, api_groups, total_of
from usage.web.json_api import json_error, org_or_error

FIELDS = ("gross_amount", "discount_amount", "net_amount", "quantity")


TEN_PLACES = Decimal("1E-10")
DATED = ("day", *TIME_BUCKETS)


def decimal_string(value: Decimal | None) -> str:
    """A sum as plain text with the columns' 10 decimals (exactly as summed: the
    columns have 10 decimals; no exponent, so ``0E-10`` is ``0.0000000000``)."""
    return format((value or Decimal(0)).quantize(TEN_PLACES), "f")


def _group(key: Any, sums: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {} if key is None else {"key": key}
    if "partial" in sums:  # a week or a month: the days of the range it covers
        out.update(
            first_day=sums["first_day"].isoformat(),
            last_day=sums["last_day"].isoformat(),
            partial=sums["partial"],
        )
    out.update({name: decimal_string(sums[name]) for name in FIELDS})
    out["items"] = int(sums["items"] or 0)
    return out


@cache_or_never
@require_GET
def api_org_usage(request: HttpRequest, login: str) -> HttpResponse:
    organization = org_or_error(request, login)
    if isinstance(organization, JsonResponse):
        return organization
    group_by = request.GET.get("group_by", "day")
    if group_by in DIMENSIONS:
        return _dimension_answer(request, organization, group_by)
    if group_by not in GROUP_BY:
        return json_error(f"group_by must be one of {', '.join((*GROUP_BY, *DIMENSIONS))}")
    try:
        filters = parse_strict(request.GET)
    except FilterError as exc:
        return json_error(str(exc))
    snap = snapshot(organization)  # before the data: see usage.reporting.cache
    key = filter_key(filters, group_by=group_by, login=organization.login)
    etag = snap.etag("api", key)
    if etag_matches(request.headers.get("If-None-Match"), etag):
        return not_modified(etag)
    body = cached(snap, "api", key, lambda: _body(organization, filters, group_by))
    response = HttpResponse(body, content_type="application/json")
    return revalidate(response, etag)


def _body(organization: Organization, filters: Filters, group_by: str) -> bytes:
    """The API's answer as JSON bytes (cached per data version)."""
    groups = api_groups(organization, filters, group_by)
    total = total_of(groups)
    return json.dumps(
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
                _group(g["key"].isoformat() if group_by in DATED else g["key"], g) for g in groups
            ],
            "total": _group(None, total.__dict__),
        },
        cls=DjangoJSONEncoder,
    ).encode()


# group_by=user|workflow (issue 15): from imported detailed reports.
DIMENSIONS = ("user", "workflow")


def _dimension_answer(request: HttpRequest, organization: Any, group_by: str) -> JsonResponse:
    try:
        filters = parse_strict(request.GET)
        dims = parse_dimensions(request.GET)
    except FilterError as exc:
        return json_error(str(exc))
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
