"""The App installation pages: install, update, request, owner approval."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import requests

from tests.ghsim.helpers import SETUP


def browser(sim, login: str | None = None) -> requests.Session:
    web = requests.Session()
    if login:
        resp = web.post(sim.web_url + "/session", data={"login": login, "return_to": "/"})
        assert resp.status_code == 200
    return web


def setup_query(resp) -> dict[str, list[str]]:
    assert resp.status_code == 302, resp.text
    location = resp.headers["Location"]
    assert location.startswith(SETUP)
    return parse_qs(urlsplit(location).query)


def permissions_url(sim, org_id: int, state: str = "st-9") -> str:
    slug = sim.config.app_slug
    return (
        f"{sim.web_url}/apps/{slug}/installations/new/permissions?target_id={org_id}&state={state}"
    )


def test_signed_out_visitors_are_asked_to_sign_in(sim):
    web = browser(sim)
    resp = web.get(
        f"{sim.web_url}/apps/{sim.config.app_slug}/installations/new?state=abc",
        allow_redirects=False,
    )
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login?return_to=")
    page = web.get(sim.web_url + resp.headers["Location"]).text
    assert "name='login' value='olivia'" in page
    signed = web.post(
        sim.web_url + "/session",
        data={
            "login": "olivia",
            "return_to": f"/apps/{sim.config.app_slug}/installations/new?state=abc",
        },
    )
    assert "Acme Corp" in signed.text and "Globex Corporation" in signed.text


def test_owner_installs_then_updates(sim, receiver):
    web = browser(sim, "olivia")
    page = web.get(permissions_url(sim, 7770002)).text
    assert "organization_administration" in page and "members" in page
    assert re.search(r"<button[^>]*name='install'[^>]*>Install</button>", page)
    resp = web.post(
        permissions_url(sim, 7770002),
        data={"target_id": "7770002", "state": "st-9", "install": "1"},
        allow_redirects=False,
    )
    query = setup_query(resp)
    assert query["setup_action"] == ["install"] and query["state"] == ["st-9"]
    installation_id = int(query["installation_id"][0])
    sim.control.wait_for_deliveries()
    assert [(e, p["action"]) for e, p in receiver.events()] == [("installation", "created")]
    assert receiver.events()[0][1]["installation"]["id"] == installation_id
    assert receiver.events()[0][1]["sender"]["login"] == "olivia"
    again = web.post(
        permissions_url(sim, 7770002),
        data={"target_id": "7770002", "state": "x", "install": "1"},
        allow_redirects=False,
    )
    query = setup_query(again)
    assert query["setup_action"] == ["update"]
    assert query["installation_id"] == [str(installation_id)]


def test_non_owner_requests_and_owner_approves(sim, receiver):
    mia = browser(sim, "mia")
    page = mia.get(permissions_url(sim, 7770002)).text
    assert re.search(r"<button[^>]*name='request'[^>]*>Request</button>", page)
    resp = mia.post(
        permissions_url(sim, 7770002),
        data={"target_id": "7770002", "state": "r1", "request": "1"},
        allow_redirects=False,
    )
    query = setup_query(resp)
    assert query == {"setup_action": ["request"], "state": ["r1"]}
    [req] = sim.control.state()["install_requests"]
    assert (req["org"], req["requester"], req["status"]) == ("globex", "mia", "pending")
    assert mia.get(sim.web_url + "/organizations/globex/settings/installations").status_code == 404
    olivia = browser(sim, "olivia")
    settings = olivia.get(sim.web_url + "/organizations/globex/settings/installations").text
    assert "mia" in settings and ">Approve</button>" in settings
    approve = olivia.post(
        f"{sim.web_url}/organizations/globex/settings/installations/requests/{req['id']}/approve",
        allow_redirects=False,
    )
    assert approve.status_code == 302
    sim.control.wait_for_deliveries()
    [(event, payload)] = receiver.events()
    assert (event, payload["action"]) == ("installation", "created")
    assert payload["requester"]["login"] == "mia"
    assert payload["sender"]["login"] == "olivia"
    assert sim.control.state()["install_requests"][0]["status"] == "approved"


def test_owner_settings_page_suspends_and_uninstalls(sim, receiver):
    olivia = browser(sim, "olivia")
    base = sim.web_url + "/organizations/acme-corp/settings/installations"
    assert ">Suspend</button>" in olivia.get(base).text
    assert olivia.post(base + "/8880001/suspend", allow_redirects=False).status_code == 302
    assert olivia.post(base + "/8880001/delete", allow_redirects=False).status_code == 302
    sim.control.wait_for_deliveries()
    assert [p["action"] for _, p in receiver.events()] == ["suspend", "deleted"]


def test_strangers_and_unknown_targets_get_404(sim):
    nora = browser(sim, "nora")
    assert nora.get(permissions_url(sim, 7770001)).status_code == 404
    assert nora.get(permissions_url(sim, 123)).status_code == 404
    slug_404 = nora.get(sim.web_url + "/apps/other-app/installations/new")
    assert slug_404.status_code == 404


def test_install_pages_escape_untrusted_names(sim):
    sim.control.create_org("evil", name="<script>alert(1)</script>", members={"olivia": "admin"})
    page = (
        browser(sim, "olivia")
        .get(f"{sim.web_url}/apps/{sim.config.app_slug}/installations/new")
        .text
    )
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
