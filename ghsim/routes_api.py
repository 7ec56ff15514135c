"""REST API: users, organizations, memberships, installations, rate limit.

Visibility rules (the point of the simulator):
- A GitHub App user token (ghu_) only sees organizations where the App is installed
  (and not suspended): "user-to-server tokens are limited by the app's access".
- A classic OAuth token (gho_) sees every org of the user if it has `read:org` (or
  `user`, `write:org`, `admin:org`); without those scopes GitHub answers 403.
- Installation tokens (ghs_) are refused on /user endpoints.
- Classic personal access tokens (ghp_) follow the classic OAuth rules; fine-grained ones
  (github_pat_): ghsim/pats.py.
- Billing managers are not org members: they are absent from /user/orgs and from
  /orgs/{org}/members, but /user/memberships/orgs reports `role: billing_manager`.
"""

from __future__ import annotations

from flask import Blueprint, g, request
from flask.typing import ResponseReturnValue

from ghsim import render
from ghsim.apiutil import (
    DOCS,
    NOT_ACCESSIBLE,
    ApiError,
    caller,
    json_response,
    not_found,
    paginate,
    state,
    validation_failed,
)
from ghsim.models import Membership, Org, User

bp = Blueprint("api", __name__, url_prefix="/api/v3")

D_USER = "https://docs.github.com/rest/users/users#get-the-authenticated-user"
D_USER_ORGS = "https://docs.github.com/rest/orgs/orgs#list-organizations-for-the-authenticated-user"
D_MEMBERSHIPS = "https://docs.github.com/rest/orgs/members#list-organization-memberships-for-the-authenticated-user"
D_MEMBERSHIP = "https://docs.github.com/rest/orgs/members#get-an-organization-membership-for-the-authenticated-user"
D_ORG = "https://docs.github.com/rest/orgs/orgs#get-an-organization"
D_MEMBERS = "https://docs.github.com/rest/orgs/members#list-organization-members"
D_ORG_MEMBERSHIP = (
    "https://docs.github.com/rest/orgs/members#get-organization-membership-for-a-user"
)
D_USER_INST = "https://docs.github.com/rest/apps/installations#list-app-installations-accessible-to-the-user-access-token"
D_RATE = "https://docs.github.com/rest/rate-limit/rate-limit#get-rate-limit-status-for-the-authenticated-user"
ORG_SCOPES = ("read:org", "write:org", "admin:org")
CLASSIC = ("gho", "ghp")  # classic OAuth App tokens and classic personal access tokens
USER_ORGS_SCOPES = "admin:org, read:org, repo, user, write:org"


def require_user_token(doc: str) -> User:
    """Endpoints for the signed-in user: ghu_ or gho_ only."""
    c = caller()
    if c.kind is None:
        raise ApiError(401, "Requires authentication", doc)
    if c.kind in ("ghs", "jwt") or c.user is None:
        raise ApiError(403, NOT_ACCESSIBLE, doc)
    return c.user


def app_sees(org: Org) -> bool:
    """Does the caller's App installation cover this org (for ghu_ tokens)?"""
    inst = state().installation_for(org)
    return inst is not None and not inst.suspended


def oauth_org_scope(doc: str) -> None:
    g.accepted_scopes = USER_ORGS_SCOPES
    c = caller()
    if c.kind in CLASSIC and not set(c.scopes) & {*ORG_SCOPES, "user"}:
        raise ApiError(
            403, "Resource not accessible by OAuth app: needs read:org or user scope", doc
        )


def visible_memberships(user: User) -> list[Membership]:
    st = state()
    out = []
    for m in st.user_memberships(user):
        org = st.orgs[m.org_id]
        if caller().kind == "ghu" and not app_sees(org):
            continue
        out.append(m)
    return out


@bp.get("/user")
def get_user() -> ResponseReturnValue:
    user = require_user_token(D_USER)
    c = caller()
    if c.kind in CLASSIC:
        g.accepted_scopes = ""
    private = c.kind in ("ghu", "github_pat") or "user" in c.scopes
    with state().lock:
        return json_response(render.user_full(state().urls(), user, private))


@bp.get("/user/orgs")
def list_user_orgs() -> ResponseReturnValue:
    user = require_user_token(D_USER_ORGS)
    oauth_org_scope(D_USER_ORGS)
    st = state()
    with st.lock:
        orgs = [st.orgs[m.org_id] for m in visible_memberships(user) if m.is_member]
        page, headers = paginate([render.org_simple(st.urls(), o) for o in orgs])
    return json_response(page, headers=headers)


@bp.get("/user/memberships/orgs")
def list_user_memberships() -> ResponseReturnValue:
    user = require_user_token(D_MEMBERSHIPS)
    oauth_org_scope(D_MEMBERSHIPS)
    wanted = request.args.get("state")
    if wanted not in (None, "active", "pending"):
        raise validation_failed("state", "OrganizationMembership", D_MEMBERSHIPS)
    st = state()
    with st.lock:
        items = [
            render.membership(st.urls(), m, st.orgs[m.org_id], user)
            for m in visible_memberships(user)
            if wanted is None or m.state == wanted
        ]
        page, headers = paginate(items)
    return json_response(page, headers=headers)


@bp.get("/user/memberships/orgs/<org_login>")
def get_user_membership(org_login: str) -> ResponseReturnValue:
    user = require_user_token(D_MEMBERSHIP)
    oauth_org_scope(D_MEMBERSHIP)
    st = state()
    with st.lock:
        org = st.org(org_login)
        m = st.membership(org, user) if org else None
        # Not affiliated -> 404; with a ghu_ token an org without the App is invisible.
        if org is None or m is None or (caller().kind == "ghu" and not app_sees(org)):
            raise not_found(D_MEMBERSHIP)
        return json_response(render.membership(st.urls(), m, org, user))


@bp.get("/user/installations")
def list_user_installations() -> ResponseReturnValue:
    user = require_user_token(D_USER_INST)
    if caller().kind != "ghu":
        raise ApiError(
            403,
            "You must authenticate with an access token authorized to a GitHub App in order "
            "to list installations",
            D_USER_INST,
        )
    st = state()
    with st.lock:
        items = []
        for inst in sorted(st.installations.values(), key=lambda i: i.id):
            org = st.orgs[inst.org_id]
            m = st.membership(org, user)
            if m is not None and m.is_member:
                suspender = st.users.get(inst.suspended_by or 0)
                items.append(render.installation(st.urls(), st.config, inst, org, suspender))
        page, headers = paginate(items)
    return json_response({"total_count": len(items), "installations": page}, headers=headers)


@bp.get("/orgs/<org_login>")
def get_org(org_login: str) -> ResponseReturnValue:
    st = state()
    c = caller()
    with st.lock:
        org = st.org(org_login)
        if org is None:
            raise not_found(D_ORG)
        inst = st.installation_for(org)
        m = st.membership(org, c.user)
        owner = m is not None and m.role == "admin" and m.state == "active"
        full = plan = False
        if c.kind in CLASSIC:
            g.accepted_scopes = "admin:org, read:org, repo, user, write:org"
            full = plan = owner and "admin:org" in c.scopes
        elif c.kind == "ghu":
            full = owner and app_sees(org)
            plan = full and inst is not None and inst.grants("organization_plan")
        elif c.kind == "ghs" and c.installation and c.installation.org_id == org.id:
            full = c.installation.grants("organization_administration")
            plan = c.installation.grants("organization_plan")
        body = render.org_full(
            st.urls(),
            org,
            full=full,
            plan=plan,
            api_version=g.api_version,
            public_members=sum(1 for x in st.org_memberships(org) if x.public),
            seats=sum(1 for x in st.org_memberships(org) if x.is_member),
        )
    return json_response(body)


def can_see_private_members(org: Org) -> bool:
    st = state()
    c = caller()
    if c.kind == "ghs":
        inst = c.installation
        return inst is not None and inst.org_id == org.id and inst.grants("members")
    m = st.membership(org, c.user)
    if m is None or not m.is_member:
        return False
    if c.kind in CLASSIC:
        return bool(set(c.scopes) & {*ORG_SCOPES, "user", "repo"})
    if c.kind == "ghu":
        inst = st.installation_for(org)
        return inst is not None and not inst.suspended and inst.grants("members")
    return False


@bp.get("/orgs/<org_login>/members")
def list_org_members(org_login: str) -> ResponseReturnValue:
    g.accepted_permissions = "members=read"
    role = request.args.get("role", "all")
    if role not in ("all", "admin", "member"):
        raise validation_failed("role", "OrganizationMember", D_MEMBERS)
    flt = request.args.get("filter", "all")
    if flt not in ("all", "2fa_disabled", "2fa_insecure"):
        raise validation_failed("filter", "OrganizationMember", D_MEMBERS)
    st = state()
    with st.lock:
        org = st.org(org_login)
        if org is None:
            raise not_found(D_MEMBERS)
        private = can_see_private_members(org)
        users = [
            st.users[m.user_id]
            for m in st.org_memberships(org)
            if m.is_member
            and (private or m.public)
            and (role == "all" or m.role == role)
            and flt == "all"  # every simulated member has secure 2FA
        ]
        page, headers = paginate([render.user_simple(st.urls(), u) for u in users])
    return json_response(page, headers=headers)


@bp.get("/orgs/<org_login>/memberships/<username>")
def get_org_membership(org_login: str, username: str) -> ResponseReturnValue:
    g.accepted_permissions = "members=read"
    c = caller()
    st = state()
    with st.lock:
        org = st.org(org_login)
        if org is None:
            raise not_found(D_ORG_MEMBERSHIP)
        if c.kind is None:
            raise ApiError(401, "Requires authentication", D_ORG_MEMBERSHIP)
        if c.kind == "jwt":
            raise ApiError(403, NOT_ACCESSIBLE, D_ORG_MEMBERSHIP)
        target = st.user(username)
        if c.kind == "ghs":
            inst = c.installation
            if inst is None or inst.org_id != org.id or not inst.grants("members"):
                raise ApiError(403, NOT_ACCESSIBLE, D_ORG_MEMBERSHIP)
        else:
            mine = st.membership(org, c.user)
            is_self = target is not None and c.user is not None and target.id == c.user.id
            if mine is None or not (mine.is_member or is_self):
                raise not_found(D_ORG_MEMBERSHIP)
            if c.kind in CLASSIC and not set(c.scopes) & {*ORG_SCOPES, "user", "repo"}:
                g.accepted_scopes = "admin:org, read:org, repo, user, write:org"
                raise ApiError(403, "Resource not accessible by OAuth app", D_ORG_MEMBERSHIP)
            if c.kind == "ghu":
                inst = st.installation_for(org)
                if inst is None or inst.suspended or not inst.grants("members"):
                    raise ApiError(403, NOT_ACCESSIBLE, D_ORG_MEMBERSHIP)
        m = st.membership(org, target)
        if target is None or m is None:
            raise not_found(D_ORG_MEMBERSHIP)
        return json_response(render.membership(st.urls(), m, org, target))


@bp.get("/rate_limit")
def rate_limit() -> ResponseReturnValue:
    c = caller()
    st = state()
    with st.lock:
        core = st.ratelimits.peek(c.rl_key, c.rl_limit)
        reset_soon = int(st.clock.now()) + 60

    def res(limit: int, used: int = 0, reset: int = reset_soon) -> dict[str, int]:
        return {"limit": limit, "used": used, "remaining": limit - used, "reset": reset}

    core_json = res(core.limit, core.used, core.reset)
    graphql = 0 if c.kind is None else 5000
    body: dict[str, object] = {
        "resources": {
            "core": core_json,
            "search": res(10 if c.kind is None else 30),
            "graphql": res(graphql),
            "integration_manifest": res(5000),
            "source_import": res(100),
            "code_scanning_upload": res(1000),
            "actions_runner_registration": res(10000),
            "scim": res(15000),
            "dependency_snapshots": res(100),
            "code_search": res(10),
        }
    }
    # `rate` is closing down: API version 2026-03-10 removed it.
    if g.api_version < "2026-03-10":
        body["rate"] = core_json
    return json_response(body)


@bp.route("/<path:_rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def api_not_found(_rest: str) -> ResponseReturnValue:
    raise ApiError(404, "Not Found", DOCS)
