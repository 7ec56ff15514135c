"""Billing endpoints of the enhanced billing platform (organization scope).

The usage report is streamed: `iter_billing_usage` parses ``usageItems`` incrementally
with ijson over the raw HTTP body, so a month of a million items never sits in memory,
and every number stays exact (`int` or `Decimal`).
https://docs.github.com/rest/billing/usage
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import ijson
import requests
import urllib3.exceptions

from . import errors, http
from .types import Budget, UsageItem, UsageSummary

__all__ = [
    "check_billing_access",
    "get_billing_usage_summary",
    "iter_billing_usage",
    "list_billing_budgets",
]

# Keys the usage schema marks as required; an item without them is not a usage line.
_REQUIRED_USAGE_KEYS = frozenset(
    {"date", "product", "sku", "quantity", "unitType", "netAmount", "grossAmount"}
)
# Keep this much of the body's start, to check an empty report's shape.
_HEAD_BYTES = 64 * 1024
_READ_BYTES = 64 * 1024
# Budgets: GitHub's maximum page size, and a stop against a server that never ends.
_BUDGETS_PER_PAGE = 100
_MAX_BUDGET_PAGES = 1000


def _org(org: str) -> str:
    return http.quote_segment(org)


class _Body:
    """A file-like view of the raw (decompressed) body for ijson that remembers the
    first bytes it read."""

    def __init__(self, response: requests.Response) -> None:
        self._raw = response.raw
        self.head = bytearray()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson probes read(0) to learn bytes vs str
            return b""
        # Never "read everything": a negative size reads one chunk.
        chunk = self._raw.read(size if size > 0 else _READ_BYTES, decode_content=True) or b""
        if len(self.head) < _HEAD_BYTES:
            self.head += chunk[: _HEAD_BYTES - len(self.head)]
        self.size += len(chunk)
        return chunk


def _check_empty_report(body: _Body, **where: Any) -> None:
    """No item came out: make sure the body really was ``{"usageItems": []}``."""
    if body.size <= _HEAD_BYTES:
        try:
            data = json.loads(bytes(body.head))
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("usageItems"), list):
            return
    raise errors.MalformedResponse("usage report has no usageItems list", **where)


def _usage_items(response: requests.Response, path: str) -> Iterator[UsageItem]:
    where: dict[str, Any] = {"status": response.status_code, "method": "GET", "path": path}
    body = _Body(response)
    count = 0
    try:
        for item in ijson.items(body, "usageItems.item", use_float=False):
            if not isinstance(item, dict) or not item.keys() >= _REQUIRED_USAGE_KEYS:
                raise errors.MalformedResponse(f"usage item #{count + 1} lacks fields", **where)
            count += 1
            yield item  # type: ignore[misc]
    except ijson.JSONError as exc:
        # Not quoting the parser's message: it may echo body text.
        raise errors.MalformedResponse(
            f"usage report is invalid or truncated JSON after {count} item(s) "
            f"({type(exc).__name__})",
            **where,
        ) from None
    except (urllib3.exceptions.ReadTimeoutError, requests.Timeout) as exc:
        raise errors.NetworkError(
            f"timed out reading the usage report after {count} item(s)", **where
        ) from exc
    except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as exc:
        raise errors.MalformedResponse(
            f"usage report body broke off after {count} item(s) ({type(exc).__name__})",
            **where,
        ) from exc
    if count == 0:
        _check_empty_report(body, **where)


def iter_billing_usage(
    token: str, org: str, *, year: int, month: int, day: int | None = None
) -> Iterator[UsageItem]:
    """Stream the usage report's items for a month (or one day of it).

    A generator: the request is sent on the first ``next()``. Numbers are `int` or
    `Decimal`. Invalid or truncated JSON raises `MalformedResponse`, possibly after
    some items were yielded: treat a failed stream as void (the body cannot be resumed,
    so nothing retries it midway; 5xx before the body starts are retried as usual).
    Needs the org's Administration (read) permission and the enhanced billing platform.
    https://docs.github.com/rest/billing/usage#get-billing-usage-report-for-an-organization
    """
    path = f"/organizations/{_org(org)}/settings/billing/usage"
    params: dict[str, int] = {"year": int(year), "month": int(month)}
    if day is not None:
        params["day"] = int(day)
    response = http.request("GET", path, token=token, params=params, stream=True)
    try:
        yield from _usage_items(response, http.api_path(path))
    finally:
        response.close()


def get_billing_usage_summary(
    token: str,
    org: str,
    *,
    year: int,
    month: int | None = None,
    day: int | None = None,
    repository: str | None = None,
    product: str | None = None,
    sku: str | None = None,
) -> UsageSummary:
    """Usage totals per product/SKU. GitHub defaults `month` to the *current* month
    and serves only the last 24 months. Amounts are `Decimal`.
    https://docs.github.com/rest/billing/usage#get-billing-usage-summary-for-an-organization
    """
    params: dict[str, Any] = {"year": int(year)}
    optional = {"month": month, "day": day, "repository": repository}
    optional.update(product=product, sku=sku)
    params.update({k: v for k, v in optional.items() if v is not None})
    data = http.request_json(
        "GET",
        f"/organizations/{_org(org)}/settings/billing/usage/summary",
        token=token,
        params=params,
    )
    if not isinstance(data, dict) or not isinstance(data.get("usageItems", []), list):
        raise errors.MalformedResponse("usage summary is not an object with usageItems")
    return data  # type: ignore[return-value]


def list_billing_budgets(token: str, org: str) -> list[Budget]:
    """Every budget of the organization (page/per_page pagination: GitHub answers
    ``has_next_page`` instead of a ``Link`` header).
    https://docs.github.com/rest/billing/budgets#get-all-budgets-for-an-organization
    """
    path = f"/organizations/{_org(org)}/settings/billing/budgets"
    budgets: list[Budget] = []
    for page in range(1, _MAX_BUDGET_PAGES + 1):
        data = http.request_json(
            "GET", path, token=token, params={"page": page, "per_page": _BUDGETS_PER_PAGE}
        )
        if not isinstance(data, dict) or not isinstance(data.get("budgets"), list):
            raise errors.MalformedResponse("budgets response has no budgets list")
        budgets.extend(data["budgets"])
        if not data.get("has_next_page") or not data["budgets"]:
            return budgets
    raise errors.MalformedResponse(f"budgets did not end after {_MAX_BUDGET_PAGES} pages")


def check_billing_access(token: str, org: str) -> tuple[bool, str | None]:
    """Can this token read the org's billing usage? A cheap probe of today's report
    (the body is not read).

    Returns ``(True, None)``, or ``(False, permission)`` on 403 where `permission` is
    GitHub's ``x-accepted-github-permissions`` value (e.g.
    ``"organization_administration=read"``; None if GitHub sent none). Rate limits,
    401, 404 and other errors are raised.
    https://docs.github.com/rest/billing/usage#get-billing-usage-report-for-an-organization
    """
    today = datetime.now(UTC).date()
    path = f"/organizations/{_org(org)}/settings/billing/usage"
    params = {"year": today.year, "month": today.month, "day": today.day}
    try:
        response = http.request("GET", path, token=token, params=params, stream=True)
    except errors.Forbidden as exc:
        return False, exc.accepted_permissions_header
    response.close()
    return True, None
