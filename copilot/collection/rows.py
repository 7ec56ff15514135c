"""GitHub's Copilot usage items as rows of our tables (identifiers from usage.vocabulary)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from usage.vocabulary import sku_id, unit_id


def _dec(value: Any) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def usage_fields(item: dict[str, Any]) -> dict[str, Any]:
    """One usage item (premium_request or ai_credit endpoint) as model fields."""
    gross_q = item.get("grossQuantity", item.get("quantity"))
    return {
        "sku": sku_id(str(item.get("sku") or "")),
        "unit_type": unit_id(str(item.get("unitType") or "")),
        "model": str(item.get("model") or "")[:200],
        "quantity": _dec(gross_q),
        "gross_amount": _dec(item.get("grossAmount")),
        "discount_amount": _dec(item.get("discountAmount")),
        "net_amount": _dec(item.get("netAmount")),
    }
