"""Personal access tokens (ghsim/pats.py) and billing endpoints that refuse installation
tokens: who gets what, with GitHub's headers."""

from __future__ import annotations

import re

import pytest
import requests

USAGE = "/organizations/{org}/settings/billing/usage?day=1"
SUMMARY = "/organizations/{org}/settings/billing/usage/summary"
BUDGETS = "/organizations/{org}/settings/billing/budgets"
ADMIN_READ = {"organization_administration": "read"}


@pytest.fixture
def pat(sim):
    """pat("olivia", scope="admin:org") -> a classic ghp_; pat(..., kind="fine_grained_pat",
    resource_owner="acme-corp", permissions={...}) -> a github_pat_."""

    def issue(user: str, kind: str = "classic_pat", **options) -> str:
        return sim.control.issue_pat(user, kind, **options)["token"]

    return issue


def test_formats_and_control_answers(sim):
    classic = sim.control.issue_pat("olivia", scope="admin:org, read:org", expires_in=86400)
    assert re.fullmatch(r"ghp_[A-Za-z0-9]{36}", classic["token"])
    assert classic["scopes"] == ["admin:org", "read:org"]
    assert classic["token_type"] == "classic_pat" and classic["expires_at"].endswith("Z")
    fine = sim.control.issue_pat(
        "olivia", "fine_grained_pat", resource_owner="acme-corp", permissions=ADMIN_READ
    )
    assert re.fullmatch(r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}", fine["token"])
    assert (fine["resource_owner"], fine["permissions"], fine["expires_at"]) == (
        "acme-corp",
        ADMIN_READ,
        None,
    )
    for bad in (
        {"client": "fine_grained_pat"},  # no resource owner
        {"client": "fine_grained_pat", "resource_owner": "nope"},
        {"client": "fine_grained_pat", "resource_owner": "acme-corp", "permissions": {"x": "y"}},
        {"client": "classic_pat", "expires_in": "soon"},
    ):
        resp = requests.post(sim.web_url + "/_sim/tokens", json={"user": "olivia", **bad})
        assert resp.status_code == 400, bad


def test_get_user_with_pats_and_their_headers(api, pat):
    classic = api.get("/user", pat("olivia", scope="read:org,user", expires_in=3600))
    assert classic.status_code == 200 and classic.json()["login"] == "olivia"
    assert classic.headers["x-oauth-scopes"] == "read:org, user"
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC",
        classic.headers["github-authentication-token-expiration"],
    )
    forever = api.get("/user", pat("olivia", scope=""))
    assert "github-authentication-token-expiration" not in forever.headers
    assert forever.json()["user_view_type"] == "public"  # no `user` scope
    fine = api.get(
        "/user",
        pat("olivia", "fine_grained_pat", resource_owner="acme-corp", expires_in=60),
    )
    assert fine.status_code == 200 and "x-oauth-scopes" not in fine.headers
    assert "github-authentication-token-expiration" in fine.headers


def test_expired_and_revoked_pats_are_bad_credentials(api, sim, pat):
    short = pat("olivia", scope="admin:org", expires_in=60)
    revoked = pat("olivia", "fine_grained_pat", resource_owner="acme-corp", permissions=ADMIN_READ)
    assert api.get("/user", short).status_code == 200
    sim.control.revoke_token(revoked)
    sim.control.advance_clock(61)
    for token in (short, revoked):
        for path in ("/user", USAGE.format(org="acme-corp")):
            resp = api.get(path, token)
            assert resp.status_code == 401 and resp.json()["message"] == "Bad credentials"


@pytest.mark.parametrize(
    "user,scope,usage,budgets",
    [
        ("olivia", "admin:org", 200, 200),
        ("olivia", "read:org", 403, 403),
        ("olivia", "manage_billing:enterprise", 403, 403),
        ("bill", "admin:org", 403, 200),  # billing managers: budgets only
        ("mia", "admin:org", 403, 403),
        ("charlie", "admin:org", 404, 404),
    ],
)
def test_classic_pats_on_billing(api, pat, user, scope, usage, budgets):
    token = pat(user, scope=scope)
    for path, status in ((USAGE, usage), (SUMMARY, usage), (BUDGETS, budgets)):
        resp = api.get(path.format(org="acme-corp"), token)
        assert resp.status_code == status, (path, resp.text)
        if status == 403:
            assert resp.json()["message"] == "Resource not accessible by personal access token"
            assert resp.headers["x-accepted-oauth-scopes"] == "admin:org"


@pytest.mark.parametrize(
    "user,owner,permissions,usage,budgets",
    [
        ("olivia", "acme-corp", ADMIN_READ, 200, 200),
        ("olivia", "acme-corp", {"organization_administration": "write"}, 200, 200),
        ("olivia", "acme-corp", {"members": "read"}, 403, 403),
        ("olivia", "globex", ADMIN_READ, 403, 403),  # bound to another org
        ("bill", "acme-corp", ADMIN_READ, 403, 200),
        ("mia", "acme-corp", ADMIN_READ, 403, 403),
        ("nora", "acme-corp", ADMIN_READ, 404, 404),
    ],
)
def test_fine_grained_pats_on_billing(api, pat, user, owner, permissions, usage, budgets):
    token = pat(user, "fine_grained_pat", resource_owner=owner, permissions=permissions)
    for path, status in ((USAGE, usage), (SUMMARY, usage), (BUDGETS, budgets)):
        resp = api.get(path.format(org="acme-corp"), token)
        assert resp.status_code == status, (path, resp.text)
        if status == 403:
            assert resp.headers["x-accepted-github-permissions"] == (
                "organization_administration=read"
            )


def test_pats_work_without_the_app(api, sim, pat):
    """A PAT does not depend on the App: globex (App not installed) answers an owner's PAT."""
    classic = pat("olivia", scope="admin:org")
    assert api.get(USAGE.format(org="globex"), classic).status_code == 200
    fine = pat("olivia", "fine_grained_pat", resource_owner="globex", permissions=ADMIN_READ)
    assert api.get(SUMMARY.format(org="globex"), fine).status_code == 200


def test_fine_grained_pats_elsewhere(api, pat):
    token = pat("olivia", "fine_grained_pat", resource_owner="acme-corp", permissions=ADMIN_READ)
    orgs = api.get("/user/orgs", token)
    assert orgs.status_code == 200 and orgs.json() == []  # GitHub's documented answer
    assert api.get("/orgs/acme-corp", token).status_code == 200
    assert api.get("/rate_limit", token).status_code == 200
    denied = api.get("/user/memberships/orgs", token)
    assert denied.status_code == 403
    assert denied.json()["message"] == "Resource not accessible by personal access token"


def test_classic_pats_elsewhere_follow_the_oauth_rules(api, pat):
    assert api.get("/user/orgs", pat("olivia", scope="")).status_code == 403
    listed = api.get("/user/orgs", pat("olivia", scope="read:org")).json()
    assert {o["login"] for o in listed} == {"acme-corp", "globex"}
    full = api.get("/orgs/acme-corp", pat("olivia", scope="admin:org")).json()
    assert "plan" in full


# -- billing endpoints refusing installation tokens ---------------------------------------
def test_org_refuses_installation_tokens(api, sim, token):
    ghs = sim.control.installation_token("acme-corp")
    assert api.get(USAGE.format(org="acme-corp"), ghs).status_code == 200
    info = sim.control.refuse_installation_tokens("acme-corp")
    assert info["refuses_installation_tokens"] is True
    for path in (USAGE, SUMMARY, BUDGETS):
        resp = api.get(path.format(org="acme-corp"), ghs)
        assert resp.status_code == 403
        assert resp.json()["message"] == "Resource not accessible by integration"
        assert resp.headers["x-accepted-github-permissions"] == "organization_administration=read"
        # The owner's GitHub App user token keeps working.
        assert api.get(path.format(org="acme-corp"), token("olivia")).status_code == 200
    assert api.get("/orgs/acme-corp/members", ghs).status_code == 200  # billing only
    sim.control.refuse_installation_tokens("acme-corp", None)  # back to the world's default
    assert api.get(USAGE.format(org="acme-corp"), ghs).status_code == 200


def test_world_refuses_installation_tokens(api, sim):
    sim.control.install("globex")
    acme, globex = (sim.control.installation_token(o) for o in ("acme-corp", "globex"))
    assert sim.control.set_billing_defaults(refuses_installation_tokens=True)[
        "refuses_installation_tokens"
    ]
    assert api.get(SUMMARY.format(org="acme-corp"), acme).status_code == 403
    assert api.get(SUMMARY.format(org="globex"), globex).status_code == 403
    sim.control.refuse_installation_tokens("globex", False)  # an org may differ
    assert api.get(SUMMARY.format(org="globex"), globex).status_code == 200
    sim.control.reset(seed=7)  # the switches go with the world
    assert sim.control.state()["orgs"][0]["refuses_installation_tokens"] is False
    bad = requests.post(sim.web_url + "/_sim/orgs/acme-corp/installation-tokens", json={})
    assert bad.status_code == 400
