"""github.com's App installation pages and the owner's page to approve install requests.

- `/apps/{slug}/installations/new?state=...` lists the signed-in persona's orgs.
- `/apps/{slug}/installations/new/permissions?target_id=<org id>&state=...` (the
  widely used, undocumented deep link) shows the requested permissions with "Install"
  for owners or "Request" for other members.
- Owner installs -> `installation.created` webhook, redirect to the Setup URL with
  `installation_id`, `setup_action=install`, `state`; already installed -> `update`;
  non-owner -> pending request, `setup_action=request` and no installation_id.
- `/organizations/{org}/settings/installations` lets an owner approve requests
  (`installation.created` with a `requester`), suspend or uninstall.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, request
from flask.typing import ResponseReturnValue

from ghsim import actions
from ghsim.apiutil import state
from ghsim.html import e, hidden, page
from ghsim.models import Org, User
from ghsim.routes_web import add_query, signed_in

bp = Blueprint("install", __name__)

PERMISSION_LABELS = {
    "organization_administration": "Administration",
    "members": "Members",
    "organization_plan": "Plan",
}


def _need_login() -> Response:
    return redirect(add_query("/login", return_to=request.full_path.rstrip("?")))


def _persona() -> User | None:
    login = signed_in()
    with state().lock:
        return state().user(login) if login else None


def _permission_list(perms: dict[str, str]) -> str:
    items = "".join(
        f"<li><b>{e(PERMISSION_LABELS.get(k, k))}</b> (<code>{e(k)}</code>): {e(v)}</li>"
        for k, v in sorted(perms.items())
    )
    return f"<p>Organization permissions requested:</p><ul>{items}</ul>"


@bp.get("/apps/<slug>/installations/new")
def choose_account(slug: str) -> ResponseReturnValue:
    st = state()
    if slug != st.config.app_slug:
        return page("Not Found", "<h1>404</h1>", 404)
    user = _persona()
    if user is None:
        return _need_login()
    target_state = request.args.get("state")
    rows = []
    with st.lock:
        for m in st.user_memberships(user):
            org = st.orgs[m.org_id]
            installed = st.installation_for(org) is not None
            label = "Configure" if installed else ("Install" if m.role == "admin" else "Request")
            href = add_query(
                f"/apps/{slug}/installations/new/permissions", target_id=org.id, state=target_state
            )
            rows.append(
                f"<tr><td><b>{e(org.name)}</b> <code>{e(org.login)}</code></td>"
                f"<td>{e(m.role)}</td><td><a href='{e(href)}'>{e(label)}</a></td></tr>"
            )
    table = "<table>" + "".join(rows) + "</table>" if rows else "<p>No organizations.</p>"
    body = f"<h1>Install {e(st.config.app_name)}</h1><p>Where do you want to install it?</p>{table}"
    return page("Install", body, signed_in=user.login)


def _target(slug: str) -> tuple[Org | None, User | None, Response | None]:
    st = state()
    if slug != st.config.app_slug:
        return None, None, page("Not Found", "<h1>404</h1>", 404)
    user = _persona()
    if user is None:
        return None, None, _need_login()
    src = request.form if request.method == "POST" else request.args
    try:
        target_id = int(src.get("target_id", ""))
    except ValueError:
        return None, None, page("Not Found", "<h1>404</h1><p>Unknown target_id.</p>", 404)
    with st.lock:
        org = st.orgs.get(target_id)
        m = st.membership(org, user) if org else None
    if org is None or m is None:
        return None, None, page("Not Found", "<h1>404</h1>", 404)
    return org, user, None


@bp.route("/apps/<slug>/installations/new/permissions", methods=["GET", "POST"])
def install_permissions(slug: str) -> ResponseReturnValue:
    org, user, error = _target(slug)
    if error is not None or org is None or user is None:
        return error
    st = state()
    with st.lock:
        m = st.membership(org, user)
        owner = m is not None and m.role == "admin" and m.state == "active"
        installed = st.installation_for(org)
    if request.method == "POST":
        return _install_decision(org, user, owner)
    args = {"target_id": org.id, "state": request.args.get("state")}
    if owner:
        verb = "Update" if installed else "Install"
        button = f"<button class='primary' type='submit' name='install' value='1'>{verb}</button>"
        note = "<p class='muted'>Already installed on this organization.</p>" if installed else ""
    else:
        button = "<button class='primary' type='submit' name='request' value='1'>Request</button>"
        note = "<p class='muted'>Only organization owners can install; owners will be asked.</p>"
    body = (
        f"<h1>{e(st.config.app_name)}</h1>"
        f"<p>Install on <b>{e(org.name)}</b> (<code>{e(org.login)}</code>)</p>"
        + _permission_list(st.config.app_permissions)
        + note
        + f"<form method='post'>{hidden(**args)}{button}</form>"
    )
    return page("Install", body, signed_in=user.login)


def _install_decision(org: Org, user: User, owner: bool) -> Response:
    st = state()
    setup_url = st.config.setup_url
    target_state = request.form.get("state")
    with st.lock:
        if owner:
            inst = st.installation_for(org)
            action = "update"
            if inst is None:
                inst = actions.install(st, org, sender=user)
                action = "install"
            params = {"installation_id": inst.id, "setup_action": action, "state": target_state}
        else:
            actions.request_install(st, org, user)
            params = {"setup_action": "request", "state": target_state}
    if setup_url:
        return redirect(add_query(setup_url, **params))
    done = ", ".join(f"{k}={v}" for k, v in params.items() if v is not None)
    return page("Done", f"<p class='flash'>Done: {e(done)} (no Setup URL configured)</p>")


# -- the owner's settings page -------------------------------------------------------------
def _owner_of(org_login: str) -> tuple[Org | None, User | None, Response | None]:
    user = _persona()
    if user is None:
        return None, None, _need_login()
    st = state()
    with st.lock:
        org = st.org(org_login)
        m = st.membership(org, user) if org else None
    if org is None or m is None or m.role != "admin":
        return None, None, page("Not Found", "<h1>404</h1>", 404)
    return org, user, None


@bp.get("/organizations/<org_login>/settings/installations")
@bp.get("/organizations/<org_login>/settings/installations/<int:_id>")
def org_installations(org_login: str, _id: int | None = None) -> ResponseReturnValue:
    org, user, error = _owner_of(org_login)
    if error is not None or org is None or user is None:
        return error
    st = state()
    base = f"/organizations/{org.login}/settings/installations"
    with st.lock:
        inst = st.installation_for(org)
        reqs = [r for r in st.install_requests.values() if r.org_id == org.id]
        rows = "".join(
            f"<tr><td>{e(st.users[r.requester_id].login)}</td><td>{e(r.status)}</td><td>"
            + (
                f"<form method='post' action='{e(base)}/requests/{r.id}/approve'>"
                "<button class='primary' type='submit' name='approve' value='1'>Approve</button>"
                "</form>"
                if r.status == "pending"
                else ""
            )
            + "</td></tr>"
            for r in reqs
        )
    if inst is None:
        current = "<p>The App is not installed.</p>"
    else:
        verb = "unsuspend" if inst.suspended else "suspend"
        current = (
            f"<p>Installed: id <code>{inst.id}</code>"
            f"{' (suspended)' if inst.suspended else ''}</p>"
            f"<form method='post' action='{e(base)}/{inst.id}/{verb}'>"
            f"<button type='submit' name='{verb}' value='1'>{verb.title()}</button></form>"
            f"<form method='post' action='{e(base)}/{inst.id}/delete'>"
            "<button class='danger' type='submit' name='uninstall' value='1'>Uninstall</button>"
            "</form>"
        )
    body = (
        f"<h1>{e(org.name)}: GitHub Apps</h1><h2>{e(st.config.app_name)}</h2>{current}"
        f"<h2>Pending requests</h2><table>{rows or '<tr><td>None</td></tr>'}</table>"
    )
    return page("Installed GitHub Apps", body, signed_in=user.login)


@bp.post("/organizations/<org_login>/settings/installations/requests/<int:req_id>/approve")
def approve(org_login: str, req_id: int) -> ResponseReturnValue:
    org, user, error = _owner_of(org_login)
    if error is not None or org is None:
        return error
    st = state()
    with st.lock:
        req = st.install_requests.get(req_id)
        if req is None or req.org_id != org.id or req.status != "pending":
            return page("Not Found", "<h1>404</h1>", 404)
        if st.installation_for(org) is None:
            actions.approve_request(st, req, user)
        else:
            req.status = "approved"
    return redirect(f"/organizations/{org.login}/settings/installations")


@bp.post("/organizations/<org_login>/settings/installations/<int:inst_id>/<verb>")
def change_installation(org_login: str, inst_id: int, verb: str) -> ResponseReturnValue:
    org, user, error = _owner_of(org_login)
    if error is not None or org is None:
        return error
    st = state()
    with st.lock:
        inst = st.installations.get(inst_id)
        if inst is None or inst.org_id != org.id or verb not in ("suspend", "unsuspend", "delete"):
            return page("Not Found", "<h1>404</h1>", 404)
        try:
            if verb == "delete":
                actions.uninstall(st, inst, user)
            else:
                actions.suspend(st, inst, verb == "suspend", user)
        except actions.ActionError as exc:
            return page("Error", f"<p>{e(exc)}</p>", 400)
    return redirect(f"/organizations/{org.login}/settings/installations")
