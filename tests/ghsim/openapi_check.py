"""Validate every simulator answer against GitHub's OpenAPI description.

`ghsim/spec/openapi-subset.json` (GitHub's description, copied) is the truth. `$ref`s are
resolved against the document itself; `x-github-breaking-changes` patches are applied for
API version 2026-03-10.

Where GitHub's real behaviour deviates from its own description, the simulator keeps the
real behaviour and the deviation is listed HERE, in `SCHEMA_DEVIATIONS` and
`UNDOCUMENTED_STATUSES`, each with its reason. Nothing is skipped silently:
`test_schema_deviations_are_real` proves each schema patch is still needed.

The billing endpoints answer in two dialects (ghsim/dialects.py): "documented" follows the
description's examples, "observed" deviates from them where real answers do; those
deviations are listed in `DIALECT_DEVIATIONS` (the schema allows both, so they are checked
by `check_dialect`, and test_dialects.py proves each is real).

Operations outside the subset: the App webhook delivery log (`app_hook_description.py`,
transcribed from GitHub's description) and the retired per-product billing endpoints
(`openapi-subset-legacy-billing.json`), which now answer 410 (`RETIRED_STATUSES`).
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

from ghsim.reference import LEGACY_BILLING, OPENAPI
from tests.ghsim import app_hook_description

SPEC_PATH = Path(os.environ.get("GITHUB_API_SPEC") or OPENAPI)
SPEC: dict[str, Any] = json.loads(SPEC_PATH.read_text())
LEGACY_SPEC: dict[str, Any] = json.loads(LEGACY_BILLING.read_text())
URI = "urn:github-openapi-subset"
USAGE = "/organizations/{org}/settings/billing/usage"
SUMMARY = "/organizations/{org}/settings/billing/usage/summary"


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
    ("GET", USAGE): (
        frozenset({404}),
        "Not listed, but GitHub answers 404 to callers who may not see the org (SOURCE.md: "
        "'404 is used instead of 403 for unauthorized private resources'), and, in the "
        "observed dialect, to an org without the enhanced billing platform (where the "
        "description documents 400).",
    ),
    ("GET", SUMMARY): (
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


@dataclass(frozen=True)
class DialectDeviation:
    operation: str  # path template
    field: str  # a key of each usage item
    documented: str  # regex every documented value matches (the description's example)
    observed: str  # regex every observed value matches
    reason: str


_PLAIN = r"^-?\d+(\.\d{1,10})?$"
#: Where the "observed" dialect answers unlike GitHub's examples (the schema allows both).
DIALECT_DEVIATIONS: tuple[DialectDeviation, ...] = (
    DialectDeviation(
        USAGE,
        "date",
        r"^\d{4}-\d{2}-\d{2}$",
        r"^\d{4}-\d{2}-\d{2}T00:00:00Z$",
        "The example shows `2023-08-01`; published real answers show `2026-07-01T00:00:00Z` "
        "(billing-reports.md §5.2, §9 #5).",
    ),
    DialectDeviation(
        USAGE,
        "product",
        r"^(Actions|Packages|Codespaces|Copilot|Git LFS)$",
        r"^[a-z_]+$",
        "The example shows `Actions`; real answers show the product id `actions` (§5.2).",
    ),
    DialectDeviation(
        USAGE,
        "unitType",
        r"^(minutes|gigabytes|GigabyteHours|hours|user-months|requests|credits)$",
        r"^(Minutes|Gigabytes|GigabyteHours|Hours|UserMonths|Requests|Credits)$",
        "The example shows `minutes`; real answers show `Minutes`, `UserMonths` (§5.2, §9 #4).",
    ),
    DialectDeviation(
        USAGE,
        "grossAmount",
        _PLAIN,
        r"^\d+(\.\d+)?(e-\d+)?$",
        "The example prints plain decimals (0.8); real answers print binary floats "
        "(0.036000000000000004) and fractional quantities (5.801260062); numbers.py.",
    ),
    DialectDeviation(
        SUMMARY,
        "product",
        r"^(Actions|Packages|Codespaces|Copilot|Git LFS)$",
        r"^[a-z_]+$",
        "As the usage report: one dialect prints one spelling everywhere.",
    ),
    DialectDeviation(
        SUMMARY,
        "unitType",
        r"^(minutes|gigabytes|GigabyteHours|hours|user-months|requests|credits)$",
        r"^(Minutes|Gigabytes|GigabyteHours|Hours|UserMonths|Requests|Credits)$",
        "As the usage report.",
    ),
)


def check_dialect(template: str, raw_items: list[dict[str, str]], dialect: str) -> None:
    """Every listed field of every item (numbers as their raw JSON text) matches the
    dialect's pattern; raises AssertionError."""
    for dev in DIALECT_DEVIATIONS:
        if dev.operation != template:
            continue
        pattern = re.compile(dev.documented if dialect == "documented" else dev.observed)
        for item in raw_items:
            value = str(item[dev.field])
            assert pattern.match(value), f"{dialect} {dev.field} {value!r} ({dev.reason})"


#: The retired per-product billing endpoints: GitHub answers 410 Gone (basic-error).
RETIRED_STATUSES = frozenset({401, 410})


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
def _template_in(paths: Any, path: str) -> str | None:
    for template in sorted(paths, key=lambda p: (p.count("{"), -len(p))):
        regex = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(regex, path):
            return template
    return None


def match_template(path: str) -> str | None:
    return _template_in(SPEC["paths"], path)


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


def _check_outside_subset(method: str, api_path: str, status: int, body: bytes) -> str | None:
    """App webhook deliveries and retired billing operations; None if neither."""
    hooks = {t for _, t in app_hook_description.OPERATIONS}
    template = _template_in(hooks, api_path)
    if template is not None:
        schemas = app_hook_description.OPERATIONS.get((method.upper(), template))
        assert schemas is not None, f"{method} {template} is not an operation"
        assert status in schemas, f"{method} {template} answered {status}"
        OAS30Validator(schemas[status]).validate(json.loads(body))
        return template
    template = _template_in(LEGACY_SPEC["paths"], api_path)
    if template is not None:
        assert status in RETIRED_STATUSES, f"{method} {template} (retired) answered {status}"
        validate_schema(json.loads(body), "/components/schemas/basic-error")
        return template
    return None


def check_api_response(
    method: str, url: str, status: int, body: bytes, version: str, strict: bool = False
) -> str:
    """Validate one API answer; returns the operation template. Raises AssertionError."""
    path = urlsplit(url).path
    assert "/api/v3" in path, url
    api_path = path.split("/api/v3", 1)[1] or "/"
    template = match_template(api_path)
    if template is None:
        outside = _check_outside_subset(method, api_path, status, body)
        if outside is not None:
            return outside
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
