"""Usage written the way collection writes it (`usage.collection.ingest.month_replace`, the
same rows and rollups), from plain (day, product, SKU, repository, net) tuples, for the
rule and digest tests. Dates always come from `usage.periods.today()`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import Organization
from usage import periods
from usage.collection.ingest import month_replace
from usage.models import CollectionRun

Row = tuple[date, str, str, str, Decimal | int | str]

PRODUCT_OF = {"Actions Linux": "actions", "Actions Linux 4-core": "actions", "Copilot": "copilot"}


def item(day: date, product: str, sku: str, repository: str, net: Decimal) -> dict:
    net = Decimal(str(net))
    return {
        "date": day.isoformat(),
        "product": product,
        "sku": sku,
        "unitType": "Minutes",
        "quantity": net * 100,
        "pricePerUnit": Decimal("0.01"),
        "grossAmount": net,
        "discountAmount": Decimal(0),
        "netAmount": net,
        "repositoryName": repository or None,
    }


def put_usage(organization: Organization, rows: Iterable[Row]) -> None:
    """Replace every month the rows touch with exactly these rows, each recorded as a
    successful collection of that month."""
    months: dict[date, list[dict]] = defaultdict(list)
    for day, product, sku, repository, net in rows:
        months[periods.month_start(day)].append(
            item(day, product, sku, repository, Decimal(str(net)))
        )
    for month, items in sorted(months.items()):
        month_replace(organization_id=organization.pk, period=month, items=items)
        CollectionRun.objects.create(
            organization=organization,
            period=month,
            trigger=CollectionRun.Trigger.SCHEDULE,
            state=CollectionRun.State.SUCCEEDED,
            finished_at=timezone.now(),
            items=len(items),
        )


def days_back(count: int, *, end: date | None = None) -> list[date]:
    """The `count` days up to `end` (today), oldest first."""
    end = end or periods.today()
    return [end - timedelta(days=i) for i in range(count - 1, -1, -1)]
