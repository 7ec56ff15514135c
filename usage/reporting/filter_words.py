"""The dashboard's product/SKU/repository filters in words, for empty states and notes
("product Copilot, repository acme/web"), and the query that clears them."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

from usage import vocabulary
from usage.reporting.filters import Filters


def filter_words(filters: Filters) -> str:
    """What the product/SKU/repository filters keep, in words, or ""."""
    parts = []
    if filters.product:
        parts.append(f"product {vocabulary.product_label(filters.product)}")
    if filters.sku:
        parts.append(f"SKU {vocabulary.sku_label(filters.sku)}")
    if filters.repository is not None:
        repo = filters.repository
        parts.append(f"repository {repo}" if repo else "usage without a repository")
    return ", ".join(parts)


def clear_filters_query(filters: Filters) -> str:
    """The query string of the same dates without the product/SKU/repository filters."""
    params = replace(filters, product="", sku="", repository=None).params()
    return f"?{urlencode(params)}" if params else "?"
