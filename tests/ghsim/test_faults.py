"""Injected faults: each kind, path/method matching, counts, and rate limits."""

from __future__ import annotations

import json
import time

import pytest
import requests

USAGE = "/organizations/acme-corp/settings/billing/usage"


def test_status_fault_with_count(api, sim, token):
    ghu = token("olivia")
    fault_id = sim.control.fault("status", f"^{USAGE}$", status=502, count=1)
    first = api.get(USAGE + "?day=1", ghu)
    assert first.status_code == 502
    assert first.json()["status"] == "502"
    assert first.headers["x-ratelimit-remaining"]
    assert api.get(USAGE + "?day=1", ghu).status_code == 200
    listed = {f["id"]: f for f in sim.control.faults()}
    assert listed[fault_id]["hits"] == 1 and listed[fault_id]["remaining"] == 0


def test_path_regex_and_method_filters(api, sim, token):
    ghu = token("olivia")
    sim.control.fault("status", "^/user/orgs$", status=503, method="POST")
    assert api.get("/user/orgs", ghu).status_code == 200
    sim.control.fault("status", "^/user/orgs$", status=503, method="GET")
    assert api.get("/user/orgs", ghu).status_code == 503
    assert api.get("/user", ghu).status_code == 200
    sim.control.clear_faults()
    assert sim.control.faults() == []
    assert api.get("/user/orgs", ghu).status_code == 200


def test_latency_fault(api, sim, token):
    ghu = token("olivia")
    sim.control.fault("latency", "^/user$", latency_ms=300, count=1)
    started = time.monotonic()
    assert api.get("/user", ghu).status_code == 200
    assert time.monotonic() - started >= 0.3  # a lower bound only


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_rate_limit(api, sim, token, status):
    ghu = token("olivia")
    sim.control.fault("secondary_rate_limit", "^/user$", retry_after=7, status=status, count=1)
    resp = api.get("/user", ghu)
    assert resp.status_code == status
    assert resp.headers["retry-after"] == "7"
    assert resp.json()["message"].startswith("You have exceeded a secondary rate limit")
    assert int(resp.headers["x-ratelimit-remaining"]) > 0
    assert api.get("/user", ghu).status_code == 200


def test_primary_rate_limit_lasts_until_reset(api, sim, token):
    ghu = token("olivia")
    sim.control.fault("primary_rate_limit", "^/user$", reset_in=120, count=1)
    resp = api.get("/user", ghu)
    assert resp.status_code == 403
    assert resp.headers["x-ratelimit-remaining"] == "0"
    reset = int(resp.headers["x-ratelimit-reset"])
    assert reset - time.time() > 100
    assert resp.json()["message"] == "API rate limit exceeded for user ID 5550001."
    # The whole identity is out of budget until the reset, not just that path.
    assert api.get("/user/orgs", ghu).status_code == 403
    assert api.get("/user", token("mia")).status_code == 200
    sim.control.advance_clock(121)
    again = api.get("/user/orgs", ghu)
    assert again.status_code == 200
    assert again.headers["x-ratelimit-remaining"] == "4999"


def test_real_primary_rate_limit_for_anonymous_callers(api):
    for _ in range(60):
        assert api.get("/orgs/acme-corp").status_code == 200
    resp = api.get("/orgs/acme-corp")
    assert resp.status_code == 403
    assert resp.headers["x-ratelimit-remaining"] == "0"
    assert "API rate limit exceeded for 127.0.0.1" in resp.json()["message"]


def test_malformed_json_fault(sim, token):
    ghu = token("olivia")
    sim.control.fault("malformed_json", "^/user$", count=1)
    resp = requests.get(sim.api_url + "/user", headers={"Authorization": f"Bearer {ghu}"})
    assert resp.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(resp.content)


def test_malformed_json_breaks_inside_the_usage_items(sim, token):
    ghu = token("olivia")
    sim.control.fault("malformed_json", f"^{USAGE}$", count=2)
    headers = {"Authorization": f"Bearer {ghu}"}
    for query in ("?month=11", "?year=2030"):  # with items, and with none
        resp = requests.get(sim.api_url + USAGE + query, headers=headers)
        assert resp.status_code == 200
        assert resp.content.startswith(b'{"usageItems":[{"date":')
        with pytest.raises(json.JSONDecodeError):
            json.loads(resp.content)


@pytest.mark.parametrize("path", [USAGE + "?month=11", "/user"])
def test_truncated_fault_drops_the_connection(sim, token, path):
    ghu = token("olivia")
    sim.control.fault("truncated", "^" + path.split("?")[0] + "$", count=1)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(sim.api_url + path, headers={"Authorization": f"Bearer {ghu}"}, timeout=30)
    ok = requests.get(sim.api_url + path, headers={"Authorization": f"Bearer {ghu}"})
    assert ok.status_code == 200


def test_bad_fault_specs_are_rejected(sim):
    for spec in ({"kind": "nope"}, {"kind": "status", "path": "("}):
        resp = requests.post(sim.web_url + "/_sim/faults", json=spec)
        assert resp.status_code == 400
