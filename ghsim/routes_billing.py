"""REST API: the enhanced billing platform (usage report, usage summary, budgets).

Who gets what (GitHub's description, SOURCE.md and the brief):
- usage & summary: an org owner's GitHub App user token (ghu_), but only where the App is
  installed (not suspended) with `organization_administration: read`; or an installation
  token of that org with that permission. Billing managers, members, classic OAuth tokens
  (gho_) and installation tokens of other orgs get 403 with
  `x-accepted-github-permissions: organization_administration=read`; someone unrelated to
  the org gets 404; an org without the enhanced billing platform gets 400 in the
  "documented" dialect, 404 in the "observed" one (dialects.py).
- budgets: "organization admin or billing manager", Administration read; classic tokens
  need `admin:org`; an org without the enhanced billing platform has none (404).
- personal access tokens (ghp_, github_pat_): pats.py.
- an org (or the world) may refuse installation tokens on all three (403 "Resource not
  accessible by integration", as some public reports say GitHub does); owners' user
  tokens keep working.
- usage is never older than 24 months, never before the org existed, never after today.
- the answers' shapes follow the org's dialect (dialects.py); spikes: spikes.py.

``SIM_USAGE_CACHE_MB`` (`SimConfig.usage_cache_bytes`, default 0 = off): keep rendered
usage reports up to that size in memory and serve repeats from there (`RenderedReports`),
for benchmarks of the client. The bytes are the same as without it.
"""

from __future__ import annotations

import calendar
from datetime import date

from flask import Blueprint, Response, g, request
from flask.typing import ResponseReturnValue

from ghsim import pats
from ghsim.apiutil import NOT_ACCESSIBLE, ApiError, caller, int_arg, json_response, state
from ghsim.budgets import org_budgets
from ghsim.dialects import RenderedReports, not_enhanced, summary_rows, usage_report_chunks
from ghsim.models import Org
from ghsim.usage import visible_range
from ghsim.usage_output import summary_items

bp = Blueprint("billing_api", __name__, url_prefix="/api/v3")

D_USAGE = "https://docs.github.com/rest/billing/usage#get-billing-usage-report-for-an-organization"
D_SUMMARY = (
    "https://docs.github.com/rest/billing/usage#get-billing-usage-summary-for-an-organization"
)
D_BUDGETS = "https://docs.github.com/rest/billing/budgets#get-all-budgets-for-an-organization"
ADMIN_READ = "organization_administration=read"
_RENDERED = RenderedReports()
OAUTH_DENIED = "Resource not accessible by OAuth app token"


def billing_access(org_login: str, doc: str, *, billing_manager_ok: bool) -> Org:
    """Resolve the org and apply the permission rules above; raises ApiError."""
    g.accepted_permissions = ADMIN_READ
    c = caller()
    st = state()
    if c.kind is None:
        raise ApiError(401, "Requires authentication", doc)
    org = st.org(org_login)
    if org is None:
        raise ApiError(404, "Not Found", doc)
    if c.kind == "jwt":
        raise ApiError(403, NOT_ACCESSIBLE, doc)
    if c.kind == "ghs":
        inst = c.installation
        if inst is None or inst.org_id != org.id or inst.suspended:
            raise ApiError(403, NOT_ACCESSIBLE, doc)
        if not c.token or c.token.permissions.get("organization_administration") is None:
            raise ApiError(403, NOT_ACCESSIBLE, doc)
        if st.org_refuses_installation_tokens(org):
            raise ApiError(403, NOT_ACCESSIBLE, doc)
        return org
    m = st.membership(org, c.user)
    if m is None or m.state != "active":
        raise ApiError(404, "Not Found", doc)
    if c.kind in pats.PAT_KINDS:
        pats.billing_access(c, org, m, billing_manager_ok=billing_manager_ok, doc=doc)
        return org
    role_ok = m.role == "admin" or (billing_manager_ok and m.role == "billing_manager")
    if c.kind == "gho":
        g.accepted_scopes = "admin:org" if billing_manager_ok else ""
        if billing_manager_ok and role_ok and "admin:org" in c.scopes:
            return org
        raise ApiError(403, OAUTH_DENIED, doc)
    inst = st.installation_for(org)
    if (
        not role_ok
        or inst is None
        or inst.suspended
        or not inst.grants("organization_administration")
    ):
        raise ApiError(403, NOT_ACCESSIBLE, doc)
    return org


def _period(doc: str, month_defaults: bool) -> tuple[date, date, dict[str, int]]:
    today = state().clock.today()
    year = int_arg("year", today.year, doc)
    month = int_arg("month", None, doc)
    day = int_arg("day", None, doc)
    if month is None and (month_defaults or day is not None):
        month = today.month
    assert year is not None
    if not 1000 <= year <= 9999:
        raise ApiError(400, "Invalid year: must be a four digit year", doc)
    if month is not None and not 1 <= month <= 12:
        raise ApiError(400, "Invalid month: must be between 1 and 12", doc)
    period: dict[str, int] = {"year": year}
    if month is None:
        return date(year, 1, 1), date(year, 12, 31), period
    period["month"] = month
    last = calendar.monthrange(year, month)[1]
    if day is None:
        return date(year, month, 1), date(year, month, last), period
    if not 1 <= day <= last:
        raise ApiError(400, "Invalid day: not a valid day of the given month", doc)
    period["day"] = day
    return date(year, month, day), date(year, month, day), period


@bp.get("/organizations/<org_login>/settings/billing/usage")
def billing_usage(org_login: str) -> ResponseReturnValue:
    st = state()
    with st.lock:
        org = billing_access(org_login, D_USAGE, billing_manager_ok=False)
        dialect = st.org_dialect(org)
        if not org.enhanced_billing:
            raise not_enhanced(dialect, D_USAGE)
        start, end, _ = _period(D_USAGE, month_defaults=False)
        span = visible_range(org, start, end, st.clock.today())
        plan = st.plan(org)
    # Streamed: a 1,000,000-item month is ~280 MB of JSON and is never held in memory
    # (unless SIM_USAGE_CACHE_MB asks for it).
    budget = st.config.usage_cache_bytes
    if budget > 0:
        body = _RENDERED.chunks(plan, span, dialect, budget)
    else:
        body = usage_report_chunks(plan, span, dialect)
    resp = Response(body, mimetype="application/json")
    resp.headers["Content-Type"] = "application/json; charset=utf-8"
    return resp


@bp.get("/organizations/<org_login>/settings/billing/usage/summary")
def billing_usage_summary(org_login: str) -> ResponseReturnValue:
    st = state()
    with st.lock:
        org = billing_access(org_login, D_SUMMARY, billing_manager_ok=False)
        dialect = st.org_dialect(org)
        if not org.enhanced_billing:
            raise not_enhanced(dialect, D_SUMMARY)
        start, end, period = _period(D_SUMMARY, month_defaults=True)
        span = visible_range(org, start, end, st.clock.today())
        plan = st.plan(org)
    args = {k: request.args.get(k) for k in ("repository", "product", "sku")}
    body: dict[str, object] = {"timePeriod": period, "organization": org.login}
    body.update({k: v for k, v in args.items() if v})
    body["usageItems"] = summary_rows(summary_items(plan, span, **args), dialect)
    return json_response(body)


@bp.get("/organizations/<org_login>/settings/billing/budgets")
def billing_budgets(org_login: str) -> ResponseReturnValue:
    st = state()
    scope = request.args.get("scope")
    user = request.args.get("user")
    with st.lock:
        org = billing_access(org_login, D_BUDGETS, billing_manager_ok=True)
        if not org.enhanced_billing:
            raise ApiError(404, "Not Found", D_BUDGETS)
        owners = [u.login for u in st.owners(org)]
        budgets = org_budgets(st.plan(org), owners, st.config.seed, org.budgets)
    if scope:
        budgets = [b for b in budgets if b["budget_scope"] == scope]
    page = max(1, int_arg("page", 1, D_BUDGETS) or 1)
    per_page = min(100, max(1, int_arg("per_page", 10, D_BUDGETS) or 10))
    chunk = budgets[(page - 1) * per_page : page * per_page]
    body: dict[str, object] = {
        "budgets": chunk,
        "has_next_page": page * per_page < len(budgets),
        "total_count": len(budgets),
    }
    if user:
        body["user"] = user
    return json_response(body)
