"""Billing endpoints of the enhanced billing platform (organization scope).

The usage report is streamed: `iter_billing_usage` decodes ``usageItems`` from the raw
HTTP body a megabyte at a time (msgspec, `usage_stream`; ijson for a body of another
shape), so a month of a million items never sits in memory, and every number stays
exact (`int` or `Decimal`).
https://docs.github.com/rest/billing/usage
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import ijson
import requests
import urllib3.exceptions

from billingdash.github import api_urls, errors, http, usage_stream
from billingdash.github.types import Budget, UsageItem, UsageSummary

__all__ = [
    "UsageStream",
    "check_billing_access",
    "get_billing_usage_summary",
    "iter_billing_usage",
    "list_billing_budgets",
]

# Keys the usage schema marks as required; an item without them is not a usage line.
_REQUIRED_USAGE_KEYS = frozenset(
    {"date", "product", "sku", "quantity", "unitType", "netAmount", "grossAmount"}
)
_END = object()
# Budgets: GitHub's maximum page size, and a stop against a server that never ends.
_BUDGETS_PER_PAGE = 100
_MAX_BUDGET_PAGES = 1000


def _org(org: str) -> str:
    return api_urls.quote_segment(org)


def _usage_batches(response: requests.Response, path: str) -> Iterator[list[Any]]:
    """The report's items in lists, as decoded (not validated), mapping every failure
    of the body to `MalformedResponse` or `NetworkError`."""
    where: dict[str, Any] = {"status": response.status_code, "method": "GET", "path": path}
    raw = response.raw
    count = 0

    def read(size: int) -> bytes:
        return raw.read(size, decode_content=True) or b""

    try:
        for batch in usage_stream.decode_batches(read):
            count += len(batch)
            yield batch
    except usage_stream.InvalidJSON as exc:
        raise errors.MalformedResponse(
            f"usage report is invalid or truncated JSON after {count} item(s): {exc}",
            **where,
        ) from None
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


class UsageStream:
    """The usage report's items, one by one (an iterator), or in lists (`batches`).

    Nothing is sent before the first item or batch is asked for. Iterating checks each
    item is an object with the fields GitHub marks as required; `batches` hands the
    decoded items over as they are (for a bulk loader that validates them itself).
    `close()` (or exhausting it) releases the connection.
    """

    def __init__(self, send: Callable[[], requests.Response], path: str) -> None:
        self._send = send
        self._path = path
        self._batches: Iterator[list[Any]] = self._run()
        self._items: Iterator[Any] = iter(())
        self._count = 0
        self._where: dict[str, Any] = {"method": "GET", "path": path}

    def _run(self) -> Iterator[list[Any]]:
        response = self._send()
        self._where["status"] = response.status_code
        try:
            yield from _usage_batches(response, self._path)
        finally:
            response.close()

    def __iter__(self) -> UsageStream:
        return self

    def __next__(self) -> UsageItem:
        item = next(self._items, _END)
        while item is _END:
            self._items = iter(next(self._batches))  # StopIteration ends the stream
            item = next(self._items, _END)
        self._count += 1
        if not isinstance(item, dict) or not item.keys() >= _REQUIRED_USAGE_KEYS:
            raise errors.MalformedResponse(f"usage item #{self._count} lacks fields", **self._where)
        return item  # type: ignore[return-value]

    def batches(self) -> Iterator[list[Any]]:
        """The remaining items, in lists of a few thousand, unvalidated."""
        rest = list(self._items)
        self._items = iter(())
        if rest:
            yield rest
        yield from self._batches

    def close(self) -> None:
        self._batches.close()


def iter_billing_usage(
    token: str, org: str, *, year: int, month: int, day: int | None = None
) -> UsageStream:
    """Stream the usage report's items for a month (or one day of it).

    Lazy: the request is sent on the first ``next()`` (or batch). Numbers are `int` or
    `Decimal`; keys GitHub adds are kept. Invalid or truncated JSON raises
    `MalformedResponse`, possibly after some items were yielded: treat a failed stream
    as void (the body cannot be resumed, so nothing retries it midway; 5xx before the
    body starts are retried as usual).
    Needs the org's Administration (read) permission and the enhanced billing platform.
    https://docs.github.com/rest/billing/usage#get-billing-usage-report-for-an-organization
    """
    path = f"/organizations/{_org(org)}/settings/billing/usage"
    params: dict[str, int] = {"year": int(year), "month": int(month)}
    if day is not None:
        params["day"] = int(day)

    def send() -> requests.Response:
        return http.request("GET", path, token=token, params=params, stream=True)

    return UsageStream(send, api_urls.api_path(path))


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
