"""The billing part of the control page `/_sim/`: each org's dialect and installation
token switch, and spend spikes (add one, clear them); buttons post to `POST /_sim/ui`."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from ghsim.catalog import ALL_SKUS
from ghsim.dialects import DIALECTS
from ghsim.html import e, hidden
from ghsim.spikes import SpikedPlan, SpikeError, parse_spike, spike_key
from ghsim.state import State

OPS = ("dialect", "refuse_ghs", "spike", "clear_spikes")


def _button(op: str, label: str, **fields: object) -> str:
    return (
        f"<form method='post' action='/_sim/ui' style='display:inline'>{hidden(op=op, **fields)}"
        f"<button type='submit'>{e(label)}</button></form>"
    )


def section(st: State) -> str:
    """HTML for the billing section (hold st.lock)."""
    rows = []
    for org in sorted(st.orgs.values(), key=lambda o: o.id):
        dialect = st.org_dialect(org)
        other = next(d for d in DIALECTS if d != dialect)
        refused = st.org_refuses_installation_tokens(org)
        # Only orgs with spikes need their plan (a big org's takes a moment to build).
        plan = st.plan(org) if st.spikes.get(org.id) else None
        spikes = "".join(
            f"<li>{e(s.day)} <code>{e(s.sku)}</code> x{e(s.factor)}"
            f"{' in ' + e(s.repository) if s.repository else ''}"
            + (f" ({plan.touched(s)} item(s))" if isinstance(plan, SpikedPlan) else "")
            + "</li>"
            for s in st.spikes.get(org.id, [])
        )
        rows.append(
            f"<tr><td><code>{e(org.login)}</code></td>"
            f"<td>{e(dialect)}{'' if org.dialect else ' (world default)'} "
            + _button("dialect", f"Answer {other}", org=org.login, dialect=other)
            + "</td><td>"
            + ("refused " if refused else "accepted ")
            + _button(
                "refuse_ghs",
                "Accept them" if refused else "Refuse them",
                org=org.login,
                refused="false" if refused else "true",
            )
            + f"</td><td><ul>{spikes}</ul>"
            + (_button("clear_spikes", "Clear spikes", org=org.login) if spikes else "")
            + "</td></tr>"
        )
    options = "".join(f"<option value='{e(s.key)}'>{e(s.name)}</option>" for s in ALL_SKUS)
    orgs = "".join(f"<option>{e(o.login)}</option>" for o in st.orgs.values())
    today = st.clock.today().isoformat()
    form = (
        "<form method='post' action='/_sim/ui'>"
        + hidden(op="spike")
        + f"<select name='org'>{orgs}</select> day <input name='day' value='{e(today)}' size='10'>"
        f" <select name='sku'>{options}</select>"
        " repository <input name='repository' placeholder='owner/repo (optional)'>"
        " factor <input name='factor' value='20' size='5'>"
        " <button type='submit'>Add spike</button></form>"
    )
    return (
        "<h2>Billing</h2><p class='muted'>Dialect of the enhanced billing endpoints, "
        "whether they refuse installation tokens, and spend spikes (a day's quantity of a "
        "SKU, multiplied: usage, summary and totals all show it).</p>"
        "<table><tr><th>Org</th><th>Dialect</th><th>Installation tokens</th>"
        f"<th>Spikes</th></tr>{''.join(rows)}</table>{form}"
    )


def handle(st: State, op: str, form: MultiDict[str, str]) -> None:
    """Apply one of OPS (hold st.lock); raises ValueError with a message."""
    org = st.org(form.get("org"))
    if org is None:
        raise ValueError(f"no org {form.get('org')!r}")
    if op == "dialect":
        if form.get("dialect") not in DIALECTS:
            raise ValueError("dialect must be observed or documented")
        org.dialect = form.get("dialect")
    elif op == "refuse_ghs":
        org.refuses_installation_tokens = form.get("refused") == "true"
    elif op == "spike":
        data = {k: form.get(k) for k in ("day", "sku", "repository", "factor") if form.get(k)}
        try:
            spike = parse_spike(org, data)
        except SpikeError as exc:
            raise ValueError(str(exc)) from None
        kept = [s for s in st.spikes.get(org.id, []) if spike_key(s) != spike_key(spike)]
        st.spikes[org.id] = [*kept, spike]
    elif op == "clear_spikes":
        st.spikes.pop(org.id, None)
