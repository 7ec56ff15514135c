"""``GET /api/orgs/<login>/copilot?start=&end=&group_by=day|model|user`` (session auth,
the usage API's conventions): the Copilot sums per group and in total, amounts as
decimal strings with 10 places. Model and user figures are monthly, so for them
``start``/``end`` are widened to whole months and the answer says which. 401 without a
session, 404 for anyone who may not see the org's billing, 400 with a message for a bad
parameter. The CSV (`csv_export`) has the same groups."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.audit import audit_log
from accounts.roles.access import get_org_for_billing
from copilot.reporting.selectors import Group, groups_for, month_span, total_of
from usage.reporting.filters import FilterError, parse_strict
from usage.reporting.formatting import csv_text
from usage.web.json_api import json_error, org_or_error

GROUP_BY = ("day", "model", "user")
TEN = Decimal("1E-10")


def dec(value: Decimal | None) -> str | None:
    return None if value is None else format(value.quantize(TEN), "f")


def _group(g: Group) -> dict[str, Any]:
    return {
        "key": g.key,
        "quantity": dec(g.quantity),
        "unit_type": g.unit_type,
        "gross_amount": dec(g.gross_amount),
        "discount_amount": dec(g.discount_amount),
        "net_amount": dec(g.net_amount),
    }


class ParamError(ValueError):
    pass


def read_params(params) -> tuple[date, date, str]:
    group_by = params.get("group_by", "day")
    if group_by not in GROUP_BY:
        raise ParamError(f"group_by must be one of {', '.join(GROUP_BY)}")
    try:
        filters = parse_strict(params)
    except FilterError as exc:
        raise ParamError(str(exc)) from None
    start, end = filters.start, filters.end
    if group_by != "day":
        start, end = month_span(start, end)
    return start, end, group_by


@never_cache
@require_GET
def api_org_copilot(request: HttpRequest, login: str) -> JsonResponse:
    organization = org_or_error(request, login)
    if isinstance(organization, JsonResponse):
        return organization
    try:
        start, end, group_by = read_params(request.GET)
    except ParamError as exc:
        return json_error(str(exc))
    groups = groups_for(organization, start, end, group_by)
    total = total_of(groups)
    return JsonResponse(
        {
            "organization": organization.login,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "group_by": group_by,
            "currency": "USD",
            "groups": [_group(g) for g in groups],
            "total": {
                "quantity": dec(total["quantity"]),
                "unit_type": total["unit_type"],
                "quantities": {u: dec(q) for u, q in total["quantities"].items()},
                "gross_amount": dec(total["gross_amount"]),
                "discount_amount": dec(total["discount_amount"]),
                "net_amount": dec(total["net_amount"]),
            },
        }
    )


@never_cache
@login_required
@require_GET
def csv_export(request: HttpRequest, login: str) -> HttpResponse:
    organization = get_org_for_billing(user=request.user, login=login)
    try:
        start, end, group_by = read_params(request.GET)
    except ParamError as exc:
        return HttpResponse(f"{exc}\n", status=400, content_type="text/plain; charset=utf-8")
    # Every export is audited, as the usage CSVs are: this one names Copilot users.
    audit_log(
        actor=request.user,
        action="export_copilot_csv",
        organization=organization,
        target=organization.login,
        request=request,
        details={"start": start.isoformat(), "end": end.isoformat(), "group_by": group_by},
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"{organization.login}-copilot-{group_by}-{start}-{end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(
        [group_by, "quantity", "unit_type", "gross_amount", "discount_amount", "net_amount"]
    )
    for g in groups_for(organization, start, end, group_by):
        row = _group(g)
        writer.writerow(
            [
                csv_text(row["key"]),
                row["quantity"],
                csv_text(row["unit_type"]),
                row["gross_amount"],
                row["discount_amount"],
                row["net_amount"],
            ]
        )
    return response
