"""`GET /_sim/`: a small HTML control page for the demo (personas, orgs, installations,
install requests, faults, clock, billing switches and spikes) with buttons posting to
`POST /_sim/ui`."""

from __future__ import annotations

from flask import Blueprint, redirect, request
from flask.typing import ResponseReturnValue

from ghsim import actions, control_page_billing
from ghsim.apiutil import state
from ghsim.clock import iso
from ghsim.faults import FaultError
from ghsim.html import e, hidden, page

bp = Blueprint("control_page", __name__, url_prefix="/_sim")


def _button(op: str, label: str, cls: str = "", **fields: object) -> str:
    return (
        f"<form method='post' action='/_sim/ui' style='display:inline'>{hidden(op=op, **fields)}"
        f"<button type='submit' class='{cls}'>{e(label)}</button></form>"
    )


@bp.get("/")
def control_page() -> ResponseReturnValue:
    st = state()
    with st.lock:
        users = "".join(
            f"<tr><td><code>{e(u.login)}</code></td><td>{e(u.name)}</td><td>{u.id}</td>"
            f"<td>{_button('revoke', 'Revoke App authorization', 'danger', user=u.login)}</td></tr>"
            for u in sorted(st.users.values(), key=lambda u: u.id)
        )
        orgs = []
        for org in sorted(st.orgs.values(), key=lambda o: o.id):
            inst = st.installation_for(org)
            people = ", ".join(
                f"{st.users[m.user_id].login} ({m.role})" for m in st.org_memberships(org)
            )
            if inst is None:
                ctl = _button("install", "Install App", "primary", org=org.login)
            else:
                verb = "unsuspend" if inst.suspended else "suspend"
                ctl = (
                    f"installation <code>{inst.id}</code> "
                    + _button(verb, verb.title(), inst=inst.id)
                    + _button("uninstall", "Uninstall", "danger", inst=inst.id)
                )
            orgs.append(
                f"<tr><td><b>{e(org.name)}</b><br><code>{e(org.login)}</code> ({org.id})</td>"
                f"<td>{e(people)}</td><td>{len(org.repos)} repos, plan {e(org.plan)}, "
                f"{'enhanced billing' if org.enhanced_billing else 'legacy billing'}</td>"
                f"<td>{ctl}</td></tr>"
            )
        requests_rows = "".join(
            f"<tr><td>{r.id}</td><td>{e(st.orgs[r.org_id].login)}</td>"
            f"<td>{e(st.users[r.requester_id].login)}</td><td>{e(r.status)}</td><td>"
            + (_button("approve", "Approve", "primary", req=r.id) if r.status == "pending" else "")
            + "</td></tr>"
            for r in st.install_requests.values()
        )
        faults = "".join(
            f"<tr><td>{f['id']}</td><td>{e(f['kind'])}</td><td><code>{e(f['path'])}</code></td>"
            f"<td>{e(f['remaining'])}</td><td>{f['hits']}</td></tr>"
            for f in st.faults.list()
        )
        now = iso(st.clock.now())
        billing = control_page_billing.section(st)
    fault_form = (
        "<form method='post' action='/_sim/ui'>"
        + hidden(op="fault")
        + "<select name='kind'>"
        + "".join(
            f"<option>{k}</option>"
            for k in (
                "status",
                "latency",
                "secondary_rate_limit",
                "primary_rate_limit",
                "malformed_json",
                "truncated",
            )
        )
        + "</select> path regex <input name='path' value='^/organizations/'>"
        " status <input name='status' size='4' value='502'>"
        " count <input name='count' size='4'>"
        " <button type='submit'>Add fault</button></form>" + _button("clear_faults", "Clear faults")
    )
    body = (
        f"<h1>ghsim control</h1><p class='muted'>Simulator time: {e(now)} · "
        "<a href='/_sim/state'>state JSON</a> · <a href='/_sim/deliveries'>deliveries</a>"
        " · <a href='/_sim/requests'>requests</a></p>"
        + _button("advance", "Advance clock 1 hour", seconds=3600)
        + _button("advance", "Advance clock 1 day", seconds=86400)
        + _button("reset", "Reset world", "danger")
        + f"<h2>Personas</h2><table>{users}</table>"
        + f"<h2>Organizations</h2><table>{''.join(orgs)}</table>"
        + billing
        + f"<h2>Install requests</h2><table>{requests_rows or '<tr><td>None</td></tr>'}</table>"
        + f"<h2>Faults</h2><table>{faults or '<tr><td>None</td></tr>'}</table>{fault_form}"
    )
    return page("ghsim control", body)


@bp.post("/ui")
def control_action() -> ResponseReturnValue:
    st = state()
    f = request.form
    op = f.get("op")
    try:
        with st.lock:
            if op == "install":
                org = st.org(f.get("org"))
                if org is not None:
                    actions.install(st, org)
            elif op in ("suspend", "unsuspend", "uninstall"):
                inst = st.installations.get(int(f.get("inst", 0)))
                if inst is not None and op == "uninstall":
                    actions.uninstall(st, inst)
                elif inst is not None:
                    actions.suspend(st, inst, op == "suspend")
            elif op == "approve":
                req = st.install_requests.get(int(f.get("req", 0)))
                if req is not None and req.status == "pending":
                    actions.approve_request(st, req, None)
            elif op == "revoke":
                user = st.user(f.get("user"))
                if user is not None:
                    actions.revoke_authorization(st, user)
            elif op == "advance":
                st.clock.advance(float(f.get("seconds", 0)))
            elif op == "reset":
                st.reset()
            elif op == "clear_faults":
                st.faults.clear()
            elif op == "fault":
                spec = {k: v for k, v in f.items() if k != "op" and v}
                st.faults.add(spec)
            elif op in control_page_billing.OPS:
                control_page_billing.handle(st, op, f)
    except (actions.ActionError, FaultError, ValueError) as exc:
        return page("Error", f"<p>{e(exc)}</p><p><a href='/_sim/'>Back</a></p>", 400)
    return redirect("/_sim/")
