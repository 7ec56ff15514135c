"""`/_sim/...`: the JSON control API for tests and the demo (no auth; never exposed): state,
faults, tokens, requests, clock, reset, webhook deliveries, and the helpers the other
control blueprints share (routes_control_world.py, routes_control_billing.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from ghsim import actions, pats
from ghsim.apiutil import json_response, state
from ghsim.catalog import catalog_json
from ghsim.clock import iso, parse_iso
from ghsim.faults import FaultError
from ghsim.models import Installation, Org, User
from ghsim.tokens import user_token_response

bp = Blueprint("control", __name__, url_prefix="/_sim")


class ControlError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _error(exc: ControlError | actions.ActionError) -> Response:
    return json_response({"error": str(exc)}, exc.status)


def answer_errors_as_json(blueprint: Blueprint) -> None:
    """A control blueprint's refusals (`ControlError`, `actions.ActionError`) as
    ``{"error": ...}`` with their status."""
    blueprint.register_error_handler(ControlError, _error)
    blueprint.register_error_handler(actions.ActionError, _error)


answer_errors_as_json(bp)


def body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ControlError("expected a JSON object")
    return data


def find_org(login: str) -> Org:
    org = state().org(login)
    if org is None:
        raise ControlError(f"no org {login}", 404)
    return org


def find_user(login: str | None) -> User:
    user = state().user(login)
    if user is None:
        raise ControlError(f"no user {login}", 404)
    return user


def find_installation(inst_id: int) -> Installation:
    inst = state().installations.get(inst_id)
    if inst is None:
        raise ControlError(f"no installation {inst_id}", 404)
    return inst


@bp.get("/state")
def get_state() -> ResponseReturnValue:
    data = state().snapshot()
    data["deliveries"] = len(state().webhooks.deliveries)
    return json_response(data)


@bp.get("/catalog")
def get_catalog() -> ResponseReturnValue:
    return json_response(catalog_json())


# -- faults -------------------------------------------------------------------------------
@bp.post("/faults")
def add_fault() -> ResponseReturnValue:
    try:
        fault = state().faults.add(body())
    except FaultError as exc:
        raise ControlError(str(exc)) from exc
    return json_response(fault.as_json(), 201)


@bp.get("/faults")
def list_faults() -> ResponseReturnValue:
    return json_response(state().faults.list())


@bp.delete("/faults")
def clear_faults() -> ResponseReturnValue:
    state().faults.clear()
    return Response(status=204)


# -- tokens, requests, clock, reset -------------------------------------------------------
@bp.post("/tokens")
def issue_token() -> ResponseReturnValue:
    data = body()
    st = state()
    cfg = st.config
    with st.lock:
        if data.get("client") in pats.CLIENTS:  # personal access tokens: ghsim/pats.py
            try:
                return json_response(pats.issue(data, find_user(data.get("user")).id), 201)
            except pats.PatError as exc:
                raise ControlError(str(exc)) from None
        if data.get("installation_id") or data.get("org"):
            inst = (
                find_installation(int(data["installation_id"]))
                if data.get("installation_id")
                else st.installation_for(find_org(data["org"]))
            )
            if inst is None:
                raise ControlError("the App is not installed on that org", 404)
            token = st.tokens.issue_installation_token(inst.id, inst.permissions)
            return json_response(
                {
                    "token": token.value,
                    "expires_at": iso(token.expires_at),
                    "permissions": dict(token.permissions),
                    "repository_selection": "all",
                    "installation_id": inst.id,
                }
            )
        user = find_user(data.get("user"))
        client = data.get("client", "app")
        if client == "app":
            token = st.tokens.issue_user_token(
                user_id=user.id,
                client_id=cfg.app_client_id,
                kind="ghu",
                expires_in=int(data.get("expires_in", 28800)),
            )
            return json_response(user_token_response(token, "app"))
        if client == "oauth":
            scope = str(data.get("scope", "read:org"))
            token = st.tokens.issue_user_token(
                user_id=user.id,
                client_id=cfg.oauth_client_id or "oauth",
                kind="gho",
                scopes=tuple(s for s in scope.replace(" ", ",").split(",") if s),
                expires_in=int(data["expires_in"]) if data.get("expires_in") else None,
            )
            return json_response(user_token_response(token, "oauth"))
    raise ControlError("client must be 'app', 'oauth', 'classic_pat' or 'fine_grained_pat'")


@bp.get("/requests")
def list_requests() -> ResponseReturnValue:
    since = int(request.args.get("since") or 0)
    with state().lock:
        return json_response([r for r in state().requests if r["seq"] > since])


@bp.delete("/requests")
def clear_requests() -> ResponseReturnValue:
    with state().lock:
        state().requests.clear()
    return Response(status=204)


@bp.post("/clock")
def set_clock() -> ResponseReturnValue:
    data = body()
    clock = state().clock
    if "set" in data:
        clock.set(parse_iso(str(data["set"])))
    if "advance" in data:
        clock.advance(float(data["advance"]))
    return json_response({"now": clock.now_dt().isoformat(), "offset": clock.offset})


@bp.post("/reset")
def reset() -> ResponseReturnValue:
    data = body()
    now = parse_iso(str(data["now"])) if data.get("now") else None
    state().reset(seed=data.get("seed"), now=now)
    return json_response(
        {"ok": True, "seed": state().config.seed, "now": state().clock.now_dt().isoformat()}
    )


# -- webhook deliveries -----------------------------------------------------------------
@bp.get("/deliveries")
def list_deliveries() -> ResponseReturnValue:
    return json_response(state().webhooks.list())


@bp.post("/deliveries/<guid>/redeliver")
def redeliver(guid: str) -> ResponseReturnValue:
    if not state().webhooks.redeliver(guid):
        raise ControlError(f"no delivery {guid}", 404)
    return json_response({"guid": guid}, 202)


@bp.post("/deliveries/wait")
def wait_deliveries() -> ResponseReturnValue:
    done = state().webhooks.wait(float(body().get("timeout", 10)))
    return json_response({"done": done}, 200 if done else 504)


@bp.put("/webhook")
def set_webhook() -> ResponseReturnValue:
    data = body()
    state().config.webhook_url = data.get("url") or None
    if data.get("secret"):
        state().config.webhook_secret = str(data["secret"])
    return json_response({"url": state().config.webhook_url})
