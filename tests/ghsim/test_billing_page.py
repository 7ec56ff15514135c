"""GitHub's billing usage page on the simulated github.com: who sees it, and the download."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
import requests

from tests.ghsim.csvcheck import parse

pytestmark = pytest.mark.dates
PAGE = "/organizations/{org}/settings/billing/usage"


def signed_in(sim, login: str) -> requests.Session:
    session = requests.Session()
    resp = session.post(sim.web_url + "/session", data={"login": login}, allow_redirects=False)
    assert resp.status_code == 302
    return session


def download_link(html: str) -> str:
    match = re.search(r"href='([^']*/usage/report\.csv\?[^']*)'", html)
    assert match, html
    return unescape(match.group(1))


@pytest.mark.parametrize(
    "login,status",
    [("olivia", 200), ("bill", 200), ("mia", 404), ("charlie", 404), ("nora", 404)],
)
def test_owners_and_billing_managers_only(sim, login, status):
    resp = signed_in(sim, login).get(sim.web_url + PAGE.format(org="acme-corp"), timeout=30)
    assert resp.status_code == status
    if status == 200:
        assert "Email me the report" in resp.text and "AI usage" in resp.text
        assert f"signed in as {login}" in resp.text
    else:
        assert "Email me the report" not in resp.text


def test_unknown_org_and_signed_out(sim):
    olivia = signed_in(sim, "olivia")
    assert olivia.get(sim.web_url + PAGE.format(org="no-such-org"), timeout=30).status_code == 404
    anonymous = requests.get(
        sim.web_url + PAGE.format(org="acme-corp"), allow_redirects=False, timeout=30
    )
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login?return_to=")


def test_download_link_gives_the_report_for_24_hours(sim):
    today = sim.state.clock.today()
    start = today - timedelta(days=6)
    bill = signed_in(sim, "bill")
    params = {"report": "detailed", "start": start.isoformat(), "end": today.isoformat()}
    page = bill.get(sim.web_url + PAGE.format(org="acme-corp"), params=params, timeout=30)
    assert page.status_code == 200
    assert "expires after 24 hours" in page.text and "bill@example.com" in page.text
    link = download_link(page.text)
    # Like GitHub's e-mailed link: no session needed, the very file of the control API.
    data = requests.get(sim.web_url + link, timeout=60)
    assert data.status_code == 200
    assert data.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in data.headers["Content-Disposition"]
    expected = sim.control.report("acme-corp", "detailed", start.isoformat(), today.isoformat())
    assert data.content == expected
    header, rows = parse(data.content)
    assert "workflow_path" in header and rows
    tampered = link.replace("kind=detailed", "kind=summarized")
    assert requests.get(sim.web_url + tampered, timeout=30).status_code == 404
    sim.control.advance_clock(24 * 3600 + 60)
    expired = requests.get(sim.web_url + link, timeout=30)
    assert expired.status_code == 410 and "expired" in expired.text


def test_ai_usage_form_and_bad_periods(sim):
    today = sim.state.clock.today()
    olivia = signed_in(sim, "olivia")
    url = sim.web_url + PAGE.format(org="acme-corp")
    params = {
        "report": "copilot",
        "start": (today - timedelta(days=3)).isoformat(),
        "end": today.isoformat(),
    }
    ok = olivia.get(url, params=params, timeout=30)
    assert ok.status_code == 200 and "AI usage report" in ok.text
    data = requests.get(sim.web_url + download_link(ok.text), timeout=60)
    header, _rows = parse(data.content)
    assert "model" in header and "username" in header
    too_long = dict(params, start=(today - timedelta(days=40)).isoformat())
    resp = olivia.get(url, params=too_long, timeout=30)
    assert (
        resp.status_code == 400 and "at most 31 days" in resp.text and "report.csv" not in resp.text
    )
    garbage = olivia.get(url, params=dict(params, start="soon"), timeout=30)
    assert garbage.status_code == 400 and "YYYY-MM-DD" in garbage.text


def test_org_without_enhanced_billing_has_no_reports(sim):
    oscar = signed_in(sim, "oscar")
    resp = oscar.get(sim.web_url + PAGE.format(org="initech"), timeout=30)
    assert resp.status_code == 200
    assert "enhanced billing platform" in resp.text and "Email me the report" not in resp.text


@pytest.mark.parametrize(
    "login,org,status,says",
    [
        ("oscar", "initech", 200, "not on the enhanced billing platform"),
        ("olivia", "acme-corp", 200, "is on the enhanced billing platform"),
        ("mia", "acme-corp", 404, ""),
    ],
)
def test_billing_settings_say_the_platform(sim, login, org, status, says):
    """Where billingdash sends the owner of an org GitHub serves no usage report for."""
    resp = signed_in(sim, login).get(f"{sim.web_url}/organizations/{org}/settings/billing")
    assert resp.status_code == status
    assert says.lower() in resp.text.lower()
