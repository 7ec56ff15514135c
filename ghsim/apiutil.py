"""Shared pieces of the REST API side: errors, JSON responses, callers, pagination."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Request, Response, current_app, g, request

from ghsim.jsonutil import dumps
from ghsim.jwt_auth import JwtError, looks_like_jwt, verify_app_jwt
from ghsim.models import Installation, User
from ghsim.ratelimit import APP_JWT_LIMIT, installation_limit
from ghsim.state import State
from ghsim.tokens import Token

DOCS = "https://docs.github.com/rest"
DEFAULT_API_VERSION = "2022-11-28"
SUPPORTED_API_VERSIONS = ("2022-11-28", "2026-03-10")
NOT_ACCESSIBLE = "Resource not accessible by integration"


def state() -> State:
    return current_app.extensions["ghsim"]


class ApiError(Exception):
    """Becomes a GitHub `basic-error` body: message, documentation_url, status (a string)."""

    def __init__(
        self,
        status: int,
        message: str,
        doc: str = DOCS,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.doc = doc
        self.headers = headers or {}
        self.errors = errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "documentation_url": self.doc}
        if self.errors is not None:
            body["errors"] = self.errors
        body["status"] = str(self.status)
        return body


def json_response(
    obj: object, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    resp = Response(dumps(obj), status=status, mimetype="application/json")
    resp.headers["Content-Type"] = "application/json; charset=utf-8"
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def error_response(err: ApiError) -> Response:
    return json_response(err.body(), err.status, err.headers)


def not_found(doc: str = DOCS) -> ApiError:
    return ApiError(404, "Not Found", doc)


def validation_failed(field: str, resource: str, doc: str) -> ApiError:
    return ApiError(
        422,
        "Validation Failed",
        doc,
        errors=[{"resource": resource, "field": field, "code": "invalid"}],
    )


@dataclass
class Caller:
    kind: str | None  # "ghu" | "gho" | "ghs" | "jwt" | None (anonymous)
    rl_key: str
    rl_limit: int
    token: Token | None = None
    user: User | None = None
    installation: Installation | None = None
    error: str | None = None  # set when the credentials are invalid (-> 401)

    @property
    def scopes(self) -> tuple[str, ...]:
        return self.token.scopes if self.token else ()

    @property
    def subject(self) -> str | None:
        if self.user is not None:
            return self.user.login
        if self.installation is not None:
            return str(self.installation.id)
        if self.kind == "jwt" and not self.error:
            return "app"
        return None


def resolve_caller(st: State, req: Request) -> Caller:
    """Who is calling (never raises; invalid credentials set `error`). Hold st.lock."""
    ip_key = f"ip:{req.remote_addr}"
    cfg = st.config
    anonymous = cfg.unauthenticated_rate_limit
    header = req.headers.get("Authorization", "").strip()
    if not header:
        return Caller(None, ip_key, anonymous)
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "basic":
        # Client id and secret (the /applications/{client_id} endpoints check them).
        return Caller(None, ip_key, anonymous)
    if scheme.lower() not in ("bearer", "token") or not value:
        return Caller(None, ip_key, anonymous, error="Bad credentials")
    if looks_like_jwt(value):
        try:
            verify_app_jwt(value, st.config, st.clock.now())
        except JwtError as exc:
            return Caller("jwt", ip_key, anonymous, error=exc.message)
        return Caller("jwt", f"app:{st.config.app_id}", APP_JWT_LIMIT)
    guess = {"ghu_": "ghu", "gho_": "gho", "ghs_": "ghs"}.get(value[:4])
    token = st.tokens.lookup(value)
    if token is None:
        return Caller(guess, ip_key, anonymous, error="Bad credentials")
    if token.kind == "ghs":
        inst = st.installations.get(token.installation_id or 0)
        if inst is None:  # uninstalled: its tokens are dead
            return Caller("ghs", ip_key, anonymous, error="Bad credentials")
        org = st.orgs[inst.org_id]
        limit = cfg.installation_rate_limit or installation_limit(
            len(org.repos), len(st.org_memberships(org))
        )
        return Caller("ghs", f"inst:{inst.id}", limit, token=token, installation=inst)
    user = st.users.get(token.user_id or 0)
    if user is None:
        return Caller(token.kind, ip_key, anonymous, error="Bad credentials")
    # A user's 5,000/h are shared by all their tokens (SOURCE.md).
    return Caller(token.kind, f"user:{user.id}", cfg.user_rate_limit, token=token, user=user)


def caller() -> Caller:
    return g.caller


def int_arg(name: str, default: int | None = None, doc: str = DOCS) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid value for parameter '{name}': {raw!r}", doc) from None


def paginate(items: list[Any], default_per_page: int = 30) -> tuple[list[Any], dict[str, str]]:
    """GitHub's page/per_page (max 100) with a Link header (prev, next, last, first)."""
    try:
        per_page = int(request.args.get("per_page") or default_per_page)
    except ValueError:
        per_page = default_per_page
    per_page = min(100, max(1, per_page))
    try:
        page = max(1, int(request.args.get("page") or 1))
    except ValueError:
        page = 1
    last = max(1, math.ceil(len(items) / per_page))
    chunk = items[(page - 1) * per_page : page * per_page]

    def url(n: int) -> str:
        args = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}
        args["per_page"] = str(per_page)
        args["page"] = str(n)
        return f"<{request.base_url}?{urlencode(args)}>"

    links = []
    if page > 1:
        links.append(f'{url(min(page - 1, last))}; rel="prev"')
    if page < last:
        links.append(f'{url(page + 1)}; rel="next"')
        links.append(f'{url(last)}; rel="last"')
    if page > 1:
        links.append(f'{url(1)}; rel="first"')
    return chunk, ({"Link": ", ".join(links)} if links else {})
