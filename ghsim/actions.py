"""World changes that GitHub would announce with a webhook (install, suspend, rename, ...).

Payloads follow the real examples in `examples/webhook__*.json` and the `x-webhooks`
schemas, with the simulator's ids and logins. Quirks kept on purpose:
- GitHub tells Apps about org membership changes with `organization` events
  (member_added / member_removed); `membership` events are about *team* membership.
- `organization` and `membership` events only reach Apps installed on the org with the
  Members permission; `installation*` and `github_app_authorization` always do.
- Role changes and billing-manager changes produce no webhook at all (billing managers
  are not org members): consumers have to re-read memberships.
All functions expect the caller to hold `state.lock`.
"""

from __future__ import annotations

from typing import Any

from ghsim import render
from ghsim.models import Installation, InstallRequest, Membership, Org, User
from ghsim.state import State


class ActionError(ValueError):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _send(state: State, event: str, payload: dict[str, Any], inst: Installation | None) -> None:
    if state.webhooks is not None:
        state.webhooks.send(event, payload, inst.id if inst else None)


def _installation_payload(
    state: State, action: str, inst: Installation, sender: User, requester: User | None
) -> dict[str, Any]:
    urls = state.urls()
    org = state.orgs[inst.org_id]
    suspender = state.users.get(inst.suspended_by) if inst.suspended_by else None
    payload: dict[str, Any] = {
        "action": action,
        "installation": render.installation(urls, state.config, inst, org, suspender),
        "repositories": [render.webhook_repo(org, r) for r in org.repos[:100]],
        "requester": render.user_simple(urls, requester) if requester else None,
        "sender": render.user_simple(urls, sender),
    }
    return payload


def _default_sender(state: State, org: Org) -> User:
    owners = state.owners(org)
    if owners:
        return owners[0]
    return next(iter(state.users.values()))


def install(
    state: State,
    org: Org,
    *,
    sender: User | None = None,
    requester: User | None = None,
    permissions: dict[str, str] | None = None,
) -> Installation:
    if state.installation_for(org) is not None:
        raise ActionError(f"the App is already installed on {org.login}", 409)
    now = state.clock.now_dt()
    inst = Installation(
        id=state.next_id("installation"),
        org_id=org.id,
        permissions=dict(permissions or state.config.app_permissions),
        events=list(state.config.app_events),
        created_at=now,
        updated_at=now,
    )
    state.installations[inst.id] = inst
    for req in state.install_requests.values():
        if req.org_id == org.id and req.status == "pending":
            req.status = "approved"
    sender = sender or _default_sender(state, org)
    _send(
        state,
        "installation",
        _installation_payload(state, "created", inst, sender, requester),
        inst,
    )
    return inst


def uninstall(state: State, inst: Installation, sender: User | None = None) -> None:
    org = state.orgs[inst.org_id]
    sender = sender or _default_sender(state, org)
    payload = _installation_payload(state, "deleted", inst, sender, None)
    del state.installations[inst.id]
    state.tokens.revoke_installation(inst.id)
    _send(state, "installation", payload, inst)


def suspend(state: State, inst: Installation, suspended: bool, sender: User | None = None) -> None:
    org = state.orgs[inst.org_id]
    sender = sender or _default_sender(state, org)
    if suspended == inst.suspended:
        raise ActionError("installation is already " + ("suspended" if suspended else "active"))
    now = state.clock.now_dt()
    inst.suspended_at = now if suspended else None
    inst.suspended_by = sender.id if suspended else None
    inst.updated_at = now
    action = "suspend" if suspended else "unsuspend"
    _send(state, "installation", _installation_payload(state, action, inst, sender, None), inst)


def accept_permissions(
    state: State, inst: Installation, permissions: dict[str, str], sender: User | None = None
) -> None:
    org = state.orgs[inst.org_id]
    inst.permissions = dict(permissions)
    inst.updated_at = state.clock.now_dt()
    sender = sender or _default_sender(state, org)
    payload = _installation_payload(state, "new_permissions_accepted", inst, sender, None)
    _send(state, "installation", payload, inst)


def request_install(state: State, org: Org, requester: User) -> InstallRequest:
    req = InstallRequest(
        id=state.next_id("request"),
        org_id=org.id,
        requester_id=requester.id,
        created_at=state.clock.now_dt(),
    )
    state.install_requests[req.id] = req
    return req


def approve_request(state: State, req: InstallRequest, approver: User | None) -> Installation:
    org = state.orgs[req.org_id]
    requester = state.users[req.requester_id]
    inst = install(state, org, sender=approver, requester=requester)
    req.status = "approved"
    return inst


def _org_hook_installation(state: State, org: Org) -> Installation | None:
    """The installation that receives org-level events (needs the Members permission)."""
    inst = state.installation_for(org)
    if inst is None or inst.suspended or not inst.grants("members"):
        return None
    return inst


def _simple_installation(inst: Installation) -> dict[str, Any]:
    return {"id": inst.id, "node_id": inst.node_id}


def rename_org(state: State, org: Org, new_login: str, sender: User | None = None) -> None:
    if state.org(new_login) is not None:
        raise ActionError(f"{new_login} is taken", 409)
    old = org.login
    org.login = new_login
    urls = state.urls()
    sender = sender or _default_sender(state, org)
    inst = state.installation_for(org)
    if inst is not None:
        account = render.org_account(urls, org)
        account.update({"name": org.name, "slug": org.login, "archived_at": None})
        _send(
            state,
            "installation_target",
            {
                "action": "renamed",
                "account": account,
                "changes": {"login": {"from": old}, "slug": {"from": old}},
                "target_type": "Organization",
                "installation": _simple_installation(inst),
                "sender": render.user_simple(urls, sender),
            },
            inst,
        )
    hook = _org_hook_installation(state, org)
    if hook is not None:
        _send(
            state,
            "organization",
            {
                "action": "renamed",
                "changes": {"login": {"from": old}},
                "organization": render.org_simple(urls, org),
                "installation": _simple_installation(hook),
                "sender": render.user_simple(urls, sender),
            },
            hook,
        )


def _membership_hook(state: State, action: str, org: Org, m: Membership, sender: User) -> None:
    hook = _org_hook_installation(state, org)
    if hook is None:
        return
    urls = state.urls()
    user = state.users[m.user_id]
    _send(
        state,
        "organization",
        {
            "action": action,
            "membership": {
                "url": f"{urls.api}/orgs/{org.login}/memberships/{user.login}",
                "state": m.state,
                "role": m.role,
                "organization_url": f"{urls.api}/orgs/{org.login}",
                "user": render.user_simple(urls, user),
            },
            "organization": render.org_simple(urls, org),
            "installation": _simple_installation(hook),
            "sender": render.user_simple(urls, sender),
        },
        hook,
    )


def _team_hook(state: State, action: str, org: Org, team_id: int, user: User, sender: User) -> None:
    hook = _org_hook_installation(state, org)
    if hook is None:
        return
    urls = state.urls()
    _send(
        state,
        "membership",
        {
            "action": action,
            "scope": "team",
            "member": render.user_simple(urls, user),
            "sender": render.user_simple(urls, sender),
            "team": render.team(urls, state.teams[team_id], org),
            "organization": render.org_simple(urls, org),
            "installation": _simple_installation(hook),
        },
        hook,
    )


def set_membership(
    state: State,
    org: Org,
    user: User,
    role: str,
    *,
    state_: str = "active",
    public: bool = False,
    teams: list[str] | None = None,
    sender: User | None = None,
) -> Membership:
    if role not in ("admin", "member", "billing_manager"):
        raise ActionError("role must be admin, member or billing_manager")
    sender = sender or _default_sender(state, org)
    existing = state.membership(org, user)
    m = Membership(org.id, user.id, role, state_, public)
    state.memberships[(org.id, user.id)] = m
    was_member = existing is not None and existing.role != "billing_manager"
    if role != "billing_manager" and not was_member:
        _membership_hook(state, "member_added", org, m, sender)
    elif role == "billing_manager" and was_member and existing is not None:
        _membership_hook(state, "member_removed", org, existing, sender)
    for slug in teams or []:
        team = next((t for t in state.org_teams(org) if t.slug == slug), None)
        if team is None:
            raise ActionError(f"no team {slug} in {org.login}", 404)
        if user.id not in team.members:
            team.members.add(user.id)
            _team_hook(state, "added", org, team.id, user, sender)
    return m


def remove_membership(state: State, org: Org, user: User, sender: User | None = None) -> None:
    m = state.membership(org, user)
    if m is None:
        raise ActionError(f"{user.login} is not in {org.login}", 404)
    sender = sender or _default_sender(state, org)
    for team in state.org_teams(org):
        if user.id in team.members:
            team.members.discard(user.id)
            _team_hook(state, "removed", org, team.id, user, sender)
    del state.memberships[(org.id, user.id)]
    if m.role != "billing_manager":
        _membership_hook(state, "member_removed", org, m, sender)


def revoke_authorization(state: State, user: User) -> int:
    """The user revoked the App in their settings: ghu_/ghr_ tokens die, webhook sent."""
    count = state.tokens.revoke_user_client(user.id, state.config.app_client_id)
    _send(
        state,
        "github_app_authorization",
        {"action": "revoked", "sender": render.user_simple(state.urls(), user)},
        None,
    )
    return count
