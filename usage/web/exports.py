"""CSV export of the line items under the dashboard's filters
(``/orgs/<login>/usage.csv?...``), streamed: rows come from a server-side cursor and go
out in chunks, so a million rows never sit in memory. The first export of a data
version and filters is kept as a file that later ones send (`usage.web.export_files`).
Each export is audited."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from accounts.audit import audit_log
from accounts.models import Organization
from accounts.roles.access import get_org_for_billing
from usage.reporting.cache import (
    cache_or_never,
    etag_matches,
    filter_key,
    not_modified,
    revalidate,
    snapshot,
)
from usage.reporting.filters import FilterError, Filters, parse_strict
from usage.reporting.formatting import FORMULA_START, Echo, plain_decimal
from usage.reporting.lineitems import CSV_COLUMNS, export_rows
from usage.web import export_files

CHUNK_ROWS = 2000
_TEXT_INDEXES = tuple(CSV_COLUMNS.index(c) for c in ("product", "sku", "unit_type", "repository"))
_OTHER_INDEXES = tuple(i for i in range(len(CSV_COLUMNS)) if i not in _TEXT_INDEXES)


def _value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _cells(row: tuple[Any, ...]) -> list[Any]:
    """One CSV row: numbers and dates as plain text (PostgreSQL already sends them so),
    text columns defused against spreadsheet formulas (`formatting.csv_text`, inlined:
    this loop runs once per line item)."""
    cells = list(row)
    for i in _TEXT_INDEXES:
        text = cells[i]
        if text and text.startswith(FORMULA_START):
            cells[i] = "'" + text
    for i in _OTHER_INDEXES:
        if type(cells[i]) is not str:
            cells[i] = _value(cells[i])
    return cells


def csv_lines(rows: Iterator[tuple[Any, ...]]) -> Iterator[str]:
    """The header, then the rows, in chunks of `CHUNK_ROWS` lines."""
    writer = csv.writer(Echo(), lineterminator="\r\n")
    yield writer.writerow(CSV_COLUMNS)
    chunk: list[str] = []
    for row in rows:
        chunk.append(writer.writerow(_cells(row)))
        if len(chunk) >= CHUNK_ROWS:
            yield "".join(chunk)
            chunk.clear()
    if chunk:
        yield "".join(chunk)


def stream(organization: Organization, filters: Filters) -> Iterator[str]:
    """The CSV of the filters' line items. Inside a transaction the server-side cursor
    is declared WITHOUT HOLD, so PostgreSQL produces rows as they are fetched (a WITH
    HOLD cursor, what autocommit gets, would materialise the whole result first). A
    client that goes away closes the generator: the read-only transaction rolls back."""
    with transaction.atomic():
        yield from csv_lines(export_rows(organization, filters))


def filename(organization: Organization, filters: Filters) -> str:
    return f"{organization.login}-usage-{filters.start}-{filters.end}.csv"


@cache_or_never
@login_required
@require_GET
def org_usage_csv(request: HttpRequest, login: str) -> HttpResponseBase:
    organization = get_org_for_billing(user=request.user, login=login)
    try:
        filters = parse_strict(request.GET)
    except FilterError as exc:
        return HttpResponse(f"{exc}\n", status=400, content_type="text/plain; charset=utf-8")
    # The same rows at the same data version are the same file: a client that has it
    # gets a 304 (not audited again: nothing is exported).
    key = filter_key(filters, columns=",".join(CSV_COLUMNS), login=organization.login)
    snap = snapshot(organization)
    etag = snap.etag("csv", key)
    if etag_matches(request.headers.get("If-None-Match"), etag):
        return not_modified(etag)
    audit_log(
        actor=request.user,
        action="export_csv",
        organization=organization,
        target=organization.login,
        request=request,
        details={"start": str(filters.start), "end": str(filters.end), **filters.params()},
    )
    # Sent from the file kept for this version (`export_files`), else streamed from the
    # database and kept on the way.
    kept = export_files.open_cached(snap, key)
    content_type = "text/csv; charset=utf-8"
    response: StreamingHttpResponse = (
        FileResponse(kept, content_type=content_type)
        if kept is not None
        else StreamingHttpResponse(
            export_files.tee(snap, key, stream(organization, filters)), content_type=content_type
        )
    )
    response["Content-Disposition"] = f'attachment; filename="{filename(organization, filters)}"'
    return revalidate(response, etag)
