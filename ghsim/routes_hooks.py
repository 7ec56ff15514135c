"""The App's webhook delivery log, as GitHub documents it (REST "GitHub App webhooks",
operations apps/list-webhook-deliveries, apps/get-webhook-delivery,
apps/redeliver-webhook-delivery; links in README.md):

- `GET /app/hook/deliveries?per_page=&cursor=&redelivery=`: JWT only; an array of
  `hook-delivery-item` (id, guid, delivered_at, redelivery, duration, status,
  status_code, event, action, installation_id, repository_id, throttled_at), newest
  first; `per_page` (default 30, max 100) and cursor pagination: `cursor` is "the
  starting delivery from which the page of deliveries is fetched", and the `Link`
  header carries the next and previous pages' cursors (`rel="next"`, `rel="prev"`).
- `GET /app/hook/deliveries/{delivery_id}`: a `hook-delivery` (the item plus `url`,
  `request` {headers, payload}, `response` {headers, payload}).
- `POST /app/hook/deliveries/{delivery_id}/attempts`: 202 `{}`; the delivery is sent
  again (asynchronously) to the App's webhook URL: a new entry with a new id, the same
  guid (`X-GitHub-Delivery`), `redelivery: true`.

Every attempt the dispatcher made is an entry (webhooks.py); one made while the App had no
webhook URL is not (GitHub makes none). A failed delivery has a `status` other than
"OK" (GitHub's docs: "The data for a failed delivery will have a status value that is
not OK"), and its `status_code`: the receiver's 4xx/5xx, or 0 when it could not be
reached. The log covers the past 30 days ("You can view details about webhook deliveries
that occurred in the past 30 days"); older ids answer 404, as unknown ones do.
`throttled_at` is always null (the simulator never throttles).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from ghsim.apiutil import ApiError, json_response, state
from ghsim.clock import parse_iso
from ghsim.routes_app import require_jwt
from ghsim.webhooks import Delivery

bp = Blueprint("hook_deliveries_api", __name__, url_prefix="/api/v3")

D_LIST = "https://docs.github.com/rest/apps/webhooks#list-deliveries-for-an-app-webhook"
D_GET = "https://docs.github.com/rest/apps/webhooks#get-a-delivery-for-an-app-webhook"
D_REDELIVER = "https://docs.github.com/rest/apps/webhooks#redeliver-a-delivery-for-an-app-webhook"
KEEP_SECONDS = 30 * 86400
_CURSOR = re.compile(r"^v1_(\d+)$")


def _entries() -> list[tuple[Delivery, dict[str, Any]]]:
    """(delivery, attempt) of the past 30 days, newest first."""
    st = state()
    oldest = st.clock.now() - KEEP_SECONDS
    pairs = [
        (d, a)
        for d, a in st.webhooks.attempts()
        # An attempt without a status had no webhook URL: GitHub would have made none.
        if a.get("status") is not None and parse_iso(a["at"]).timestamp() >= oldest
    ]
    return sorted(pairs, key=lambda pair: pair[1]["id"], reverse=True)


def item(delivery: Delivery, attempt: dict[str, Any]) -> dict[str, Any]:
    """A `hook-delivery-item`."""
    return {
        "id": attempt["id"],
        "guid": delivery.guid,
        "delivered_at": attempt["at"],
        "redelivery": bool(attempt["redelivery"]),
        "duration": round(attempt.get("duration_ms", 0) / 1000, 3),
        "status": attempt["status"],
        "status_code": attempt["status_code"],
        "event": delivery.event,
        "action": delivery.action,
        "installation_id": delivery.installation_id,
        "repository_id": None,
        "throttled_at": None,
    }


def _find(delivery_id: int, doc: str) -> tuple[Delivery, dict[str, Any]]:
    for delivery, attempt in _entries():
        if attempt["id"] == delivery_id:
            return delivery, attempt
    raise ApiError(404, "Not Found", doc)


@bp.get("/app/hook/deliveries")
def list_deliveries() -> ResponseReturnValue:
    require_jwt(D_LIST)
    try:
        per_page = min(100, max(1, int(request.args.get("per_page") or 30)))
    except ValueError:
        raise ApiError(400, "Invalid value for parameter 'per_page'", D_LIST) from None
    wanted = request.args.get("redelivery")
    if wanted not in (None, "true", "false"):
        raise ApiError(400, "Invalid value for parameter 'redelivery'", D_LIST)
    cursor = request.args.get("cursor")
    start_id = None
    if cursor:
        match = _CURSOR.match(cursor)
        if match is None:
            raise ApiError(400, "Invalid cursor", D_LIST)
        start_id = int(match.group(1))
    entries = [
        pair for pair in _entries() if wanted is None or pair[1]["redelivery"] == (wanted == "true")
    ]
    start = 0
    if start_id is not None:
        start = next((i for i, (_, a) in enumerate(entries) if a["id"] <= start_id), len(entries))
    page = entries[start : start + per_page]

    def link(index: int, rel: str) -> str:
        args = {k: v for k, v in request.args.items() if k not in ("cursor", "per_page")}
        args.update(per_page=str(per_page), cursor=f"v1_{entries[index][1]['id']}")
        return f'<{request.base_url}?{urlencode(args)}>; rel="{rel}"'

    links = []
    if start + per_page < len(entries):
        links.append(link(start + per_page, "next"))
    if start > 0:
        links.append(link(max(0, start - per_page), "prev"))
    headers = {"Link": ", ".join(links)} if links else {}
    return json_response([item(d, a) for d, a in page], headers=headers)


@bp.get("/app/hook/deliveries/<int:delivery_id>")
def get_delivery(delivery_id: int) -> ResponseReturnValue:
    require_jwt(D_GET)
    delivery, attempt = _find(delivery_id, D_GET)
    body = item(delivery, attempt)
    body["url"] = attempt.get("url") or ""
    body["request"] = {
        "headers": attempt.get("request_headers"),
        "payload": json.loads(delivery.body),
    }
    body["response"] = {
        "headers": attempt.get("response_headers"),
        "payload": attempt.get("response_body"),
    }
    return json_response(body)


@bp.post("/app/hook/deliveries/<int:delivery_id>/attempts")
def redeliver(delivery_id: int) -> ResponseReturnValue:
    require_jwt(D_REDELIVER)
    delivery, _ = _find(delivery_id, D_REDELIVER)
    state().webhooks.redeliver(delivery.guid)
    return json_response({}, 202)
