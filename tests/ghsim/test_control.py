"""The control API, the HTML control page, config loading and the demo world's ids."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests

from ghsim.config import ConfigError, SimConfig
from ghsim.testing import SimulatorServer

pytestmark = pytest.mark.dates


def test_demo_world_ids(sim):
    state = sim.control.state()
    users = {u["login"]: u["id"] for u in state["users"]}
    assert users == {
        "olivia": 5550001,
        "bill": 5550002,
        "mia": 5550003,
        "nora": 5550004,
        "oscar": 5550005,
        "charlie": 5550006,
    }
    orgs = {o["login"]: o for o in state["orgs"]}
    assert {k: v["id"] for k, v in orgs.items()} == {
        "acme-corp": 7770001,
        "globex": 7770002,
        "initech": 7770003,
    }
    assert orgs["acme-corp"]["installation_id"] == 8880001
    assert orgs["globex"]["installation_id"] is None
    assert not orgs["initech"]["enhanced_billing"]
    assert (orgs["acme-corp"]["repos"], orgs["globex"]["repos"]) == (25, 12)
    roles = {m["login"]: m["role"] for m in orgs["acme-corp"]["members"]}
    assert roles == {"olivia": "admin", "bill": "billing_manager", "mia": "member"}


def test_requests_log(api, sim, token):
    sim.control.clear_requests()
    ghu = token("olivia")
    api.get("/user", ghu)
    api.get("/orgs/acme-corp/members?per_page=5", sim.control.installation_token("acme-corp"))
    api.get("/user", "ghu_bogus")
    log = sim.control.requests_log()
    assert [(r["api_path"], r["status"], r["token_kind"], r["subject"]) for r in log] == [
        ("/user", 200, "ghu", "olivia"),
        ("/orgs/acme-corp/members", 200, "ghs", "8880001"),
        ("/user", 401, "ghu", None),
    ]
    assert log[1]["query"] == {"per_page": "5"}
    assert sim.control.requests_log(since=log[1]["seq"]) == log[2:]
    requests.get(sim.web_url + "/login")
    assert sim.control.requests_log(since=log[2]["seq"])[0]["kind"] == "web"
    sim.control.clear_requests()
    assert sim.control.requests_log() == []


def test_clock_controls_today(api, sim, token):
    # The 10th of last month, 20:00: the world is built around it (reset now=), so the
    # usage of that month ends that day, then the next once the clock passes midnight.
    tenth = (sim.state.clock.today().replace(day=1) - timedelta(days=1)).replace(day=10)
    sim.control.reset(seed=7, now=f"{tenth}T20:00:00Z")
    ghu = token("olivia")
    query = f"?year={tenth.year}&month={tenth.month}"
    items = api.get("/organizations/acme-corp/settings/billing/usage" + query, ghu).json()
    assert max(i["date"] for i in items["usageItems"]) == f"{tenth}T00:00:00Z"
    sim.control.advance_clock(5 * 3600)  # the ghu_ token lives 8 hours
    items = api.get("/organizations/acme-corp/settings/billing/usage" + query, ghu).json()
    assert max(i["date"] for i in items["usageItems"]) == f"{tenth + timedelta(days=1)}T00:00:00Z"


def test_world_changes(api, sim, token):
    created = sim.state.clock.today() - timedelta(days=40)
    sim.control.create_user("dave", "Dave Dev")
    sim.control.create_org(
        "newco",
        name="NewCo",
        repos=4,
        skus_per_repo=2,
        members={"dave": "admin"},
        enhanced_billing=True,
        created=str(created),
    )
    inst = sim.control.install("newco")
    dave = token("dave")
    assert [o["login"] for o in api.get("/user/orgs", dave).json()] == ["newco"]
    day = f"?year={created.year}&month={created.month}&day={created.day}"
    usage = api.get("/organizations/newco/settings/billing/usage" + day, dave)
    assert usage.ok and usage.json()["usageItems"]
    sim.control.rename_org("newco", "newco-2")
    assert api.get("/orgs/newco").status_code == 404
    assert api.get("/orgs/newco-2").json()["id"] == inst["org_id"]
    with pytest.raises(RuntimeError, match="409"):
        sim.control.create_org("acme-corp")
    with pytest.raises(RuntimeError, match="404"):
        sim.control.set_membership("acme-corp", "nobody", "member")


def test_approve_request_via_control(sim):
    resp = requests.post(sim.web_url + "/_sim/install-requests/99/approve", json={})
    assert resp.status_code == 404


def test_control_page_renders_and_acts(sim):
    web = requests.Session()
    page = web.get(sim.web_url + "/_sim/").text
    for text in ("olivia", "acme-corp", "Globex Corporation", "Install App", "Uninstall"):
        assert text in page
    resp = web.post(
        sim.web_url + "/_sim/ui", data={"op": "install", "org": "globex"}, allow_redirects=False
    )
    assert resp.status_code == 302
    orgs = {o["login"]: o for o in sim.control.state()["orgs"]}
    assert orgs["globex"]["installation_id"] is not None
    web.post(
        sim.web_url + "/_sim/ui",
        data={"op": "fault", "kind": "status", "path": "^/user$", "status": "500"},
    )
    assert sim.control.faults()[0]["status"] == 500
    web.post(sim.web_url + "/_sim/ui", data={"op": "clear_faults"})
    assert sim.control.faults() == []


def test_catalog(sim):
    catalog = requests.get(sim.web_url + "/_sim/catalog").json()
    linux = next(c for c in catalog if c["sku"] == "actions_linux")
    assert linux["name"] == "Actions Linux" and linux["unitType"] == "Minutes"
    assert [p["pricePerUnit"] for p in linux["prices"]] == ["0.008", "0.006"]


def test_generate_config_makes_fresh_keys():
    (a, key_a), (b, key_b) = SimConfig.generate(), SimConfig.generate()
    assert key_a != key_b and a.app_client_secret != b.app_client_secret
    assert re.fullmatch(r"Iv23li[A-Za-z0-9]{14}", a.app_client_id)
    assert "PUBLIC KEY" in a.app_public_key_pem
    assert "PRIVATE" not in repr(a)  # the simulator never holds the private key


def test_config_from_env(tmp_path):
    config, private_key = SimConfig.generate()
    env = {
        "GITHUB_APP_ID": "77",
        "GITHUB_APP_SLUG": "my-app",
        "GITHUB_APP_CLIENT_ID": "Iv23abc",
        "GITHUB_APP_CLIENT_SECRET": "s3cret",
        "GITHUB_APP_PRIVATE_KEY": private_key.replace("\n", "\\n"),
        "GITHUB_WEBHOOK_SECRET": "whsec",
        "GITHUB_OAUTH_CLIENT_ID": "Ov23abc",
        "GITHUB_OAUTH_CLIENT_SECRET": "oauth-secret",
        "SIM_WEBHOOK_URL": "http://127.0.0.1:9/hooks",
        "SIM_SETUP_URL": "http://127.0.0.1:9/setup",
        "SIM_CALLBACK_URLS": "http://a/cb, http://b/cb",
        "SIM_SEED": "5",
        "SIM_USAGE_CACHE_MB": "1.5",
    }
    loaded = SimConfig.from_env(env)
    assert (loaded.app_id, loaded.app_slug, loaded.seed) == (77, "my-app", 5)
    assert loaded.usage_cache_bytes == 1_500_000
    assert loaded.app_public_key_pem == config.app_public_key_pem
    assert loaded.callback_urls == ["http://a/cb", "http://b/cb"]
    assert loaded.oauth_client_id == "Ov23abc"
    key_file = tmp_path / "key.pem"
    key_file.write_text(private_key)
    env.pop("GITHUB_APP_PRIVATE_KEY")
    env["GITHUB_APP_PRIVATE_KEY_PATH"] = str(key_file)
    assert SimConfig.from_env(env).app_public_key_pem == config.app_public_key_pem
    with pytest.raises(ConfigError, match="GITHUB_APP_ID"):
        SimConfig.from_env({k: v for k, v in env.items() if k != "GITHUB_APP_ID"})


def test_server_is_a_context_manager_and_a_long_lived_object():
    with SimulatorServer() as sim:
        assert requests.get(sim.web_url + "/_sim/state").ok
        assert sim.private_key_pem
    server = SimulatorServer().start()
    try:
        assert requests.get(server.api_url + "/orgs/acme-corp").json()["login"] == "acme-corp"
    finally:
        server.stop()


def test_date_header_follows_the_simulator_clock(sim):
    from datetime import datetime
    from email.utils import parsedate_to_datetime

    sim.control.set_clock("2030-01-02T03:04:05Z")
    expected = datetime.fromisoformat("2030-01-02T03:04:05+00:00").timestamp()
    for url in (sim.api_url + "/orgs/acme-corp", sim.web_url + "/login"):
        date = parsedate_to_datetime(requests.get(url).headers["Date"])
        assert abs(date.timestamp() - expected) < 5
