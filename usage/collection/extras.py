"""The usage summary and the budgets: small, optional, read with the current month at
most every ``COLLECTION_EXTRAS_INTERVAL_SECONDS`` (a "refresh now" forces them).

Not every org has them: GitHub answers 404 (or 403/400/422) where budgets or the
summary are not available. That is recorded in `EndpointAvailability` (GitHub's status,
message and, on a 403, the permission it asked for; `usage.collection.availability`) and
the endpoint is asked again only after ``COLLECTION_UNAVAILABLE_RECHECK_SECONDS``, not
every hour. Products, SKUs and units are stored as GitHub's identifiers
(`usage.vocabulary`), as the usage report's are.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from accounts.models import Organization
from billingdash import github
from usage.collection.availability import availability_due, availability_record
from usage.collection.versions import org_data_version_bump
from usage.models import Budget, EndpointAvailability, OrgCollectionState, UsageSummary
from usage.vocabulary import product_id, sku_id, unit_id

log = logging.getLogger(__name__)

# Answers that mean "this org does not have this endpoint", not "try again soon".
UNAVAILABLE_ERRORS = (github.NotFound, github.Forbidden, github.BadRequest, github.Unprocessable)
# Worth another try next time; never marks the endpoint unavailable.
TRANSIENT_ERRORS = (github.ServerError, github.NetworkError, github.MalformedResponse)
_BUDGET_KEYS = frozenset(
    {
        "id",
        "budget_type",
        "budget_scope",
        "budget_entity_name",
        "budget_amount",
        "prevent_further_usage",
        "budget_product_sku",
        "budget_product_skus",
        "budget_alerting",
    }
)


def _exact(value: Any) -> Decimal:
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str):
        return Decimal(value)
    if value is None:
        return Decimal(0)
    raise github.MalformedResponse(f"expected a number, got {type(value).__name__}")


def _plain(data: Any) -> Any:
    """JSON-safe copy (exact decimals as strings)."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _summary_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A summary row with GitHub's identifiers for product, SKU and unit (the dashboard
    matches them against the usage report's, which GitHub spells otherwise)."""
    row = dict(item)
    for key, normalise in (("product", product_id), ("sku", sku_id), ("unitType", unit_id)):
        if isinstance(row.get(key), str):
            row[key] = normalise(row[key])
    return row


def summary_store(*, organization: Organization, period: date, data: Mapping[str, Any]) -> None:
    items = [_summary_item(i) for i in data.get("usageItems") or [] if isinstance(i, dict)]
    with transaction.atomic():
        _summary_update(organization, period, items)
        org_data_version_bump(organization=organization)  # the dashboard's budget lines


def _summary_update(organization: Organization, period: date, items: list[Any]) -> None:
    UsageSummary.objects.update_or_create(
        organization=organization,
        month=period,
        defaults={
            "gross_amount": sum((_exact(i.get("grossAmount")) for i in items), Decimal(0)),
            "discount_amount": sum((_exact(i.get("discountAmount")) for i in items), Decimal(0)),
            "net_amount": sum((_exact(i.get("netAmount")) for i in items), Decimal(0)),
            "items": _plain(items),
            "fetched_at": timezone.now(),
        },
    )


def budgets_store(*, organization: Organization, budgets: list[Mapping[str, Any]]) -> int:
    """Replace the org's budgets with GitHub's list."""
    now = timezone.now()
    rows = []
    for b in budgets:
        skus = b.get("budget_product_skus")
        if not isinstance(skus, list):
            one = b.get("budget_product_sku")
            skus = [one] if one else []
        # A ProductPricing budget names products, a SkuPricing one SKUs: their identifiers.
        normalise = sku_id if b.get("budget_type") == "SkuPricing" else product_id
        extra = {k: v for k, v in b.items() if k not in _BUDGET_KEYS}
        rows.append(
            Budget(
                organization=organization,
                github_id=str(b.get("id") or ""),
                budget_type=str(b.get("budget_type") or ""),
                budget_scope=str(b.get("budget_scope") or ""),
                budget_entity_name=str(b.get("budget_entity_name") or ""),
                budget_amount=_exact(b.get("budget_amount")),
                prevent_further_usage=bool(b.get("prevent_further_usage")),
                product_skus=[normalise(str(s)) for s in skus],
                alerting=_plain(b.get("budget_alerting") or {}),
                extra=_plain(extra) or None,
                fetched_at=now,
            )
        )
    with transaction.atomic():
        Budget.objects.filter(organization=organization).delete()
        Budget.objects.bulk_create(rows)
        org_data_version_bump(organization=organization)  # the dashboard's budget lines
    return len(rows)


def extras_collect(*, organization: Organization, token: str, period: date) -> bool:
    """Read the summary of `period` and the budgets if due. Returns True when something
    was asked. Rate limits propagate (the caller decides); transient errors are logged
    and asked again next time; "not available" is recorded."""
    state, _ = OrgCollectionState.objects.get_or_create(organization=organization)
    interval = timedelta(seconds=settings.COLLECTION_EXTRAS_INTERVAL_SECONDS)
    if state.extras_collected_at and timezone.now() - state.extras_collected_at < interval:
        return False

    def summary() -> None:
        data = github.get_billing_usage_summary(
            token, organization.login, year=period.year, month=period.month
        )
        summary_store(organization=organization, period=period, data=data)

    def budgets() -> None:
        budgets_store(
            organization=organization,
            budgets=github.list_billing_budgets(token, organization.login),
        )

    steps: list[tuple[str, Callable[[], None]]] = [
        (EndpointAvailability.Endpoint.SUMMARY, summary),
        (EndpointAvailability.Endpoint.BUDGETS, budgets),
    ]
    complete = True
    for endpoint, fetch in steps:
        if not availability_due(organization=organization, endpoint=endpoint):
            continue
        try:
            fetch()
        except UNAVAILABLE_ERRORS as exc:
            log.info("%s: %s not available (%s)", organization, endpoint, exc)
            availability_record(organization=organization, endpoint=endpoint, error=exc)
        except TRANSIENT_ERRORS as exc:
            log.warning("%s: reading %s failed, next time again: %s", organization, endpoint, exc)
            complete = False
        else:
            availability_record(organization=organization, endpoint=endpoint)
    if complete:
        OrgCollectionState.objects.filter(organization=organization).update(
            extras_collected_at=timezone.now()
        )
    return True
