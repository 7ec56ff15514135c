"""`/_sim/...` control API for the billing switches: dialects, refused installation
tokens, spend spikes, token revocation (JSON, no auth; see README.md)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from ghsim.apiutil import json_response, state
from ghsim.dialects import check_dialect
from ghsim.models import Org
from ghsim.routes_control import ControlError, answer_errors_as_json, body, find_org
from ghsim.spikes import Spike, SpikedPlan, SpikeError, parse_spike, spike_key

bp = Blueprint("control_billing", __name__, url_prefix="/_sim")


answer_errors_as_json(bp)


def _switch(data: dict[str, Any], key: str) -> bool | None:
    if key not in data:
        raise ControlError(f"{key} is required (true, false, or null for the world's default)")
    value = data[key]
    if value is not None and not isinstance(value, bool):
        raise ControlError(f"{key} must be true, false or null")
    return value


def _dialect(value: object, allow_null: bool) -> str | None:
    if value is None and allow_null:
        return None
    try:
        return check_dialect(value)
    except ValueError as exc:
        raise ControlError(str(exc)) from None


def _world() -> dict[str, Any]:
    st = state()
    return {"dialect": st.dialect, "refuses_installation_tokens": st.refuses_installation_tokens}


# -- world defaults and per-org switches ---------------------------------------------------
@bp.get("/billing")
def get_billing_defaults() -> ResponseReturnValue:
    with state().lock:
        return json_response(_world())


@bp.post("/billing")
def set_billing_defaults() -> ResponseReturnValue:
    """`{"dialect"?, "refuses_installation_tokens"?}`: the world's defaults (until reset)."""
    data = body()
    st = state()
    with st.lock:
        if "dialect" in data:
            st.dialect = _dialect(data["dialect"], allow_null=False)
        if "refuses_installation_tokens" in data:
            value = data["refuses_installation_tokens"]
            if not isinstance(value, bool):
                raise ControlError("refuses_installation_tokens must be true or false")
            st.refuses_installation_tokens = value
        return json_response(_world())


@bp.post("/orgs/<login>/dialect")
def set_org_dialect(login: str) -> ResponseReturnValue:
    """`{"dialect": "documented" | "observed" | null}` (null: the world's default)."""
    data = body()
    if "dialect" not in data:
        raise ControlError("dialect is required")
    st = state()
    with st.lock:
        org = find_org(login)
        org.dialect = _dialect(data["dialect"], allow_null=True)
        return json_response(st.org_info(org))


@bp.post("/orgs/<login>/installation-tokens")
def set_org_installation_tokens(login: str) -> ResponseReturnValue:
    """`{"refused": true | false | null}`: billing endpoints refuse ghs_ tokens."""
    refused = _switch(body(), "refused")
    st = state()
    with st.lock:
        org = find_org(login)
        org.refuses_installation_tokens = refused
        return json_response(st.org_info(org))


# -- spend spikes ---------------------------------------------------------------------------
def _spikes_json(org: Org) -> list[dict[str, Any]]:
    st = state()
    plan = st.plan(org)
    out = []
    for spike in st.spikes.get(org.id, []):
        row = spike.as_json()
        if isinstance(plan, SpikedPlan):
            row["items"] = plan.touched(spike)
        out.append(row)
    return out


@bp.get("/orgs/<login>/spikes")
def list_spikes(login: str) -> ResponseReturnValue:
    with state().lock:
        return json_response(_spikes_json(find_org(login)))


@bp.post("/orgs/<login>/spikes")
def add_spike(login: str) -> ResponseReturnValue:
    """`{"day", "sku", "repository"?, "factor"}`; the same (day, sku, repository) again
    replaces the earlier factor."""
    data = body()
    st = state()
    with st.lock:
        org = find_org(login)
        try:
            spike = parse_spike(org, data)
        except SpikeError as exc:
            raise ControlError(str(exc)) from None
        kept = [s for s in st.spikes.get(org.id, []) if spike_key(s) != spike_key(spike)]
        st.spikes[org.id] = [*kept, spike]
        plan = st.plan(org)
        assert isinstance(plan, SpikedPlan)
        return json_response({**spike.as_json(), "items": plan.touched(spike)}, 201)


@bp.delete("/orgs/<login>/spikes")
def clear_spikes(login: str) -> ResponseReturnValue:
    """All of the org's spikes, or only those matching `?day=&sku=&repository=`."""
    st = state()
    with st.lock:
        org = find_org(login)
        wanted = {k: request.args.get(k) for k in ("day", "sku", "repository")}
        kept: list[Spike] = []
        for spike in st.spikes.get(org.id, []):
            row = spike.as_json()
            match = all(
                v is None or str(row[k] or "").lower() == v.strip().lower()
                for k, v in wanted.items()
            )
            if not match:
                kept.append(spike)
        if kept:
            st.spikes[org.id] = kept
        else:
            st.spikes.pop(org.id, None)
    return Response(status=204)


# -- tokens -------------------------------------------------------------------------------------
@bp.post("/tokens/revoke")
def revoke_token() -> ResponseReturnValue:
    """`{"token"}`: any token dies (a PAT its owner deleted, a leaked ghs_ ...)."""
    value = str(body().get("token") or "")
    st = state()
    with st.lock:
        if value not in st.tokens.tokens:
            raise ControlError("no such token", 404)
        st.tokens.revoke(value)
    return Response(status=204)
