"""`/_sim/...` control API for the world: installations, install requests, orgs (and their
exact totals), memberships and users (JSON, no auth; see README.md)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from ghsim import actions
from ghsim.apiutil import json_response, state
from ghsim.breakdown import GROUPS, Breakdown, breakdown_totals
from ghsim.people import people_of
from ghsim.routes_control import (
    ControlError,
    answer_errors_as_json,
    body,
    find_installation,
    find_org,
    find_user,
)
from ghsim.usage import visible_range
from ghsim.usage_output import totals
from ghsim.world import OrgSpec

bp = Blueprint("control_world", __name__, url_prefix="/_sim")


answer_errors_as_json(bp)


# -- installations ---------------------------------------------------------------------
@bp.post("/installations")
def create_installation() -> ResponseReturnValue:
    data = body()
    st = state()
    with st.lock:
        org = find_org(str(data.get("org")))
        requester = find_user(data["requester"]) if data.get("requester") else None
        sender = find_user(data["sender"]) if data.get("sender") else None
        inst = actions.install(
            st, org, sender=sender, requester=requester, permissions=data.get("permissions")
        )
        return json_response(st.installation_info(inst), 201)


@bp.delete("/installations/<int:inst_id>")
def delete_installation(inst_id: int) -> ResponseReturnValue:
    st = state()
    with st.lock:
        actions.uninstall(st, find_installation(inst_id))
    return Response(status=204)


@bp.post("/installations/<int:inst_id>/<verb>")
def installation_verb(inst_id: int, verb: str) -> ResponseReturnValue:
    st = state()
    with st.lock:
        inst = find_installation(inst_id)
        if verb in ("suspend", "unsuspend"):
            actions.suspend(st, inst, verb == "suspend")
        elif verb == "permissions":
            perms = body()
            if not perms or not all(v in ("read", "write", "admin") for v in perms.values()):
                raise ControlError("expected {permission: read|write|admin}")
            actions.accept_permissions(st, inst, perms)
        else:
            raise ControlError(f"unknown action {verb}", 404)
        return json_response(st.installation_info(inst))


@bp.post("/install-requests/<int:req_id>/approve")
def approve_install_request(req_id: int) -> ResponseReturnValue:
    st = state()
    with st.lock:
        req = st.install_requests.get(req_id)
        if req is None or req.status != "pending":
            raise ControlError(f"no pending install request {req_id}", 404)
        approver = find_user(body().get("approver")) if body().get("approver") else None
        inst = actions.approve_request(st, req, approver)
        return json_response(st.installation_info(inst), 201)


# -- orgs, memberships, users -----------------------------------------------------------
def _new_login(data: dict[str, Any]) -> str:
    login = str(data.get("login") or "")
    if not login:
        raise ControlError("login is required")
    return login


@bp.post("/orgs")
def create_org() -> ResponseReturnValue:
    data = body()
    st = state()
    login = _new_login(data)
    with st.lock:
        if st.org(login) is not None:
            raise ControlError(f"{login} exists", 409)
        spec = OrgSpec(
            login=login,
            name=str(data.get("name") or login),
            id=int(data.get("id") or st.next_id("org")),
            members=dict(data.get("members") or {}),
            public_members=tuple(data.get("public_members") or ()),
            repos=int(data.get("repos", 10)),
            skus_per_repo=int(data.get("skus_per_repo", 5)),
            enhanced_billing=bool(data.get("enhanced_billing", True)),
            plan=str(data.get("plan", "team")),
            created=date.fromisoformat(data["created"]) if data.get("created") else None,
            created_months_ago=int(data.get("created_months_ago", 24)),
            budgets=int(data.get("budgets", 0)),
            copilot_seats=int(data.get("copilot_seats", 0)),
            copilot_plan=str(data.get("copilot_plan", "business")),
            density=float(data.get("density", 1.0)),
            description=data.get("description"),
            dialect=data.get("dialect"),
            refuses_installation_tokens=data.get("refuses_installation_tokens"),
        )
        if spec.dialect not in (None, "observed", "documented"):
            raise ControlError("dialect must be 'observed' or 'documented'")
        if spec.refuses_installation_tokens not in (None, True, False):
            raise ControlError("refuses_installation_tokens must be true, false or null")
        for member in spec.members:
            find_user(member)
        org = st.add_org(spec)
        if data.get("installed"):
            actions.install(st, org, permissions=data.get("permissions"))
        return json_response(st.org_info(org), 201)


@bp.post("/orgs/<login>/rename")
def rename_org(login: str) -> ResponseReturnValue:
    new = str(body().get("login") or "")
    if not new:
        raise ControlError("login is required")
    st = state()
    with st.lock:
        org = find_org(login)
        actions.rename_org(st, org, new)
        return json_response(st.org_info(org))


@bp.get("/orgs/<login>/totals")
def org_totals(login: str) -> ResponseReturnValue:
    st = state()
    group_by = request.args.get("group_by", "day")
    if group_by not in ("day", "product", "sku", "repository", *GROUPS):
        raise ControlError(
            "group_by must be day, product, sku, repository, user, workflow or model"
        )
    try:
        start = date.fromisoformat(request.args["start"])
        end = date.fromisoformat(request.args["end"])
    except (KeyError, ValueError) as exc:
        raise ControlError("start and end (YYYY-MM-DD) are required") from exc
    with st.lock:
        org = find_org(login)
        span = visible_range(org, start, end, st.clock.today()) if org.enhanced_billing else None
        plan = st.plan(org)
        people = people_of(st, org)
    if group_by in GROUPS:
        result = breakdown_totals(Breakdown(plan, people), span, group_by)
    else:
        result = totals(plan, span, group_by)
    result["org"] = org.login
    return json_response(result)


@bp.put("/memberships/<org_login>/<user_login>")
def put_membership(org_login: str, user_login: str) -> ResponseReturnValue:
    data = body()
    st = state()
    with st.lock:
        org, user = find_org(org_login), find_user(user_login)
        m = actions.set_membership(
            st,
            org,
            user,
            str(data.get("role", "member")),
            state_=str(data.get("state", "active")),
            public=bool(data.get("public", False)),
            teams=list(data.get("teams") or []),
        )
        return json_response(
            {"org": org.login, "user": user.login, "role": m.role, "state": m.state}
        )


@bp.delete("/memberships/<org_login>/<user_login>")
def delete_membership(org_login: str, user_login: str) -> ResponseReturnValue:
    st = state()
    with st.lock:
        actions.remove_membership(st, find_org(org_login), find_user(user_login))
    return Response(status=204)


@bp.post("/users")
def create_user() -> ResponseReturnValue:
    data = body()
    st = state()
    login = _new_login(data)
    with st.lock:
        if st.user(login) is not None:
            raise ControlError(f"{login} exists", 409)
        user = st.add_user(login, str(data.get("name") or login), data.get("id"), data.get("email"))
        return json_response({"id": user.id, "login": user.login, "name": user.name}, 201)


@bp.post("/users/<login>/revoke")
def revoke_user(login: str) -> ResponseReturnValue:
    st = state()
    with st.lock:
        count = actions.revoke_authorization(st, find_user(login))
    return json_response({"revoked_tokens": count})
