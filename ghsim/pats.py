"""Personal access tokens: classic (`ghp_`, scopes) and fine-grained (`github_pat_`,
bound to one resource owner with fine-grained permissions), both optionally expiring.

Issued by the control API (`POST /_sim/tokens {"user", "client": "classic_pat" |
"fine_grained_pat", ...}`), never by an OAuth flow. On the API:

- `GET /user`: both work; classic tokens get `x-oauth-scopes`; a token with an expiry
  gets `github-authentication-token-expiration: 2026-12-31 23:59:59 UTC` (the format
  GitHub sends, e.g. github/gh-aw#20097, google/go-github#2031).
- Billing usage, summary and budgets (`billing_access`):
  - fine-grained: the token's resource owner must be the org, with
    `organization_administration` read (or write), and the user an owner (usage,
    summary) or an owner or billing manager (budgets), as the REST reference says:
    "Fine-grained personal access tokens ... 'Administration' organization permissions
    (read)".
  - classic: an owner's token with `admin:org` (budgets: an owner's or billing
    manager's). Our reading of GitHub's docs: the REST reference names no classic scope
    for these endpoints; the tutorial "Automating usage reporting" says to use a
    personal access token (classic) as an "organization owner or billing manager"; the
    retired per-product billing endpoints took `repo` or `admin:org`; the scopes page
    defines `manage_billing:enterprise` as "Read and write enterprise billing data" (an
    enterprise scope, GHEC only) and `admin:org` as "Fully manage the organization". So
    `admin:org` is the organization scope that covers billing; `manage_billing:*` and
    `read:org` alone do not (403, `x-accepted-oauth-scopes: admin:org`).
  - the user's role still decides: a PAT of a member or of a billing manager (usage,
    summary) gets 403, someone outside the org 404; a revoked or expired token 401
    `Bad credentials` (like every token).
- Fine-grained tokens elsewhere: `GET /user/orgs` answers an empty list (the REST
  reference: "Requests using a fine-grained access token will receive a 200 Success
  response with an empty list"); `/rate_limit` and `/orgs/{org}` (public view) work;
  any other endpoint answers 403 `Resource not accessible by personal access token`.
  Classic PATs behave like classic OAuth tokens (`gho_`) outside billing.
"""

from __future__ import annotations

import re
import secrets
import string
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, request

from ghsim.apiutil import ApiError, Caller, error_response, json_response, state
from ghsim.clock import iso
from ghsim.models import Membership, Org
from ghsim.tokens import Token

CLASSIC = "ghp"
FINE_GRAINED = "github_pat"
PAT_KINDS = (CLASSIC, FINE_GRAINED)
CLIENTS = {"classic_pat": CLASSIC, "fine_grained_pat": FINE_GRAINED}
PAT_DENIED = "Resource not accessible by personal access token"
ORG_SCOPE = "admin:org"
LEVELS = ("read", "write", "admin")
_ALNUM = string.ascii_letters + string.digits
#: endpoints a fine-grained PAT may call besides the billing ones
_FINE_GRAINED_OK = re.compile(r"^/(user|user/orgs|rate_limit|orgs/[^/]+)$")


class PatError(ValueError):
    """A PAT the control API refuses to issue (400 with the message)."""


def _random(n: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


def new_value(kind: str) -> str:
    """`ghp_` + 36 characters; `github_pat_` + 22 + `_` + 59 (GitHub's formats)."""
    if kind == CLASSIC:
        return "ghp_" + _random(36)
    return f"github_pat_{_random(22)}_{_random(59)}"


def _expiry(data: dict[str, Any], now: float) -> float | None:
    if data.get("expires_at"):
        try:
            when = datetime.fromisoformat(str(data["expires_at"]).replace("Z", "+00:00"))
        except ValueError:
            raise PatError("expires_at must be an ISO time") from None
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
    if data.get("expires_in") not in (None, ""):
        try:
            return now + float(data["expires_in"])
        except (TypeError, ValueError):
            raise PatError("expires_in must be a number of seconds") from None
    return None


def issue(data: dict[str, Any], user_id: int) -> dict[str, Any]:
    """Create a PAT for the user from a control-API body; hold the State lock."""
    st = state()
    kind = CLIENTS[str(data.get("client"))]
    now = st.clock.now()
    token = Token(
        value=new_value(kind),
        kind=kind,
        created_at=now,
        expires_at=_expiry(data, now),
        user_id=user_id,
    )
    if kind == CLASSIC:
        scope = data.get("scope", data.get("scopes", ""))
        if isinstance(scope, list):
            scope = ",".join(map(str, scope))
        token.scopes = tuple(s for s in str(scope).replace(" ", ",").split(",") if s)
    else:
        owner = st.org(str(data.get("resource_owner") or ""))
        if owner is None:
            raise PatError("a fine-grained PAT needs resource_owner: an existing org login")
        permissions = data.get("permissions") or {}
        if not isinstance(permissions, dict) or any(v not in LEVELS for v in permissions.values()):
            raise PatError("permissions must be {name: read|write|admin}")
        token.resource_owner_id = owner.id
        token.permissions = {str(k): str(v) for k, v in permissions.items()}
    st.tokens.tokens[token.value] = token
    return describe(token)


def describe(token: Token) -> dict[str, Any]:
    st = state()
    body: dict[str, Any] = {
        "token": token.value,
        "token_type": "classic_pat" if token.kind == CLASSIC else "fine_grained_pat",
        "user": st.users[token.user_id].login if token.user_id in st.users else None,
        "expires_at": iso(token.expires_at),
    }
    if token.kind == CLASSIC:
        body["scopes"] = list(token.scopes)
    else:
        owner = st.orgs.get(token.resource_owner_id or 0)
        body["resource_owner"] = owner.login if owner else None
        body["permissions"] = dict(token.permissions)
    return body


# -- billing -----------------------------------------------------------------------------
def billing_access(
    c: Caller, org: Org, m: Membership, *, billing_manager_ok: bool, doc: str
) -> None:
    """Apply the PAT rules above for a member of the org; raises ApiError(403)."""
    role_ok = m.role == "admin" or (billing_manager_ok and m.role == "billing_manager")
    token = c.token
    if c.kind == CLASSIC:
        g.accepted_scopes = ORG_SCOPE
        if role_ok and ORG_SCOPE in c.scopes:
            return
        raise ApiError(403, PAT_DENIED, doc)
    level = token.permissions.get("organization_administration") if token else None
    if role_ok and token and token.resource_owner_id == org.id and level in LEVELS:
        return
    raise ApiError(403, PAT_DENIED, doc)


# -- headers and the fine-grained allow-list ------------------------------------------------
def expiration_header(token: Token | None) -> str | None:
    if token is None or token.expires_at is None:
        return None
    return datetime.fromtimestamp(token.expires_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _fine_grained_elsewhere() -> Response | None:
    """Before a request: a fine-grained PAT only reaches the endpoints listed above."""
    c: Caller | None = getattr(g, "caller", None)
    if not getattr(g, "api", False) or c is None or c.kind != FINE_GRAINED or c.error:
        return None
    path = g.api_path
    if "/settings/billing/" in path:
        return None
    if path == "/user/orgs" and request.method == "GET":
        return json_response([])
    if _FINE_GRAINED_OK.match(path) and request.method == "GET":
        return None
    return error_response(ApiError(403, PAT_DENIED))


def register(app: Flask) -> None:
    app.before_request(_fine_grained_elsewhere)
