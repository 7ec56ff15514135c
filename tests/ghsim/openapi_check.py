"""Validate every simulator answer against GitHub's OpenAPI description.

`ghsim/spec/openapi-subset.json` (GitHub's description, copied) is the truth. `$ref`s are
resolved against the document itself; `x-github-breaking-changes` patches are applied for
API version 2026-03-10.

Where GitHub's real behaviour deviates from its own description, the simulator keeps the
real behaviour and the deviation is listed HERE, in `SCHEMA_DEVIATIONS` and
`UNDOCUMENTED_STATUSES`, each with its reason. Nothing is skipped silently:
`test_schema_deviations_are_real` proves each schema patch is still needed.
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import referencing
import referencing.jsonschema
from openapi_schema_validator import OAS30Validator

from ghsim.reference import OPENAPI

SPEC_PATH = Path(os.environ.get("GITHUB_API_SPEC") or OPENAPI)
SPEC: dict[str, Any] = json.loads(SPEC_PATH.read_text())
URI = "urn:github-openapi-subset"


@dataclass(frozen=True)
class Deviation:
    pointer: str  # JSON pointer into the description
    patch: dict[str, Any]  # keys replaced at that node
    reason: str


#: Schema nodes patched before validating, because GitHub really answers differently.
SCHEMA_DEVIATIONS: tuple[Deviation, ...] = (
    Deviation(
        "/components/schemas/billing-usage-report/properties/usageItems/items/properties/quantity",
        {"type": "number"},
        "The description says `quantity` is an integer, but usage quantities are fractional "
        "(GitHub's billing docs; observed responses show e.g. Copilot seats 0.249999995 "
        "user-months and GB-hours with decimals).",
    ),
)

#: Error statuses GitHub answers although the operation does not list them. They are
#: validated against `basic-error` (every GitHub REST error body has that shape).
UNDOCUMENTED_STATUSES: dict[tuple[str, str], tuple[frozenset[int], str]] = {
    ("*", "*"): (
        frozenset({401, 403, 429, 500, 502, 503, 504}),
        "Bad credentials (401), primary/secondary rate limits (403/429) and server errors can "
        "hit any operation; the description lists them only for some.",
    ),
    ("*", "*400"): (
        frozenset({400}),
        "An unsupported X-GitHub-Api-Version header or an unparsable parameter gets 400.",
    ),
    ("GET", "/organizations/{org}/settings/billing/usage"): (
        frozenset({404}),
        "Not listed, but GitHub answers 404 to callers who may not see the org (SOURCE.md: "
        "'404 is used instead of 403 for unauthorized private resources').",
    ),
    ("GET", "/organizations/{org}/settings/billing/usage/summary"): (
        frozenset({404}),
        "Same as the usage report.",
    ),
    ("GET", "/app/installations/{installation_id}"): (frozenset({401}), "JWT errors."),
    ("GET", "/orgs/{org}/installation"): (
        frozenset({404}),
        "The App is not installed on that org: GitHub answers 404 Not Found.",
    ),
    ("GET", "/orgs/{org}/members"): (frozenset({404}), "Unknown organization."),
    ("POST", "/app/installations/{installation_id}/access_tokens"): (
        frozenset({400}),
        "Problems parsing JSON.",
    ),
    ("DELETE", "/installation/token"): (frozenset({401, 403}), "Not an installation token."),
}


def _pointer(doc: Any, pointer: str) -> Any:
    node = doc
    for part in pointer.lstrip("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge_patch(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _apply_breaking_changes(doc: dict[str, Any], version: str) -> None:
    """Apply GitHub's `x-github-breaking-changes` (merge patches or JSON-patch removes)."""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for change in node.get("x-github-breaking-changes", []):
                if change.get("version") != version:
                    continue
                patch = change["patch"]
                if isinstance(patch, dict):
                    _merge_patch(node, patch)
                else:
                    for op in patch:
                        parent = _pointer(node, op["path"].rsplit("/", 1)[0] or "/")
                        if op["op"] == "remove":
                            parent.pop(op["path"].rsplit("/", 1)[1], None)
            for value in list(node.values()):
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)


def _registry(version: str, strict: bool) -> referencing.Registry:
    doc = copy.deepcopy(SPEC)
    if version != "2022-11-28":
        _apply_breaking_changes(doc, version)
    if not strict:
        for dev in SCHEMA_DEVIATIONS:
            _pointer(doc, dev.pointer).update(copy.deepcopy(dev.patch))
    resource = referencing.Resource(contents=doc, specification=referencing.jsonschema.DRAFT4)
    return referencing.Registry().with_resource(URI, resource)


_REGISTRIES: dict[tuple[str, bool], referencing.Registry] = {}


def validate_schema(instance: Any, pointer: str, version: str = "2022-11-28", strict=False):
    """Validate against the schema at `#<pointer>`; raises jsonschema.ValidationError."""
    key = (version, strict)
    if key not in _REGISTRIES:
        _REGISTRIES[key] = _registry(version, strict)
    validator = OAS30Validator({"$ref": f"{URI}#{pointer}"}, registry=_REGISTRIES[key])
    validator.validate(instance)


# -- REST responses ---------------------------------------------------------------------
_TEMPLATES = sorted(SPEC["paths"], key=lambda p: (p.count("{"), -len(p)))


def match_template(path: str) -> str | None:
    for template in _TEMPLATES:
        regex = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(regex, path):
            return template
    return None


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def response_pointer(method: str, template: str, status: int) -> str | None:
    """Pointer to the JSON schema of a documented response (None: no body)."""
    op = SPEC["paths"][template][method.lower()]
    resp = op["responses"].get(str(status))
    base = f"/paths/{_escape(template)}/{method.lower()}/responses/{status}"
    if resp is None:
        return None
    if "$ref" in resp:
        name = resp["$ref"].rsplit("/", 1)[1]
        resp = SPEC["components"]["responses"][name]
        base = f"/components/responses/{name}"
    if "content" not in resp:
        return ""
    return f"{base}/content/application~1json/schema"


def undocumented_allowed(method: str, template: str, status: int) -> bool:
    for (m, t), (statuses, _reason) in UNDOCUMENTED_STATUSES.items():
        if status in statuses and m in ("*", method) and t in ("*", "*400", template):
            return True
    return False


VALIDATED: set[tuple[str, str, int]] = set()


def check_api_response(
    method: str, url: str, status: int, body: bytes, version: str, strict: bool = False
) -> str:
    """Validate one API answer; returns the operation template. Raises AssertionError."""
    path = urlsplit(url).path
    assert "/api/v3" in path, url
    api_path = path.split("/api/v3", 1)[1] or "/"
    template = match_template(api_path)
    assert template is not None, f"{api_path} is not an operation of the description"
    op = SPEC["paths"][template].get(method.lower())
    assert op is not None, f"{method} {template} is not in the description"
    pointer = response_pointer(method, template, status)
    if pointer is None:
        assert undocumented_allowed(method, template, status), (
            f"{method} {template} answered {status}, not documented nor a listed deviation"
        )
        pointer = "/components/schemas/basic-error"
    if pointer == "":
        assert body == b"", f"{method} {template} {status} must have no body"
    else:
        instance = json.loads(body)
        validate_schema(instance, pointer, version, strict)
        if status >= 400:
            validate_schema(instance, "/components/schemas/basic-error", version)
            assert isinstance(instance.get("status"), str), "basic-error status is a string"
    VALIDATED.add((method.upper(), template, status))
    return template


# -- webhooks ----------------------------------------------------------------------------
def check_webhook(event: str, payload: dict[str, Any]) -> str:
    """Validate a delivered payload against its `x-webhooks` request body schema."""
    key = f"{event}-{payload.get('action', '')}".replace("_", "-")
    assert key in SPEC["x-webhooks"], f"no x-webhooks entry {key}"
    pointer = f"/x-webhooks/{key}/post/requestBody/content/application~1json/schema"
    validate_schema(payload, pointer)
    return key
