"""The App's webhook delivery log (App JWT): what GitHub sent us, and a redelivery.

GitHub does not redeliver a failed delivery by itself; the log keeps the past 30 days.
Every attempt is an entry with its own ``id``; a redelivery keeps the original ``guid``
(our ``X-GitHub-Delivery``) with ``redelivery: true``. A failed delivery has a
``status`` other than ``"OK"`` (``status_code`` is the receiver's answer, 0 when it
could not be reached). Pages use a cursor (``Link: rel="next"``), newest first.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypedDict

from billingdash.github import errors, http
from billingdash.github.apps import as_app

__all__ = ["HookDelivery", "iter_app_hook_deliveries", "redeliver_app_hook_delivery"]


class HookDelivery(TypedDict, total=False):
    """One attempt of a webhook delivery (GitHub's ``hook-delivery-item``)."""

    id: int
    guid: str
    delivered_at: str
    redelivery: bool
    duration: float
    status: str
    status_code: int
    event: str
    action: str | None
    installation_id: int | None
    repository_id: int | None
    throttled_at: str | None


def _page(url: str, params: dict[str, Any] | None) -> tuple[list[HookDelivery], str | None]:
    response = as_app(lambda jwt: http.send("GET", url, token=jwt, params=params))
    items = http.parse_json(response)
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise errors.MalformedResponse("webhook deliveries: expected a list of objects")
    next_url = response.links.get("next", {}).get("url")
    if next_url and not http.is_api_url(next_url):
        raise errors.MalformedResponse("refusing a pagination link outside GITHUB_API_URL")
    return items, next_url


def iter_app_hook_deliveries(*, per_page: int = 100) -> Iterator[HookDelivery]:
    """Every attempt in the App's delivery log, newest first, page by page (the caller
    stops when it has seen enough: the log holds 30 days).
    https://docs.github.com/rest/apps/webhooks#list-deliveries-for-an-app-webhook
    """
    url: str | None = http.api_url("/app/hook/deliveries")
    params: dict[str, Any] | None = {"per_page": max(1, min(100, per_page))}
    seen: set[str] = set()
    while url:
        items, next_url = _page(url, params)
        yield from items
        if next_url in seen:
            raise errors.MalformedResponse("the delivery log's next page was seen before")
        if next_url:
            seen.add(next_url)
        # The next link carries the cursor and every other parameter.
        url, params = next_url, None


def redeliver_app_hook_delivery(delivery_id: int) -> None:
    """Ask GitHub to send one delivery again (202; asynchronously, as a new attempt with
    the same guid).
    https://docs.github.com/rest/apps/webhooks#redeliver-a-delivery-for-an-app-webhook
    """
    path = f"/app/hook/deliveries/{int(delivery_id)}/attempts"
    as_app(lambda jwt: http.request("POST", path, token=jwt, idempotent=False).close())
