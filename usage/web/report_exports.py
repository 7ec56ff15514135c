"""CSV of the org's imported report rows, with the columns only detailed reports have
(user, workflow), under the dashboard's filters plus ``user`` and ``workflow``
(``/orgs/<login>/report-items.csv``). Streamed in chunks; audited; text cells that a
spreadsheet would run as a formula get a leading apostrophe."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.audit import audit_log
from accounts.roles.access import get_org_for_billing
from usage.reporting.dimensions import parse_dimensions, report_rows
from usage.reporting.filters import FilterError, parse_strict
from usage.reporting.formatting import Echo, csv_text, plain_decimal
from usage.web.exports import CHUNK_ROWS

COLUMNS = (
    "date",
    "product",
    "sku",
    "unit_type",
    "quantity",
    "price_per_unit",
    "gross_amount",
    "discount_amount",
    "net_amount",
    "repository",
    "user",
    "workflow",
    "cost_center",
)
_FIELDS = (*COLUMNS[:10], "user_login", "workflow", "cost_center")


def _cell(value) -> str:
    if hasattr(value, "as_tuple"):
        return plain_decimal(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return csv_text(str(value))


@never_cache
@login_required
@require_GET
def org_report_items_csv(request: HttpRequest, login: str) -> HttpResponse:
    organization = get_org_for_billing(user=request.user, login=login)
    try:
        filters = parse_strict(request.GET)
        dims = parse_dimensions(request.GET)
    except FilterError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    rows = report_rows(organization, filters, dims).order_by("date", "id").values_list(*_FIELDS)
    audit_log(
        actor=request.user,
        action="export_report_items",
        organization=organization,
        target=organization.login,
        request=request,
        details={"start": filters.start.isoformat(), "end": filters.end.isoformat()},
    )
    writer = csv.writer(Echo())

    def stream() -> Iterator[str]:
        # In a transaction, as `usage.web.exports.stream`: the server-side cursor is then
        # declared WITHOUT HOLD and PostgreSQL produces rows as they are fetched (a WITH
        # HOLD cursor, what autocommit gets, materialises the whole result first). Lines
        # go out in chunks, not one write per row.
        with transaction.atomic():
            yield writer.writerow(COLUMNS)
            chunk: list[str] = []
            for row in rows.iterator(chunk_size=CHUNK_ROWS):
                chunk.append(writer.writerow([_cell(v) for v in row]))
                if len(chunk) >= CHUNK_ROWS:
                    yield "".join(chunk)
                    chunk.clear()
            yield "".join(chunk)

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    name = f"{organization.login}-usage-by-user-{filters.start}-{filters.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
