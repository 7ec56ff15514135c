"""REST API endpoints authenticated as the App (RS256 JWT) and installation-token revocation."""

from __future__ import annotations

import json

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from ghsim import render
from ghsim.apiutil import DOCS, NOT_ACCESSIBLE, ApiError, caller, json_response, paginate, state
from ghsim.clock import iso, parse_iso
from ghsim.jwt_auth import MSG_UNDECODABLE
from ghsim.models import Installation

bp = Blueprint("app_api", __name__, url_prefix="/api/v3")

D_APP = "https://docs.github.com/rest/apps/apps#get-the-authenticated-app"
D_INSTALLATIONS = (
    "https://docs.github.com/rest/apps/apps#list-installations-for-the-authenticated-app"
)
D_INSTALLATION = (
    "https://docs.github.com/rest/apps/apps#get-an-installation-for-the-authenticated-app"
)
D_TOKEN = "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app"
D_ORG_INSTALLATION = "https://docs.github.com/rest/apps/apps#get-an-organization-installation-for-the-authenticated-app"
D_REVOKE = "https://docs.github.com/rest/apps/installations#revoke-an-installation-access-token"
LEVELS = {"read": 1, "write": 2, "admin": 3}


def require_jwt(doc: str) -> None:
    """Only a valid App JWT may call these endpoints (errors were handled before)."""
    c = caller()
    if c.kind is None:
        raise ApiError(401, "Requires authentication", doc)
    if c.kind != "jwt":
        raise ApiError(401, MSG_UNDECODABLE, doc)


def _render(inst: Installation) -> dict:
    st = state()
    suspender = st.users.get(inst.suspended_by or 0)
    return render.installation(st.urls(), st.config, inst, st.orgs[inst.org_id], suspender)


@bp.get("/app")
def get_app() -> ResponseReturnValue:
    require_jwt(D_APP)
    st = state()
    with st.lock:
        return json_response(render.integration(st.urls(), st.config, len(st.installations)))


@bp.get("/app/installations")
def list_installations() -> ResponseReturnValue:
    require_jwt(D_INSTALLATIONS)
    st = state()
    since_raw = request.args.get("since")
    try:
        since = parse_iso(since_raw) if since_raw else None
    except ValueError:
        raise ApiError(400, f"Invalid value for parameter 'since': {since_raw!r}", DOCS) from None
    with st.lock:
        items = [
            _render(i)
            for i in sorted(st.installations.values(), key=lambda i: i.id)
            if since is None or i.updated_at >= since
        ]
        page, headers = paginate(items)
    return json_response(page, headers=headers)


@bp.get("/app/installations/<int:installation_id>")
def get_installation(installation_id: int) -> ResponseReturnValue:
    require_jwt(D_INSTALLATION)
    st = state()
    with st.lock:
        inst = st.installations.get(installation_id)
        if inst is None:
            raise ApiError(404, "Not Found", D_INSTALLATION)
        return json_response(_render(inst))


@bp.get("/orgs/<org_login>/installation")
def get_org_installation(org_login: str) -> ResponseReturnValue:
    require_jwt(D_ORG_INSTALLATION)
    st = state()
    with st.lock:
        org = st.org(org_login)
        inst = st.installation_for(org) if org else None
        if inst is None:
            raise ApiError(404, "Not Found", D_ORG_INSTALLATION)
        return json_response(_render(inst))


def _narrow_permissions(inst: Installation, requested: object) -> dict[str, str]:
    """The `permissions` body may only narrow what the installation was granted."""
    if requested is None:
        return dict(inst.permissions)
    if not isinstance(requested, dict):
        raise ApiError(
            422, "Invalid request.\n\nFor 'properties/permissions', is not an object.", D_TOKEN
        )
    out: dict[str, str] = {}
    for name, level in requested.items():
        granted = inst.permissions.get(name)
        if granted is None or LEVELS.get(str(level), 99) > LEVELS.get(granted, 0):
            raise ApiError(
                422, "The permissions requested are not granted to this installation.", D_TOKEN
            )
        out[name] = str(level)
    return out


@bp.post("/app/installations/<int:installation_id>/access_tokens")
def create_access_token(installation_id: int) -> ResponseReturnValue:
    require_jwt(D_TOKEN)
    raw = request.get_data()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise ApiError(400, "Problems parsing JSON", D_TOKEN) from None
    if not isinstance(body, dict):
        raise ApiError(400, "Problems parsing JSON", D_TOKEN)
    st = state()
    with st.lock:
        inst = st.installations.get(installation_id)
        if inst is None:
            raise ApiError(404, "Not Found", D_TOKEN)
        if inst.suspended:
            raise ApiError(403, "This installation has been suspended", D_TOKEN)
        permissions = _narrow_permissions(inst, body.get("permissions"))
        org = st.orgs[inst.org_id]
        names = body.get("repositories")
        ids = body.get("repository_ids")
        repos = None
        if names is not None or ids is not None:
            wanted_names = {str(n).lower() for n in (names or [])}
            wanted_ids = {int(i) for i in (ids or [])}
            if len(wanted_names) + len(wanted_ids) > 500:
                raise ApiError(422, "Too many repositories requested (maximum 500).", D_TOKEN)
            repos = [r for r in org.repos if r.name.lower() in wanted_names or r.id in wanted_ids]
            found = {r.name.lower() for r in repos} | {r.id for r in repos}
            if not (wanted_names | wanted_ids) <= found:
                raise ApiError(
                    422,
                    "There is at least one repository that does not exist or is not accessible "
                    "to the parent installation.",
                    D_TOKEN,
                )
        token = st.tokens.issue_installation_token(
            inst.id, permissions, tuple(r.id for r in repos) if repos is not None else None
        )
        resp: dict = {
            "token": token.value,
            "expires_at": iso(token.expires_at),
            "permissions": permissions,
            "repository_selection": "selected" if repos is not None else "all",
        }
        if repos is not None:
            resp["repositories"] = [render.repository(st.urls(), org, r) for r in repos]
    return json_response(resp, 201)


@bp.delete("/installation/token")
def revoke_installation_token() -> ResponseReturnValue:
    c = caller()
    if c.kind is None:
        raise ApiError(401, "Requires authentication", D_REVOKE)
    if c.kind != "ghs" or c.token is None:
        raise ApiError(403, NOT_ACCESSIBLE, D_REVOKE)
    with state().lock:
        state().tokens.revoke(c.token.value)
    return Response(status=204)
