"""The App's webhook delivery log (`/app/hook/deliveries`), validated against GitHub's
description of it (app_hook_description.py), with real deliveries to a real receiver."""

from __future__ import annotations

import json
import socket
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.ghsim.helpers import make_jwt

LIST = "/app/hook/deliveries"


@pytest.fixture
def app_jwt(sim, config, private_key):
    return lambda: make_jwt(config, private_key, now=sim.state.clock.now())


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_deliveries(sim, users=("mia", "bill", "nora", "charlie")) -> None:
    """installation.created for globex, then one github_app_authorization per user."""
    sim.control.install("globex")
    for user in users:
        sim.control.revoke(user)
    sim.control.wait_for_deliveries()


def links(resp) -> dict[str, str]:
    out = {}
    for part in filter(None, (resp.headers.get("Link") or "").split(",")):
        url, rel = part.split(";")
        out[rel.strip().removeprefix('rel="').rstrip('"')] = url.strip()[1:-1]
    return out


def test_jwt_only(api, sim, token, app_jwt):
    assert api.get(LIST, app_jwt()).status_code == 200
    assert api.get(LIST, token("olivia")).status_code == 401
    assert api.get(LIST, sim.control.installation_token("acme-corp")).status_code == 401
    assert api.get(LIST).status_code == 401
    assert api.call("POST", f"{LIST}/1/attempts", token("olivia")).status_code == 401


def test_cursor_pagination_newest_first(api, sim, app_jwt, receiver):
    make_deliveries(sim)
    everything = api.get(LIST, app_jwt()).json()
    assert len(everything) == 5
    assert [d["id"] for d in everything] == sorted((d["id"] for d in everything), reverse=True)
    assert everything[-1]["event"] == "installation" and everything[-1]["action"] == "created"
    assert everything[0]["event"] == "github_app_authorization"
    assert all(d["status"] == "OK" and d["status_code"] == 200 for d in everything)
    assert all(not d["redelivery"] and d["throttled_at"] is None for d in everything)
    assert {d["guid"] for d in everything} == {h["X-GitHub-Delivery"] for h, _ in receiver.received}
    seen, pages, url = [], 0, f"{LIST}?per_page=2"
    first_links = None
    while url:
        resp = api.get(url, app_jwt())
        page_links = links(resp)
        first_links = first_links or page_links
        seen += resp.json()
        pages += 1
        url = page_links.get("next", "").split("/api/v3", 1)[-1] if "next" in page_links else ""
        if pages == 2:
            assert "prev" in page_links
            prev = parse_qs(urlsplit(page_links["prev"]).query)["cursor"][0]
            assert prev == f"v1_{everything[0]['id']}"
    assert pages == 3 and seen == everything
    assert "prev" not in first_links
    query = parse_qs(urlsplit(first_links["next"]).query)
    assert query == {"per_page": ["2"], "cursor": [f"v1_{everything[2]['id']}"]}
    # A delivery made meanwhile does not shift a cursor's page.
    sim.control.revoke("olivia")
    sim.control.wait_for_deliveries()
    again = api.get(f"{LIST}?per_page=2&cursor=v1_{everything[2]['id']}", app_jwt()).json()
    assert again == everything[2:4]
    assert api.get(f"{LIST}?cursor=bogus", app_jwt()).status_code == 400


def test_failed_deliveries_show_their_status_code(api, sim, app_jwt, receiver, closed_port):
    receiver.status = 503
    sim.control.install("globex")
    sim.control.wait_for_deliveries()
    sim.control.set_webhook_url(f"http://127.0.0.1:{closed_port}/hooks")
    sim.control.revoke("mia")
    sim.control.wait_for_deliveries()
    refused, unavailable = api.get(LIST, app_jwt()).json()
    assert (unavailable["status_code"], unavailable["status"]) == (
        503,
        "Invalid HTTP Response: 503",
    )
    assert (refused["status_code"], refused["status"]) == (0, "failed to connect to network")
    assert refused["event"] == "github_app_authorization"
    detail = api.get(f"{LIST}/{unavailable['id']}", app_jwt()).json()
    assert detail["response"]["payload"] == "boom"
    assert detail["url"] == receiver.url
    no_answer = api.get(f"{LIST}/{refused['id']}", app_jwt()).json()
    assert no_answer["response"] == {"headers": None, "payload": None}


def test_redelivery_really_arrives(api, sim, app_jwt, receiver):
    receiver.status = 500
    sim.control.install("globex")
    sim.control.wait_for_deliveries()
    [failed] = api.get(LIST, app_jwt()).json()
    assert failed["status"] != "OK"
    receiver.clear()  # the receiver is back (200)
    resp = api.call("POST", f"{LIST}/{failed['id']}/attempts", app_jwt())
    assert resp.status_code == 202 and resp.json() == {}
    sim.control.wait_for_deliveries()
    [(headers, body)] = receiver.received
    assert headers["X-GitHub-Delivery"] == failed["guid"]
    assert headers["X-GitHub-Event"] == "installation"
    newest, oldest = api.get(LIST, app_jwt()).json()
    assert oldest == failed
    assert newest["id"] > failed["id"] and newest["guid"] == failed["guid"]
    assert newest["redelivery"] and newest["status"] == "OK" and newest["status_code"] == 200
    assert api.get(f"{LIST}?redelivery=true", app_jwt()).json() == [newest]
    assert api.get(f"{LIST}?redelivery=false", app_jwt()).json() == [failed]
    detail = api.get(f"{LIST}/{newest['id']}", app_jwt()).json()
    assert detail["request"]["headers"]["X-GitHub-Delivery"] == failed["guid"]
    assert detail["request"]["payload"]["action"] == "created"
    assert detail["request"]["payload"] == json.loads(body)
    assert detail["response"]["payload"] == "ok"


def test_the_documented_redelivery_script_recovers_missed_webhooks(
    api, sim, app_jwt, receiver, closed_port
):
    """GitHub's example script: group by guid; a guid with no "OK" delivery is redelivered."""
    make_deliveries(sim, users=("mia",))
    sim.control.set_webhook_url(f"http://127.0.0.1:{closed_port}/down")  # receiver down
    sim.control.revoke("bill")
    sim.control.revoke("nora")
    sim.control.wait_for_deliveries()
    sim.control.set_webhook_url(receiver.url)  # and up again
    receiver.clear()

    def failed_ids() -> list[int]:
        by_guid: dict[str, list[dict]] = {}
        for d in api.get(f"{LIST}?per_page=100", app_jwt()).json():
            by_guid.setdefault(d["guid"], []).append(d)
        return [ds[0]["id"] for ds in by_guid.values() if not any(d["status"] == "OK" for d in ds)]

    missed = failed_ids()
    assert len(missed) == 2
    for delivery_id in missed:
        assert api.call("POST", f"{LIST}/{delivery_id}/attempts", app_jwt()).status_code == 202
    sim.control.wait_for_deliveries()
    assert sorted(b["sender"]["login"] for _, b in receiver.events()) == ["bill", "nora"]
    assert failed_ids() == []


def test_unknown_unsent_and_old_deliveries(api, sim, app_jwt, receiver):
    assert api.get(f"{LIST}/12345", app_jwt()).status_code == 404
    assert api.call("POST", f"{LIST}/12345/attempts", app_jwt()).status_code == 404
    sim.control.set_webhook_url(None)  # no webhook URL: GitHub makes no delivery
    sim.control.install("globex")
    sim.control.wait_for_deliveries()
    assert api.get(LIST, app_jwt()).json() == []
    assert sim.control.deliveries()  # still recorded by the simulator's own log
    sim.control.set_webhook_url(receiver.url)
    sim.control.revoke("mia")
    sim.control.wait_for_deliveries()
    [recent] = api.get(LIST, app_jwt()).json()
    sim.control.advance_clock(31 * 86400)  # the log keeps 30 days
    assert api.get(LIST, app_jwt()).json() == []
    assert api.get(f"{LIST}/{recent['id']}", app_jwt()).status_code == 404
