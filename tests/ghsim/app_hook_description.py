"""GitHub's description of the App webhook delivery log, for validating the simulator.

These three operations are not in `ghsim/spec/openapi-subset.json` (a verbatim copy that
is not edited). Transcribed from GitHub's REST description (`github/rest-api-description`,
api.github.com, operations `apps/list-webhook-deliveries`, `apps/get-webhook-delivery`,
`apps/redeliver-webhook-delivery`; components `hook-delivery-item`, `hook-delivery`,
`accepted`, `bad_request`, `validation_failed`), read with the search tool on 2026-12-06;
docs: https://docs.github.com/rest/apps/webhooks. Descriptions and examples are left out;
types, formats, nullability and `required` are as published.
"""

from __future__ import annotations

from typing import Any

_INT = {"type": "integer"}
_STR = {"type": "string"}
_TIME = {"type": "string", "format": "date-time"}

HOOK_DELIVERY_ITEM: dict[str, Any] = {
    "title": "Simple webhook delivery",
    "type": "object",
    "properties": {
        "id": _INT,
        "guid": _STR,
        "delivered_at": _TIME,
        "redelivery": {"type": "boolean"},
        "duration": {"type": "number"},
        "status": _STR,
        "status_code": _INT,
        "event": _STR,
        "action": {"type": "string", "nullable": True},
        "installation_id": {"type": "integer", "nullable": True},
        "repository_id": {"type": "integer", "nullable": True},
        "throttled_at": {"type": "string", "format": "date-time", "nullable": True},
    },
    "required": [
        "id",
        "guid",
        "delivered_at",
        "redelivery",
        "duration",
        "status",
        "status_code",
        "event",
        "action",
        "installation_id",
        "repository_id",
    ],
}

_HEADERS_PAYLOAD = {
    "type": "object",
    "properties": {
        "headers": {"type": "object", "nullable": True, "additionalProperties": True},
        "payload": {"type": "object", "nullable": True, "additionalProperties": True},
    },
    "required": ["headers", "payload"],
}

HOOK_DELIVERY: dict[str, Any] = {
    "title": "Webhook delivery",
    "type": "object",
    "properties": {
        **HOOK_DELIVERY_ITEM["properties"],
        "url": _STR,
        "request": _HEADERS_PAYLOAD,
        "response": {
            "type": "object",
            "properties": {
                "headers": {"type": "object", "nullable": True, "additionalProperties": True},
                "payload": {"type": "string", "nullable": True},
            },
            "required": ["headers", "payload"],
        },
    },
    "required": [*HOOK_DELIVERY_ITEM["required"], "request", "response"],
}

BASIC_ERROR: dict[str, Any] = {
    "type": "object",
    "properties": {
        "message": _STR,
        "documentation_url": _STR,
        "url": _STR,
        "status": _STR,
    },
}

#: (method, path template) -> {status: schema}. GitHub lists 400 (`bad_request`, a
#: basic-error) and 422 (`validation-error`, which the simulator never sends); 401 and 404
#: are not listed but are what a bad JWT and an unknown delivery get (basic-error, like
#: every GitHub error).
OPERATIONS: dict[tuple[str, str], dict[int, dict[str, Any]]] = {
    ("GET", "/app/hook/deliveries"): {
        200: {"type": "array", "items": HOOK_DELIVERY_ITEM},
        400: BASIC_ERROR,
        401: BASIC_ERROR,
    },
    ("GET", "/app/hook/deliveries/{delivery_id}"): {
        200: HOOK_DELIVERY,
        400: BASIC_ERROR,
        401: BASIC_ERROR,
        404: BASIC_ERROR,
    },
    ("POST", "/app/hook/deliveries/{delivery_id}/attempts"): {
        202: {"type": "object"},
        400: BASIC_ERROR,
        401: BASIC_ERROR,
        404: BASIC_ERROR,
    },
}
