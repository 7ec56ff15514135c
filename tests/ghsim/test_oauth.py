"""The web flow: persona picker, code exchange (JSON and form), errors with HTTP 200, PKCE,
refresh-token single use, token expiry via the simulator clock."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from ghsim.reference import EXAMPLES
from tests.ghsim.helpers import CALLBACK


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def authorize(sim, client_id, login="olivia", **params):
    """Drive the persona picker like a browser; returns the redirect's query."""
    web = requests.Session()
    query = {"client_id": client_id, "redirect_uri": CALLBACK, "state": "st-123", **params}
    page = web.get(sim.web_url + "/login/oauth/authorize", params=query, timeout=10)
    assert page.status_code == 200
    form = {k: v for k, v in query.items() if v is not None}
    form["login"] = login
    resp = web.post(sim.web_url + "/login/oauth/authorize", data=form, allow_redirects=False)
    assert resp.status_code == 302
    return parse_qs(urlsplit(resp.headers["Location"]).query), resp


def exchange(sim, config, code, json_accept=True, client="app", **extra):
    client_id = config.app_client_id if client == "app" else config.oauth_client_id
    secret = config.app_client_secret if client == "app" else config.oauth_client_secret
    data = {"client_id": client_id, "client_secret": secret, "code": code, **extra}
    headers = {"Accept": "application/json"} if json_accept else {}
    resp = requests.post(sim.web_url + "/login/oauth/access_token", data=data, headers=headers)
    assert resp.status_code == 200  # GitHub answers errors with 200 too
    return resp.json() if json_accept else dict(parse_qs(resp.text))


def test_authorize_page_lists_every_persona_and_cancel(sim, config):
    page = requests.get(
        sim.web_url + "/login/oauth/authorize",
        params={"client_id": config.app_client_id, "redirect_uri": CALLBACK, "state": "s"},
    ).text
    for login in ("olivia", "bill", "mia", "nora", "oscar", "charlie"):
        assert re.search(rf"<button[^>]*name='login' value='{login}'[^>]*>[^<]*<code>{login}", page)
    assert ">Cancel</button>" in page


def test_code_exchange_gives_expiring_app_user_token(sim, config, api):
    query, resp = authorize(sim, config.app_client_id)
    assert resp.headers["Location"].startswith(CALLBACK)
    assert query["state"] == ["st-123"]
    assert "ghsim_user=olivia" in resp.headers["Set-Cookie"]
    body = exchange(sim, config, query["code"][0], redirect_uri=CALLBACK)
    constructed = example(
        "POST__login__oauth__access_token.200.github-app-expiring.CONSTRUCTED.json"
    )
    assert set(body) == set(constructed)
    assert body["access_token"].startswith("ghu_") and body["refresh_token"].startswith("ghr_")
    assert (body["expires_in"], body["refresh_token_expires_in"]) == (28800, 15811200)
    assert (body["scope"], body["token_type"]) == ("", "bearer")
    assert api.get("/user", body["access_token"]).json()["login"] == "olivia"


def test_form_encoded_answer_without_accept_json(sim, config):
    query, _ = authorize(sim, config.app_client_id, login="mia")
    body = exchange(sim, config, query["code"][0], json_accept=False)
    assert body["access_token"][0].startswith("ghu_")
    assert body["token_type"] == ["bearer"]


def test_codes_are_single_use_and_expire(sim, config):
    query, _ = authorize(sim, config.app_client_id)
    code = query["code"][0]
    assert "access_token" in exchange(sim, config, code)
    again = exchange(sim, config, code)
    documented = example("POST__login__oauth__access_token.error.bad_verification_code.json")
    assert again["error"] == "bad_verification_code"
    assert again["error_description"] == documented["error_description"]
    assert again["error_uri"].endswith(documented["error_uri"])
    query, _ = authorize(sim, config.app_client_id)
    sim.control.advance_clock(601)
    assert exchange(sim, config, query["code"][0])["error"] == "bad_verification_code"


def test_wrong_secret_and_wrong_redirect_uri(sim, config):
    query, _ = authorize(sim, config.app_client_id)
    bad = requests.post(
        sim.web_url + "/login/oauth/access_token",
        data={"client_id": config.app_client_id, "client_secret": "nope", "code": query["code"][0]},
        headers={"Accept": "application/json"},
    )
    assert bad.status_code == 200
    assert bad.json()["error"] == "incorrect_client_credentials"
    mismatch = exchange(sim, config, query["code"][0], redirect_uri=CALLBACK + "other")
    assert mismatch["error"] == "redirect_uri_mismatch"
    assert "access_token" in exchange(sim, config, query["code"][0], redirect_uri=CALLBACK)


def test_authorize_errors(sim, config):
    unknown = requests.get(sim.web_url + "/login/oauth/authorize?client_id=Iv23nope")
    assert unknown.status_code == 404
    resp = requests.get(
        sim.web_url + "/login/oauth/authorize",
        params={
            "client_id": config.app_client_id,
            "redirect_uri": "http://evil.test/",
            "state": "s",
        },
        allow_redirects=False,
    )
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith(CALLBACK)
    assert parse_qs(urlsplit(location).query)["error"] == ["redirect_uri_mismatch"]


def test_cancel_redirects_with_access_denied(sim, config):
    form = {
        "client_id": config.app_client_id,
        "redirect_uri": CALLBACK,
        "state": "xyz",
        "cancel": "1",
    }
    resp = requests.post(sim.web_url + "/login/oauth/authorize", data=form, allow_redirects=False)
    query = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["xyz"]
    assert query["error_description"]


def s256(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


def test_pkce_s256(sim, config):
    verifier = "v" * 50
    pkce = {"code_challenge": s256(verifier), "code_challenge_method": "S256"}
    query, _ = authorize(sim, config.app_client_id, **pkce)
    code = query["code"][0]
    assert exchange(sim, config, code)["error"] == "bad_verification_code"  # no verifier
    assert exchange(sim, config, code, code_verifier="w" * 50)["error"] == "bad_verification_code"
    assert "access_token" in exchange(sim, config, code, code_verifier=verifier)
    resp = requests.get(
        sim.web_url + "/login/oauth/authorize",
        params={
            "client_id": config.app_client_id,
            "redirect_uri": CALLBACK,
            "state": "s",
            "code_challenge": "abc",
            "code_challenge_method": "plain",
        },
        allow_redirects=False,
    )
    assert parse_qs(urlsplit(resp.headers["Location"]).query)["error"] == ["invalid_request"]


def test_refresh_token_is_single_use_and_kills_the_old_access_token(sim, config, api):
    query, _ = authorize(sim, config.app_client_id)
    first = exchange(sim, config, query["code"][0])
    refresh = {
        "client_id": config.app_client_id,
        "client_secret": config.app_client_secret,
        "grant_type": "refresh_token",
        "refresh_token": first["refresh_token"],
    }
    url = sim.web_url + "/login/oauth/access_token"
    second = requests.post(url, json=refresh, headers={"Accept": "application/json"}).json()
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert api.get("/user", first["access_token"]).status_code == 401
    assert api.get("/user", second["access_token"]).status_code == 200
    reused = requests.post(url, data=refresh, headers={"Accept": "application/json"})
    assert reused.status_code == 200
    assert reused.json()["error"] == "bad_refresh_token"


def test_unsupported_grant_type(sim, config):
    data = {
        "client_id": config.app_client_id,
        "client_secret": config.app_client_secret,
        "grant_type": "client_credentials",
    }
    resp = requests.post(
        sim.web_url + "/login/oauth/access_token", data=data, headers={"Accept": "application/json"}
    )
    assert resp.json()["error"] == "unsupported_grant_type"


def test_classic_oauth_app_token_has_scopes_and_no_expiry(sim, config, api):
    query, _ = authorize(sim, config.oauth_client_id, scope="read:org user")
    body = exchange(sim, config, query["code"][0], client="oauth")
    assert set(body) == {"access_token", "scope", "token_type"}
    assert body["access_token"].startswith("gho_")
    assert body["scope"] == "read:org,user"
    sim.control.advance_clock(365 * 86400)
    resp = api.get("/user/orgs", body["access_token"])
    assert resp.status_code == 200
    assert resp.headers["x-oauth-scopes"] == "read:org, user"


@pytest.mark.parametrize("seconds,status", [(28799, 200), (28801, 401)])
def test_app_user_tokens_expire_after_eight_hours(sim, api, token, seconds, status):
    ghu = token("olivia")
    sim.control.advance_clock(seconds)
    assert api.get("/user", ghu).status_code == status


def test_revoking_the_authorization_kills_user_tokens(sim, api, token):
    ghu = token("mia")
    other = token("olivia")
    assert sim.control.revoke("mia")["revoked_tokens"] == 1
    assert api.get("/user", ghu).status_code == 401
    assert api.get("/user", other).status_code == 200
