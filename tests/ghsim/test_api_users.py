"""Users, orgs and memberships: visibility rules of ghu_ vs gho_ vs ghs_ tokens."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from ghsim.tokens import random_token


def logins(resp) -> list[str]:
    return [o["login"] if "login" in o else o["organization"]["login"] for o in resp.json()]


def test_get_user_with_app_token_is_private_profile(api, token):
    resp = api.get("/user", token("olivia"))
    assert resp.status_code == 200
    body = resp.json()
    assert body["login"] == "olivia"
    assert body["id"] == 5550001
    assert body["user_view_type"] == "private"
    assert resp.headers["x-ratelimit-limit"] == "5000"
    assert resp.headers["x-ratelimit-resource"] == "core"
    assert resp.headers["x-github-request-id"]
    assert resp.headers["x-github-api-version-selected"] == "2022-11-28"
    assert "x-oauth-scopes" not in resp.headers


def test_get_user_with_classic_token_needs_user_scope_for_private_data(api, token):
    public = api.get("/user", token("mia", "oauth", scope="read:org"))
    assert public.json()["user_view_type"] == "public"
    assert public.headers["x-oauth-scopes"] == "read:org"
    private = api.get("/user", token("mia", "oauth", scope="user"))
    assert private.json()["user_view_type"] == "private"


def test_installation_token_and_jwt_are_refused_on_user_endpoints(api, sim):
    ghs = sim.control.installation_token("acme-corp")
    for path in ("/user", "/user/orgs", "/user/memberships/orgs", "/user/installations"):
        resp = api.get(path, ghs)
        assert resp.status_code == 403
        assert resp.json()["message"] == "Resource not accessible by integration"
        assert resp.json()["status"] == "403"


def test_unknown_and_missing_credentials(api):
    resp = api.get("/user", random_token("ghu_"))  # GitHub's shape; never issued
    assert resp.status_code == 401
    assert resp.json() == {
        "message": "Bad credentials",
        "documentation_url": "https://docs.github.com/rest",
        "status": "401",
    }
    assert resp.headers["x-ratelimit-limit"] == "60"
    anonymous = api.get("/user")
    assert anonymous.status_code == 401
    assert anonymous.json()["message"] == "Requires authentication"
    assert api.call("GET", "/user", headers={"Authorization": "token "}).status_code == 401


def test_app_user_token_only_sees_orgs_where_the_app_is_installed(api, token):
    ghu = token("olivia")
    assert logins(api.get("/user/orgs", ghu)) == ["acme-corp"]
    assert logins(api.get("/user/memberships/orgs", ghu)) == ["acme-corp"]
    assert api.get("/user/memberships/orgs/globex", ghu).status_code == 404
    assert api.get("/user/memberships/orgs/acme-corp", ghu).json()["role"] == "admin"


def test_classic_token_with_read_org_sees_every_org(api, token):
    gho = token("olivia", "oauth", scope="read:org")
    resp = api.get("/user/orgs", gho)
    assert logins(resp) == ["acme-corp", "globex"]
    assert resp.headers["x-oauth-scopes"] == "read:org"
    assert "read:org" in resp.headers["x-accepted-oauth-scopes"]
    assert logins(api.get("/user/memberships/orgs", gho)) == ["acme-corp", "globex"]
    assert api.get("/user/memberships/orgs/globex", gho).json()["role"] == "admin"


def test_classic_token_without_org_scope_gets_403(api, token):
    gho = token("olivia", "oauth", scope="gist")
    resp = api.get("/user/orgs", gho)
    assert resp.status_code == 403
    assert resp.headers["x-oauth-scopes"] == "gist"
    assert api.get("/user/memberships/orgs", gho).status_code == 403


def test_installing_the_app_widens_what_a_ghu_token_sees(api, sim, token):
    ghu = token("olivia")
    sim.control.install("globex")
    assert logins(api.get("/user/orgs", ghu)) == ["acme-corp", "globex"]
    inst = sim.control.state()["installations"]
    acme = next(i for i in inst if i["org"] == "acme-corp")
    sim.control.suspend(acme["id"])
    assert logins(api.get("/user/orgs", ghu)) == ["globex"]


def test_billing_manager_is_not_a_member_but_has_a_membership(api, token):
    bill = token("bill")
    assert logins(api.get("/user/orgs", bill)) == []
    memberships = api.get("/user/memberships/orgs", bill).json()
    assert [(m["organization"]["login"], m["role"]) for m in memberships] == [
        ("acme-corp", "billing_manager")
    ]
    gho = token("bill", "oauth", scope="read:org")
    roles = {
        m["organization"]["login"]: m["role"] for m in api.get("/user/memberships/orgs", gho).json()
    }
    assert roles == {"acme-corp": "billing_manager", "globex": "billing_manager"}


def test_membership_state_filter(api, sim, token):
    sim.control.set_membership("acme-corp", "nora", "member", state="pending")
    nora = token("nora")
    assert [m["state"] for m in api.get("/user/memberships/orgs", nora).json()] == ["pending"]
    assert api.get("/user/memberships/orgs?state=active", nora).json() == []
    assert len(api.get("/user/memberships/orgs?state=pending", nora).json()) == 1
    bad = api.get("/user/memberships/orgs?state=bogus", nora)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "state"


def test_stranger_has_no_orgs(api, token):
    assert api.get("/user/orgs", token("nora")).json() == []
    assert api.get("/user/memberships/orgs/acme-corp", token("charlie")).status_code == 404


def test_get_org_full_details_only_for_owners(api, token):
    owner = api.get("/orgs/acme-corp", token("olivia")).json()
    assert owner["billing_email"] and owner["total_private_repos"] == 25
    assert "plan" not in owner  # the App has no organization_plan permission
    member = api.get("/orgs/acme-corp", token("mia")).json()
    assert "billing_email" not in member
    anonymous = api.get("/orgs/acme-corp")
    assert anonymous.status_code == 200
    assert anonymous.headers["x-ratelimit-limit"] == "60"
    classic = api.get("/orgs/acme-corp", token("olivia", "oauth", scope="admin:org")).json()
    assert classic["plan"]["name"] == "enterprise"


def test_org_names_are_case_insensitive(api, token):
    assert api.get("/orgs/ACME-Corp", token("olivia")).json()["login"] == "acme-corp"
    resp = api.get("/organizations/Acme-CORP/settings/billing/budgets", token("olivia"))
    assert resp.status_code == 200
    assert api.get("/orgs/no-such-org").status_code == 404


def test_api_version_2026_drops_fields(api, token):
    headers = {"X-GitHub-Api-Version": "2026-03-10"}
    resp = api.get("/orgs/acme-corp", token("olivia"), headers=headers)
    assert resp.headers["x-github-api-version-selected"] == "2026-03-10"
    assert "secret_scanning_push_protection_custom_link_enabled" not in resp.json()
    assert "rate" not in api.get("/rate_limit", token("olivia"), headers=headers).json()
    bad = api.get("/user", token("olivia"), headers={"X-GitHub-Api-Version": "1999-01-01"})
    assert bad.status_code == 400


def test_members_public_only_unless_the_caller_can_see_private(api, sim, token):
    def members(tok=None, query=""):
        return [u["login"] for u in api.get(f"/orgs/acme-corp/members{query}", tok).json()]

    assert members() == ["olivia"]  # only public members, billing manager never listed
    assert members(token("nora")) == ["olivia"]
    assert members(token("mia")) == ["mia", "olivia"]
    assert members(token("olivia"), "?role=admin") == ["olivia"]
    assert members(token("olivia"), "?role=member") == ["mia"]
    assert members(token("bill")) == ["olivia"]
    assert members(token("olivia", "oauth", scope="read:org")) == ["mia", "olivia"]
    assert members(sim.control.installation_token("acme-corp")) == ["mia", "olivia"]
    assert api.get("/orgs/acme-corp/members?role=billing_manager").status_code == 422


def test_org_membership_for_a_user(api, sim, token):
    olivia = token("olivia")
    resp = api.get("/orgs/acme-corp/memberships/bill", olivia)
    assert resp.json()["role"] == "billing_manager"
    assert resp.headers["x-accepted-github-permissions"] == "members=read"
    assert api.get("/orgs/acme-corp/memberships/nora", olivia).status_code == 404
    assert api.get("/orgs/acme-corp/memberships/mia", token("nora")).status_code == 404
    assert api.get("/orgs/acme-corp/memberships/bill", token("bill")).status_code == 200
    ghs = sim.control.installation_token("acme-corp")
    assert api.get("/orgs/acme-corp/memberships/mia", ghs).json()["role"] == "member"
    sim.control.install("globex", permissions={"organization_administration": "read"})
    assert api.get("/orgs/globex/memberships/mia", olivia).status_code == 403


def test_user_installations(api, sim, token):
    body = api.get("/user/installations", token("mia")).json()
    assert body["total_count"] == 1
    assert body["installations"][0]["account"]["login"] == "acme-corp"
    assert api.get("/user/installations", token("nora")).json()["total_count"] == 0
    classic = api.get("/user/installations", token("olivia", "oauth", scope="read:org"))
    assert classic.status_code == 403


def test_pagination_link_headers(api, sim, token):
    for i in range(5):
        sim.control.create_org(f"org-{i}", members={"olivia": "admin"}, repos=1)
    gho = token("olivia", "oauth", scope="read:org")
    first = api.get("/user/orgs?per_page=2", gho)
    assert logins(first) == ["acme-corp", "globex"]
    links = parse_links(first.headers["Link"])
    assert set(links) == {"next", "last"}
    assert parse_qs(urlsplit(links["next"]).query) == {"per_page": ["2"], "page": ["2"]}
    assert parse_qs(urlsplit(links["last"]).query)["page"] == ["4"]
    middle = api.get("/user/orgs?per_page=2&page=2", gho)
    assert set(parse_links(middle.headers["Link"])) == {"prev", "next", "last", "first"}
    last = api.get("/user/orgs?per_page=2&page=4", gho)
    assert logins(last) == ["org-4"]
    assert set(parse_links(last.headers["Link"])) == {"prev", "first"}
    assert "Link" not in api.get("/user/orgs?per_page=100", gho).headers
    assert len(api.get("/user/orgs?per_page=1000", gho).json()) == 7  # capped at 100


def parse_links(header: str) -> dict[str, str]:
    out = {}
    for part in header.split(","):
        url, rel = part.split(";")
        out[rel.strip().removeprefix('rel="').removesuffix('"')] = url.strip()[1:-1]
    return out


@pytest.mark.parametrize("path", ["/no/such/endpoint", "/orgs/acme-corp/teams"])
def test_unknown_endpoints_are_github_404s(sim, path):
    import requests

    resp = requests.get(sim.api_url + path, timeout=10)
    assert resp.status_code == 404
    assert resp.json()["message"] == "Not Found"
