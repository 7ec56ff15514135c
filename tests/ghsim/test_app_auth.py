"""Authenticating as the App (RS256 JWT, GitHub's rules) and installation tokens."""

from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.ghsim.helpers import make_jwt

ACME_INSTALLATION = 8880001


@pytest.fixture
def app_jwt(config, private_key):
    return make_jwt(config, private_key)


def test_get_app_and_installations(api, app_jwt, config):
    app = api.get("/app", app_jwt).json()
    assert (app["id"], app["slug"], app["client_id"]) == (
        config.app_id,
        config.app_slug,
        config.app_client_id,
    )
    assert app["permissions"] == {"organization_administration": "read", "members": "read"}
    installations = api.get("/app/installations", app_jwt).json()
    assert [i["id"] for i in installations] == [ACME_INSTALLATION]
    assert installations[0]["account"]["login"] == "acme-corp"
    assert installations[0]["target_type"] == "Organization"
    one = api.get(f"/app/installations/{ACME_INSTALLATION}", app_jwt).json()
    assert one == installations[0]
    assert api.get("/orgs/acme-corp/installation", app_jwt).json()["id"] == ACME_INSTALLATION
    assert api.get("/orgs/globex/installation", app_jwt).status_code == 404
    assert api.get("/app/installations/1", app_jwt).status_code == 404


def test_iss_may_be_client_id_or_app_id(api, config, private_key):
    for iss in (config.app_client_id, str(config.app_id), config.app_id):
        assert api.get("/app", make_jwt(config, private_key, iss=iss)).status_code == 200
    wrong = api.get("/app", make_jwt(config, private_key, iss="Iv23someone"))
    assert wrong.status_code == 401
    assert wrong.json()["message"] == "Integration not found"


@pytest.mark.parametrize(
    "offsets,message",
    [
        ({"exp": -10}, "'Expiration time' claim ('exp') must be a numeric"),
        ({"exp": 1200}, "'Expiration time' claim ('exp') is too far in"),
        ({"iat": -60, "exp": 600}, "is too far in the future"),
        ({"iat": 300, "exp": 500}, "'Issued at' claim"),
        ({"iat": None}, "'Issued at' claim"),
    ],
)
def test_jwt_rules(api, config, private_key, offsets, message):
    # Offsets from now, taken when the test runs (not when pytest collects it: a long
    # suite would otherwise turn "300 s in the future" into the past).
    now = int(time.time())
    claims = {k: None if v is None else now + v for k, v in offsets.items()}
    resp = api.get("/app", make_jwt(config, private_key, **claims))
    assert resp.status_code == 401
    assert message in resp.json()["message"]


def test_small_clock_drift_is_tolerated(api, config, private_key):
    now = int(time.time())
    assert api.get("/app", make_jwt(config, private_key, iat=now + 30, exp=now + 300)).ok


def test_jwt_follows_the_simulator_clock(api, sim, config, private_key):
    sim.control.advance_clock(3600)
    assert api.get("/app", make_jwt(config, private_key)).status_code == 401
    assert api.get("/app", make_jwt(config, private_key, now=time.time() + 3600)).ok


def test_jwt_signed_with_another_key_is_rejected(api, config):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    resp = api.get("/app", make_jwt(config, pem))
    assert resp.status_code == 401
    assert resp.json()["message"] == "A JSON web token could not be decoded"
    garbage = api.get("/app", "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOjF9.bm9wZQ")
    assert garbage.status_code == 401


def test_only_jwts_on_app_endpoints(api, token, app_jwt):
    resp = api.get("/app", token("olivia"))
    assert resp.status_code == 401
    assert resp.json()["message"] == "A JSON web token could not be decoded"
    assert api.get("/app/installations").status_code == 401
    assert api.get("/user", app_jwt).status_code == 403


def test_installation_token(api, app_jwt, sim):
    resp = api.call("POST", f"/app/installations/{ACME_INSTALLATION}/access_tokens", app_jwt)
    assert resp.status_code == 201
    body = resp.json()
    assert body["token"].startswith("ghs_")
    assert body["permissions"] == {"organization_administration": "read", "members": "read"}
    assert body["repository_selection"] == "all"
    assert "repositories" not in body
    usage = "/organizations/acme-corp/settings/billing/usage?day=1"
    assert api.get(usage, body["token"]).status_code == 200
    sim.control.advance_clock(3500)
    assert api.get("/orgs/acme-corp/members", body["token"]).status_code == 200
    sim.control.advance_clock(101)
    assert api.get("/orgs/acme-corp/members", body["token"]).status_code == 401


def test_permissions_may_only_narrow(api, app_jwt):
    path = f"/app/installations/{ACME_INSTALLATION}/access_tokens"
    narrow = api.call("POST", path, app_jwt, json={"permissions": {"members": "read"}})
    assert narrow.status_code == 201
    assert narrow.json()["permissions"] == {"members": "read"}
    denied = api.get("/organizations/acme-corp/settings/billing/usage", narrow.json()["token"])
    assert denied.status_code == 403
    for perms in ({"members": "write"}, {"contents": "read"}):
        wider = api.call("POST", path, app_jwt, json={"permissions": perms})
        assert wider.status_code == 422
        assert (
            wider.json()["message"]
            == "The permissions requested are not granted to this installation."
        )


def test_repositories_in_the_request(api, app_jwt):
    path = f"/app/installations/{ACME_INSTALLATION}/access_tokens"
    resp = api.call("POST", path, app_jwt, json={"repositories": ["api", "web"]})
    assert resp.status_code == 201
    assert resp.json()["repository_selection"] == "selected"
    assert [r["full_name"] for r in resp.json()["repositories"]] == [
        "acme-corp/api",
        "acme-corp/web",
    ]
    missing = api.call("POST", path, app_jwt, json={"repositories": ["nope"]})
    assert missing.status_code == 422
    broken = api.call(
        "POST", path, app_jwt, data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400


def test_suspended_and_unknown_installations(api, app_jwt, sim):
    sim.control.suspend(ACME_INSTALLATION)
    path = f"/app/installations/{ACME_INSTALLATION}/access_tokens"
    resp = api.call("POST", path, app_jwt)
    assert resp.status_code == 403
    assert resp.json()["message"] == "This installation has been suspended"
    listed = api.get(f"/app/installations/{ACME_INSTALLATION}", app_jwt).json()
    assert listed["suspended_at"] and listed["suspended_by"]["login"] == "olivia"
    assert api.call("POST", "/app/installations/42/access_tokens", app_jwt).status_code == 404


def test_revoke_installation_token(api, sim, token):
    ghs = sim.control.installation_token("acme-corp")
    assert api.call("DELETE", "/installation/token", ghs).status_code == 204
    assert api.get("/orgs/acme-corp/members", ghs).status_code == 401
    assert api.call("DELETE", "/installation/token", token("olivia")).status_code == 403


def test_uninstall_kills_installation_tokens(api, sim):
    ghs = sim.control.installation_token("acme-corp")
    sim.control.uninstall(ACME_INSTALLATION)
    assert api.get("/orgs/acme-corp/members", ghs).status_code == 401


def test_app_installations_pagination_and_since(api, sim, app_jwt):
    for i in range(3):
        sim.control.create_org(f"paged-{i}", repos=1, installed=True)
    page = api.get("/app/installations?per_page=3", app_jwt)
    assert len(page.json()) == 3 and 'rel="next"' in page.headers["Link"]
    assert len(api.get("/app/installations?per_page=3&page=2", app_jwt).json()) == 1
    future = api.get("/app/installations?since=2999-01-01T00:00:00Z", app_jwt)
    assert future.json() == []


def test_rate_limit_endpoint_is_not_counted(api, token, app_jwt):
    ghu = token("olivia")
    api.get("/user", ghu)
    before = api.get("/rate_limit", ghu).json()["resources"]["core"]
    after = api.get("/rate_limit", ghu).json()
    assert after["resources"]["core"]["used"] == before["used"] == 1
    assert after["rate"] == after["resources"]["core"]
    assert api.get("/rate_limit", app_jwt).json()["resources"]["core"]["limit"] == 5000
