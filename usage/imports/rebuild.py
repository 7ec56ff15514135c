"""An org's `UsageItem` rows and rollups of one month rebuilt from its imported report
rows, through the collection's fast path (`month_replace`)."""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from datetime import date
from typing import IO, Any

from django.db import connection
from django.db.models import Sum

from usage.collection.ingest import month_bounds, month_replace
from usage.models import ReportItem


def month_rebuild(*, organization_id: int, month: date) -> int:
    """The org's `UsageItem` rows and rollups of `month` from its imported report rows
    (summed by day, SKU, unit, price and repository: the user and workflow stay in
    `ReportItem`), through `month_replace`. Returns the items written."""
    start, end = month_bounds(month)
    sums = (
        ReportItem.objects.filter(
            organization_id=organization_id,
            workspace__isnull=True,
            date__gte=start,
            date__lt=end,
        )
        .values("date", "product", "sku", "unit_type", "price_per_unit", "repository")
        .annotate(
            q=Sum("quantity"), g=Sum("gross_amount"), d=Sum("discount_amount"), n=Sum("net_amount")
        )
        .order_by()
    )
    with tempfile.TemporaryFile() as spool:
        _spool_sums(sums, spool)  # read in full first: the COPY will hold the connection
        return month_replace(
            organization_id=organization_id, period=start, items=_spooled_items(spool)
        ).items


def _spool_sums(sums: Any, spool: IO[bytes]) -> None:
    """The month's sums into a temporary file, in batches from a server-side cursor.
    The planner's statistics predate the rows just copied (it expects a handful and
    would sort them on disk): hash them, as `usage.collection.ingest` does."""
    postgres = connection.vendor == "postgresql"
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("SET LOCAL work_mem = '64MB'")
    try:
        _spool_rows(sums, spool)
    finally:
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_sort TO DEFAULT")
                cursor.execute("SET LOCAL work_mem TO DEFAULT")


def _spool_rows(sums: Any, spool: IO[bytes]) -> None:
    batch: list[tuple[Any, ...]] = []
    fields = ("date", "product", "sku", "unit_type", "price_per_unit", "repository")
    for row in sums.values_list(*fields, "q", "g", "d", "n").iterator(chunk_size=5000):
        batch.append(row)
        if len(batch) >= 5000:
            pickle.dump(batch, spool, protocol=pickle.HIGHEST_PROTOCOL)
            batch = []
    if batch:
        pickle.dump(batch, spool, protocol=pickle.HIGHEST_PROTOCOL)
    spool.seek(0)


def _spooled_items(spool: IO[bytes]) -> Iterator[dict[str, Any]]:
    """The spooled sums back as API-shaped items, in constant memory."""
    while True:
        try:
            rows = pickle.load(spool)  # noqa: S301 (our own file, just written)
        except EOFError:
            return
        for day, product, sku, unit, price, repo, q, g, d, n in rows:
            yield {
                "date": day.isoformat(),
                "product": product,
                "sku": sku,
                "unitType": unit,
                "quantity": q,
                "pricePerUnit": price,
                "grossAmount": g,
                "discountAmount": d,
                "netAmount": n,
                "repositoryName": repo,
            }
