"""GitHub's usage reports (CSV): the billing page of the web side and a control endpoint.

- `GET /organizations/<org>/settings/billing/usage` (HTML): GitHub's "Metered usage" and
  "AI usage" report forms, for a signed-in owner or billing manager of the org (anyone
  else: 404; not signed in: the sign-in page). GitHub e-mails a download link valid for
  24 hours; the simulator sends no e-mail and shows that link on the page instead.
- `GET /organizations/<org>/settings/billing/usage/report.csv?kind&start&end[&format]
  &expires&sig`: the download link. Like GitHub's signed link it needs no session; it
  works until `expires` (24 h of the simulator's clock) and only with its signature.
- `GET /_sim/orgs/<login>/reports/<summarized|detailed|copilot>.csv?start&end[&format]`:
  the same files for tests and benchmarks, no auth.

Periods: at most 366 days (summarized) or 31 days (detailed, Copilot), clipped like the
usage endpoint (not before the org existed or 24 months back, not after today). The
Copilot report starts on `COPILOT_REPORT_START` and uses the format in force on the
period's last day (`reports.copilot_format`), or `format=` (a key of `reports.FORMATS`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import date
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, request
from flask.typing import ResponseReturnValue

from ghsim import catalog, reports
from ghsim.apiutil import json_response, state
from ghsim.breakdown import Breakdown
from ghsim.clock import iso
from ghsim.dialects import NOT_ENHANCED
from ghsim.html import e, page
from ghsim.models import Org
from ghsim.people import people_of
from ghsim.routes_web import cookie_secret, signed_in
from ghsim.usage import HISTORY_MONTHS, visible_range

bp = Blueprint("reports", __name__)
LINK_SECONDS = 24 * 3600
KINDS = ("summarized", "detailed", "copilot")
TITLES = {
    "summarized": "Summarized usage report",
    "detailed": "Detailed usage report",
    "copilot": "AI usage report",
}


class ReportError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# -- the CSV -----------------------------------------------------------------------------
def parse_request(
    kind: str, start: str | None, end: str | None, fmt: str | None
) -> tuple[str, date, date, str]:
    """Validated (kind, start, end, format); raises ReportError with a clear message."""
    if kind not in KINDS:
        raise ReportError(f"Unknown report {kind!r}: use summarized, detailed or copilot.", 404)
    try:
        first = date.fromisoformat(start or "")
        last = date.fromisoformat(end or "")
    except ValueError:
        raise ReportError("start and end must be dates written YYYY-MM-DD.") from None
    if first > last:
        raise ReportError("The start date must not be after the end date.")
    if (last - first).days + 1 > reports.MAX_DAYS[kind]:
        raise ReportError(
            f"A {kind} report covers at most {reports.MAX_DAYS[kind]} days; "
            "choose a shorter period."
        )
    if kind == "copilot":
        fmt = fmt or reports.copilot_format(last)
        if fmt not in reports.FORMATS:
            names = ", ".join(reports.FORMATS)
            raise ReportError(f"Unknown Copilot report format {fmt!r}: use one of {names}.")
    elif fmt not in (None, "", kind):
        raise ReportError(f"The {kind} report has one format: leave out format=.")
    return kind, first, last, fmt or kind


def render(org: Org, kind: str, first: date, last: date, fmt: str) -> Iterator[bytes]:
    """The report's bytes as a stream (takes the state's lock only to read the world)."""
    st = state()
    with st.lock:
        if not org.enhanced_billing:
            raise ReportError(NOT_ENHANCED)
        span = visible_range(org, first, last, st.clock.today())
        plan = st.plan(org)
        people = people_of(st, org)
    if kind == "summarized":
        return reports.summarized_csv(plan, span)
    if kind == "detailed":
        return reports.detailed_csv(Breakdown(plan, people), span)
    return reports.copilot_csv(plan, people, span, fmt)


def csv_response(body: Iterator[bytes], filename: str) -> Response:
    resp = Response(body, mimetype="text/csv")
    resp.headers["Content-Type"] = "text/csv; charset=utf-8"
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


def filename(org: Org, kind: str, first: date, last: date) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in org.login)
    return f"{safe}_{kind}_usage_report_{first}_{last}.csv"


@bp.get("/_sim/orgs/<login>/reports/<kind>.csv")
def control_report(login: str, kind: str) -> ResponseReturnValue:
    try:
        args = request.args
        kind, first, last, fmt = parse_request(
            kind, args.get("start"), args.get("end"), args.get("format")
        )
        with state().lock:
            org = state().org(login)
        if org is None:
            raise ReportError(f"no org {login}", 404)
        return csv_response(render(org, kind, first, last, fmt), filename(org, kind, first, last))
    except ReportError as exc:
        return json_response({"error": str(exc)}, exc.status)


# -- the signed download link ----------------------------------------------------------------
def _signature(org_id: int, kind: str, first: date, last: date, fmt: str, expires: int) -> str:
    message = f"{org_id}|{kind}|{first}|{last}|{fmt}|{expires}".encode()
    return hmac.new(cookie_secret(), message, hashlib.sha256).hexdigest()


def download_url(org: Org, kind: str, first: date, last: date, fmt: str, now: float) -> str:
    expires = int(now) + LINK_SECONDS
    query = {"kind": kind, "start": first, "end": last, "format": fmt, "expires": expires}
    query["sig"] = _signature(org.id, kind, first, last, fmt, expires)
    return f"/organizations/{org.login}/settings/billing/usage/report.csv?{urlencode(query)}"


@bp.get("/organizations/<org_login>/settings/billing/usage/report.csv")
def download(org_login: str) -> ResponseReturnValue:
    st = state()
    args = request.args
    with st.lock:
        org = st.org(org_login)
        now = st.clock.now()
    try:
        kind, first, last, fmt = parse_request(
            args.get("kind", ""), args.get("start"), args.get("end"), args.get("format")
        )
        expires = int(args.get("expires", ""))
    except (ReportError, ValueError):
        return page("Not Found", "<h1>404</h1><p>This download link is not valid.</p>", 404)
    good = org is not None and hmac.compare_digest(
        _signature(org.id, kind, first, last, fmt, expires), args.get("sig", "")
    )
    if not good or org is None:
        return page("Not Found", "<h1>404</h1><p>This download link is not valid.</p>", 404)
    if now >= expires:
        again = f"/organizations/{e(org.login)}/settings/billing/usage"
        return page(
            "Link expired",
            "<h1>This download link has expired</h1><p>Report links are valid for 24 hours. "
            f"Request the report again on the <a href='{again}'>usage page</a>.</p>",
            410,
        )
    try:
        body = render(org, kind, first, last, fmt)
    except ReportError as exc:
        return page("Report unavailable", f"<p>{e(exc)}</p>", exc.status)
    return csv_response(body, filename(org, kind, first, last))


# -- the billing page -------------------------------------------------------------------------
def _page_org(org_login: str) -> tuple[Org | None, str | None, Response | None]:
    """(org, viewer's e-mail, early answer): owners and billing managers only."""
    who = signed_in()
    if who is None:
        target = request.full_path.rstrip("?")
        return None, None, redirect("/login?" + urlencode({"return_to": target}))
    st = state()
    with st.lock:
        org = st.org(org_login)
        user = st.user(who)
        m = st.membership(org, user) if org is not None else None
        if org is None or m is None or m.state != "active" or m.role == "member":
            body = "<h1>404</h1><p>This is not the web page you are looking for.</p>"
            return None, None, page("Not Found", body, 404, signed_in=who)
        return org, (user.email if user else None), None


@bp.get("/organizations/<org_login>/settings/billing")
def billing_settings_page(org_login: str) -> ResponseReturnValue:
    """GitHub's "Billing and licensing" overview: which billing platform the org is on
    (where billingdash sends an owner whose org is not on the enhanced platform)."""
    org, _, early = _page_org(org_login)
    if early is not None:
        return early
    assert org is not None
    if org.enhanced_billing:
        platform = (
            "<p>This organization is on the enhanced billing platform.</p>"
            f"<p><a href='/organizations/{e(org.login)}/settings/billing/usage'>Usage</a></p>"
        )
    else:
        platform = (
            "<p>This organization is not on the enhanced billing platform: its usage is "
            f"billed the older way. {e(NOT_ENHANCED)}</p>"
        )
    body = f"<h1>Billing and licensing · {e(org.name)}</h1>" + platform
    return page(f"Billing · {org.login}", body, signed_in=signed_in())


@bp.get("/organizations/<org_login>/settings/billing/usage")
def billing_usage_page(org_login: str) -> ResponseReturnValue:
    org, email, early = _page_org(org_login)
    if early is not None:
        return early
    assert org is not None
    st = state()
    with st.lock:
        today = st.clock.today()
        now = st.clock.now()
        enhanced = org.enhanced_billing
        available = visible_range(org, date.min, today, today)
    who = signed_in()
    title = f"Usage · {org.login}"
    if not enhanced or available is None:
        body = (
            f"<h1>Usage of {e(org.name)}</h1><p>{e(NOT_ENHANCED)} There are no usage reports "
            "to download for this organization.</p>"
        )
        return page(title, body, signed_in=who)
    notice, status = "", 200
    if "report" in request.args:
        try:
            kind, first, last, fmt = parse_request(
                request.args.get("report", ""),
                request.args.get("start"),
                request.args.get("end"),
                request.args.get("format"),
            )
            url = download_url(org, kind, first, last, fmt, now)
            notice = _ready(org, kind, first, last, available, url, email, now)
        except ReportError as exc:
            notice = f"<p class='flash' role='alert'>{e(exc)} Nothing was sent.</p>"
            status = 400
    first_of_month = today.replace(day=1)
    body = (
        f"<h1>Usage of {e(org.name)}</h1>"
        + notice
        + f"<p class='muted'>Usage from {available[0]} to {available[1]} can be reported "
        f"(GitHub keeps {HISTORY_MONTHS} months; dates are UTC).</p>"
        + "<h2>Metered usage</h2>"
        + _form(org, ("summarized", "detailed"), first_of_month, today)
        + "<h2>AI usage</h2>"
        + f"<p>Copilot premium requests (from {catalog.COPILOT_REPORT_START} to "
        f"{_day_before(catalog.AI_CREDITS_START)}) and AI credits (from "
        f"{catalog.AI_CREDITS_START}) per user and model, at most 31 days.</p>"
        + _form(org, ("copilot",), first_of_month, today)
    )
    return page(title, body, status, signed_in=who)


def _form(org: Org, kinds: tuple[str, ...], first: date, last: date) -> str:
    action = f"/organizations/{e(org.login)}/settings/billing/usage"
    if len(kinds) == 1:
        choice = f"<input type='hidden' name='report' value='{kinds[0]}'>"
    else:
        options = "".join(
            f"<option value='{k}'>{TITLES[k]} (up to {reports.MAX_DAYS[k]} days)</option>"
            for k in kinds
        )
        choice = f"<p><label>Report <select name='report'>{options}</select></label></p>"
    return (
        f"<form method='get' action='{action}'>{choice}"
        f"<p><label>From <input type='date' name='start' value='{first}' required></label> "
        f"<label>to <input type='date' name='end' value='{last}' required></label></p>"
        "<p><button type='submit' class='primary'>Email me the report</button></p></form>"
    )


def _ready(
    org: Org,
    kind: str,
    first: date,
    last: date,
    available: tuple[date, date],
    url: str,
    email: str | None,
    now: float,
) -> str:
    covered = (max(first, available[0]), min(last, available[1]))
    scope = (
        f"It covers {covered[0]} to {covered[1]}."
        if covered[0] <= covered[1]
        else "There is no usage in that period, so the file has only its header line."
    )
    to = f" to {e(email)}" if email else ""
    until = iso(now + LINK_SECONDS) or ""
    return (
        f"<div class='flash' role='status'><p><strong>{TITLES[kind]}</strong> for "
        f"{e(org.login)}, {first} to {last}. {scope}</p>"
        f"<p>GitHub e-mails a download link{to} that expires after 24 hours; the simulator "
        f"sends no e-mail. Download the file now: <a href='{e(url)}'>"
        f"{e(filename(org, kind, first, last))}</a> (link valid until {until}).</p></div>"
    )


def _day_before(day: date) -> date:
    return date.fromordinal(day.toordinal() - 1)
