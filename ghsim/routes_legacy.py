"""The retired per-product billing endpoints (spec/openapi-subset-legacy-billing.json):
`GET /orgs/{org}/settings/billing/{actions,packages,shared-storage}`.

GitHub answers them `410 Gone` today, for any caller and any org:
`{"message":"This endpoint has been moved.","documentation_url":
"https://gh.io/billing-api-updates-org","status":"410"}` (bodies quoted in
google/go-github#3700, 2025-08, and laurigates/claude-plugins#2321, 2026-08, "verified
live" for all three). Invalid credentials still get 401 first, as everywhere.
"""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from ghsim.apiutil import ApiError

bp = Blueprint("legacy_billing_api", __name__, url_prefix="/api/v3")

MOVED = "This endpoint has been moved."
MOVED_DOCS = "https://gh.io/billing-api-updates-org"
RETIRED = ("actions", "packages", "shared-storage")


@bp.get("/orgs/<org_login>/settings/billing/<product>")
def retired_billing(org_login: str, product: str) -> ResponseReturnValue:
    if product not in RETIRED:
        raise ApiError(404, "Not Found")
    raise ApiError(410, MOVED, MOVED_DOCS)
