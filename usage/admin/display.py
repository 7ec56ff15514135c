"""Columns of the usage admin lists in the site's formats (`usage.reporting.formatting`
and `usage.vocabulary`): "Actions Linux", "6,000 minutes", "$0.008", "$19.00", not the
stored ``actions_linux`` and ``Decimal('19.0000000000')``."""

from __future__ import annotations

from django.contrib import admin

from usage import vocabulary
from usage.reporting import formatting


class UsageColumns:
    @admin.display(description="Product", ordering="product")
    def product_name(self, obj) -> str:
        return vocabulary.product_label(obj.product)

    @admin.display(description="SKU", ordering="sku")
    def sku_name(self, obj) -> str:
        return vocabulary.sku_label(obj.sku)

    @admin.display(description="Quantity", ordering="quantity")
    def quantity_shown(self, obj) -> str:
        return formatting.quantity(obj.quantity, getattr(obj, "unit_type", ""))

    @admin.display(description="Price per unit")
    def unit_price_shown(self, obj) -> str:
        return formatting.unit_price(obj.price_per_unit)

    @admin.display(description="Net", ordering="net_amount")
    def net(self, obj) -> str:
        return formatting.money(obj.net_amount)

    @admin.display(description="Gross", ordering="gross_amount")
    def gross(self, obj) -> str:
        return formatting.money(obj.gross_amount)

    @admin.display(description="Items", ordering="items")
    def item_count(self, obj) -> str:
        return formatting.number(obj.items)
