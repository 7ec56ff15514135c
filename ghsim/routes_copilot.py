"""REST API: Copilot usage (premium requests, AI credits) and Copilot seat assignments.

`GET /organizations/{org}/settings/billing/premium_request/usage` and
`.../ai_credit/usage`: same parameters and answer shape (GitHub's description):
`year`, `month` (default: the current month), `day`, and case-insensitive `user`,
`model`, `product` filters; `usageItems` aggregated per (product, SKU, model) with gross,
discount and net quantity and amount, no per-item user (ask with `user=` per person).
Same permission rules, 24-month window and creation-date clip as the usage report
(`billing_access`); an org without the enhanced billing platform gets the usage report's
400. Eras: premium requests are served for days from `COPILOT_REPORT_START` (1 Oct 2025)
to the day before `AI_CREDITS_START` (31 May 2026), AI credits from `AI_CREDITS_START`.
Outside its era an endpoint answers 200 with no `usageItems`, as for any period without
usage: the description promises a report for the period and lists no error for it.
Values follow GitHub's examples: product `Copilot`, SKU `Copilot Premium Request` /
`Copilot AI Credits`, unitType `requests` / `credits`.

`GET /orgs/{org}/copilot/billing/seats`: organization owners only; fine-grained tokens
need "GitHub Copilot Business" (`organization_copilot_seat_management`) read, classic
tokens `manage_billing:copilot` or `read:org`. `per_page` (default 50, max 100), `page`,
`Link`. An org without Copilot answers `total_seats: 0` and no seats.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import Blueprint, g, request
from flask.typing import ResponseReturnValue

from ghsim import catalog
from ghsim.apiutil import NOT_ACCESSIBLE, ApiError, caller, json_response, paginate, state
from ghsim.clock import iso
from ghsim.copilot import AI, MODELS, CopilotPlan, mix
from ghsim.dialects import not_enhanced
from ghsim.jsonutil import Raw
from ghsim.models import Org, User
from ghsim.people import People, people_of, synthetic_id
from ghsim.render import Urls, org_simple, user_simple
from ghsim.routes_billing import _period, billing_access
from ghsim.usage import visible_range

bp = Blueprint("copilot_api", __name__, url_prefix="/api/v3")

D_PREMIUM = (
    "https://docs.github.com/rest/billing/usage"
    "#get-billing-premium-request-usage-report-for-an-organization"
)
D_AI = "https://docs.github.com/rest/billing/usage#get-billing-ai-credit-usage-report-for-an-organization"
D_SEATS = (
    "https://docs.github.com/rest/copilot/copilot-user-management"
    "#list-all-copilot-seat-assignments-for-an-organization"
)
SEAT_PERMISSION = "organization_copilot_seat_management"
SEAT_SCOPES = ("manage_billing:copilot", "read:org")
#: (era, first day, last day, SKU as the endpoint prints it, unitType)
ERAS = {
    "premium": (
        "premium",
        catalog.COPILOT_REPORT_START,
        catalog.AI_CREDITS_START - timedelta(days=1),
        "Copilot Premium Request",
        "requests",
    ),
    AI: (AI, catalog.AI_CREDITS_START, date.max, "Copilot AI Credits", "credits"),
}


def _fq(units: int) -> Raw:
    return Raw(catalog.fmt_units(units, catalog.Q_DECIMALS))


def _fa(units: int) -> Raw:
    return Raw(catalog.fmt_units(units, catalog.A_DECIMALS))


def usage_items(
    plan: CopilotPlan | None,
    people: People,
    span: tuple[date, date] | None,
    era: str,
    user: str | None = None,
    model: str | None = None,
    product: str | None = None,
) -> list[dict[str, object]]:
    """The endpoint's `usageItems`: per model over `span` clipped to the era."""
    _era, first, last, sku_name, unit = ERAS[era]
    if plan is None or span is None or max(span[0], first) > min(span[1], last):
        return []
    if product is not None and product.strip().lower() != "copilot":
        return []
    seat = people.seat_index(user) if user is not None else None
    if user is not None and seat is None:
        return []
    wanted = model.strip().lower() if model is not None else None
    acc: dict[int, list[int]] = {}
    for _day, rows in plan.iter_billed(max(span[0], first), min(span[1], last)):
        for r in rows:
            if seat is not None and r.seat != seat:
                continue
            if wanted is not None and MODELS[r.model].name.lower() != wanted:
                continue
            a = acc.setdefault(r.model, [0, 0, 0, 0])
            a[0] += r.q
            a[1] += r.gross
            a[2] += r.dq
            a[3] += r.disc
    sku = catalog.COPILOT_AI_CREDIT if era == AI else catalog.COPILOT_PREMIUM
    price = Raw(catalog.fmt_units(sku.price_units(first), catalog.P_DECIMALS))
    items = []
    for m in sorted(acc, key=lambda m: MODELS[m].name):
        q, gross, dq, disc = acc[m]
        items.append(
            {
                "product": "Copilot",
                "sku": sku_name,
                "model": MODELS[m].name,
                "unitType": unit,
                "pricePerUnit": price,
                "grossQuantity": _fq(q),
                "grossAmount": _fa(gross),
                "discountQuantity": _fq(dq),
                "discountAmount": _fa(disc),
                "netQuantity": _fq(q - dq),
                "netAmount": _fa(gross - disc),
            }
        )
    return items


def _copilot_usage(org_login: str, doc: str, era: str) -> ResponseReturnValue:
    st = state()
    with st.lock:
        org = billing_access(org_login, doc, billing_manager_ok=False)
        if not org.enhanced_billing:
            raise not_enhanced(st.org_dialect(org), doc)
        start, end, period = _period(doc, month_defaults=True)
        span = visible_range(org, start, end, st.clock.today())
        plan = st.plan(org)
        people = people_of(st, org)
    filters = {k: request.args.get(k) for k in ("user", "model", "product")}
    body: dict[str, object] = {"timePeriod": period, "organization": org.login}
    body.update({k: v for k, v in filters.items() if v})
    body["usageItems"] = usage_items(
        plan.copilot, people, span, era, **{k: v or None for k, v in filters.items()}
    )
    return json_response(body)


@bp.get("/organizations/<org_login>/settings/billing/premium_request/usage")
def premium_request_usage(org_login: str) -> ResponseReturnValue:
    return _copilot_usage(org_login, D_PREMIUM, "premium")


@bp.get("/organizations/<org_login>/settings/billing/ai_credit/usage")
def ai_credit_usage(org_login: str) -> ResponseReturnValue:
    return _copilot_usage(org_login, D_AI, AI)


# -- seats ------------------------------------------------------------------------------------
def seat_access(org_login: str) -> Org:
    """Owners only; GitHub Copilot Business read for fine-grained tokens; raises ApiError."""
    g.accepted_permissions = f"{SEAT_PERMISSION}=read"
    c = caller()
    st = state()
    if c.kind is None:
        raise ApiError(401, "Requires authentication", D_SEATS)
    org = st.org(org_login)
    if org is None:
        raise ApiError(404, "Not Found", D_SEATS)
    if c.kind == "jwt":
        raise ApiError(403, NOT_ACCESSIBLE, D_SEATS)
    if c.kind == "ghs":
        inst = c.installation
        ok = inst is not None and inst.org_id == org.id and not inst.suspended
        if not ok or not c.token or c.token.permissions.get(SEAT_PERMISSION) is None:
            raise ApiError(403, NOT_ACCESSIBLE, D_SEATS)
        return org
    m = st.membership(org, c.user)
    if m is None or m.state != "active":
        raise ApiError(404, "Not Found", D_SEATS)
    if c.kind == "gho":
        g.accepted_scopes = ", ".join(SEAT_SCOPES)
        if m.role == "admin" and any(s in c.scopes for s in SEAT_SCOPES):
            return org
        raise ApiError(403, "Resource not accessible by OAuth app token", D_SEATS)
    inst = st.installation_for(org)
    if m.role != "admin" or inst is None or inst.suspended or not inst.grants(SEAT_PERMISSION):
        raise ApiError(403, NOT_ACCESSIBLE, D_SEATS)
    return org


def _at(day: date, h: int, now: datetime) -> datetime:
    """A deterministic time of day on `day`, never after now."""
    start = datetime.combine(day, time(0), UTC)
    seconds = int((now - start).total_seconds()) if day == now.date() else 86400
    return start + timedelta(seconds=(h >> 16) % max(1, seconds))


@bp.get("/orgs/<org_login>/copilot/billing/seats")
def copilot_seats(org_login: str) -> ResponseReturnValue:
    st = state()
    with st.lock:
        org = seat_access(org_login)
        plan = st.plan(org).copilot
        people = people_of(st, org)
        urls = st.urls()
        now = st.clock.now_dt()
        users = {n: st.user(n) for n in people.seats}
    seats = []
    if plan is not None:
        last = plan.last_activity(now.date())
        for seat in plan.profiles:
            login = people.seats[seat.index]
            user = users[login]
            h = mix(plan.seed, plan.org_id, seat.index, 10)
            created = min(now, org.created_at + timedelta(days=1 + 3 * seat.index, minutes=h % 600))
            if seat.index in last:
                active: datetime | None = _at(last[seat.index], h, now)
            elif seat.idle and seat.index % 10 == 3:
                active = None  # assigned, never used
            else:
                active = min(now, created + timedelta(days=2, hours=h % 7))
            account = (
                user_simple(urls, user) if user is not None else user_simple_synthetic(urls, login)
            )
            seats.append(
                {
                    "created_at": iso(created),
                    "updated_at": iso(created),
                    "pending_cancellation_date": None,
                    "last_activity_at": iso(active),
                    "last_activity_editor": seat.editor if active else None,
                    "last_authenticated_at": iso(active or created),
                    "plan_type": org.copilot_plan,
                    "assignee": account,
                    "organization": org_simple(urls, org),
                    "assigning_team": None,
                }
            )
    chunk, headers = paginate(seats, 50)
    return json_response({"total_seats": len(seats), "seats": chunk}, headers=headers)


def user_simple_synthetic(urls: Urls, login: str) -> dict:
    """simple-user of a synthetic seat holder (not a persona of the simulator)."""
    user = User(synthetic_id(login), login, login, None, datetime(2019, 3, 1, tzinfo=UTC))
    return user_simple(urls, user)
