"""User tokens through the simulator's OAuth web flow: code exchange (with and without
PKCE), refresh, and the token endpoint's errors that come with HTTP 200."""

import base64
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured

from billingdash import github

CALLBACK = "http://testserver/auth/complete/github/"


def authorize(gh, client_id, login="olivia", **extra):
    """Play the browser: pick a persona on the simulator's authorize page, return the code."""
    form = {"client_id": client_id, "redirect_uri": CALLBACK, "state": "xyz", "login": login}
    form.update(extra)
    resp = requests.post(
        gh.web_url + "/login/oauth/authorize", data=form, allow_redirects=False, timeout=10
    )
    assert resp.status_code in (302, 303), resp.text[:500]
    query = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


def test_exchange_code_github_app(gh, settings):
    code = authorize(gh, settings.GITHUB_APP_CLIENT_ID)
    before = datetime.now(UTC)
    tokens = github.exchange_code(client="app", code=code, redirect_uri=CALLBACK)
    after = datetime.now(UTC)
    assert tokens.access_token.startswith("ghu_")
    assert tokens.refresh_token.startswith("ghr_")
    assert before + timedelta(seconds=28800) - timedelta(seconds=1) <= tokens.expires_at
    assert tokens.expires_at <= after + timedelta(seconds=28800)
    refresh_left = tokens.refresh_token_expires_at - before
    assert abs(refresh_left.total_seconds() - 15811200) < 5
    assert tokens.token_type == "bearer"
    assert github.get_authenticated_user(tokens.access_token)["login"] == "olivia"


def test_exchange_code_oauth_app(gh, settings):
    code = authorize(gh, settings.GITHUB_OAUTH_CLIENT_ID, login="bill", scope="read:org")
    tokens = github.exchange_code(client="oauth", code=code, redirect_uri=CALLBACK)
    assert tokens.access_token.startswith("gho_")
    assert tokens.refresh_token is None and tokens.expires_at is None
    assert tokens.scopes == ["read:org"]
    assert github.get_authenticated_user(tokens.access_token)["login"] == "bill"


def test_exchange_code_with_pkce(gh, settings):
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    extra = {"code_challenge": challenge, "code_challenge_method": "S256"}
    code = authorize(gh, settings.GITHUB_APP_CLIENT_ID, **extra)
    with pytest.raises(github.OAuthError) as info:
        github.exchange_code(
            client="app", code=code, redirect_uri=CALLBACK, code_verifier="wrong" * 10
        )
    assert info.value.error == "bad_verification_code"
    code = authorize(gh, settings.GITHUB_APP_CLIENT_ID, **extra)
    tokens = github.exchange_code(
        client="app", code=code, redirect_uri=CALLBACK, code_verifier=verifier
    )
    assert tokens.access_token.startswith("ghu_")


def test_bad_code_is_an_oauth_error_with_http_200(gh):
    with pytest.raises(github.OAuthError) as info:
        github.exchange_code(client="app", code="not-a-code", redirect_uri=CALLBACK)
    err = info.value
    assert err.status == 200
    assert err.error == "bad_verification_code"
    assert err.error_description == "The code passed is incorrect or expired."
    assert err.error_uri.startswith("https://docs.github.com/")
    assert "bad_verification_code" in str(err)


def test_code_works_once(gh, settings):
    code = authorize(gh, settings.GITHUB_APP_CLIENT_ID)
    github.exchange_code(client="app", code=code, redirect_uri=CALLBACK)
    with pytest.raises(github.OAuthError) as info:
        github.exchange_code(client="app", code=code, redirect_uri=CALLBACK)
    assert info.value.error == "bad_verification_code"


def test_redirect_uri_mismatch(gh, settings):
    code = authorize(gh, settings.GITHUB_APP_CLIENT_ID)
    with pytest.raises(github.OAuthError) as info:
        github.exchange_code(client="app", code=code, redirect_uri="http://elsewhere/cb")
    assert info.value.error == "redirect_uri_mismatch"


def test_incorrect_client_credentials(gh, settings):
    code = authorize(gh, settings.GITHUB_APP_CLIENT_ID)
    settings.GITHUB_APP_CLIENT_SECRET = "not-the-secret"
    with pytest.raises(github.OAuthError) as info:
        github.exchange_code(client="app", code=code, redirect_uri=CALLBACK)
    assert info.value.error == "incorrect_client_credentials"


def test_refresh_user_token(gh):
    issued = gh.control.issue_token("olivia", client="app")
    tokens = github.refresh_user_token(client="app", refresh_token=issued["refresh_token"])
    assert tokens.access_token != issued["access_token"]
    assert tokens.refresh_token != issued["refresh_token"]
    assert tokens.expires_at > datetime.now(UTC) + timedelta(hours=7)
    assert github.get_authenticated_user(tokens.access_token)["login"] == "olivia"
    # GitHub invalidates the old pair.
    with pytest.raises(github.Unauthorized):
        github.get_authenticated_user(issued["access_token"])
    with pytest.raises(github.OAuthError) as info:
        github.refresh_user_token(client="app", refresh_token=issued["refresh_token"])
    assert info.value.error == "bad_refresh_token"
    assert info.value.status == 200


def test_refresh_with_a_bad_token(gh):
    with pytest.raises(github.OAuthError) as info:
        github.refresh_user_token(client="app", refresh_token="ghr_nope")
    assert info.value.error == "bad_refresh_token"


def test_client_configuration(settings):
    settings.GITHUB_OAUTH_CLIENT_ID = ""
    with pytest.raises(ImproperlyConfigured):
        github.exchange_code(client="oauth", code="c", redirect_uri=CALLBACK)
    with pytest.raises(ValueError):
        github.exchange_code(client="other", code="c", redirect_uri=CALLBACK)
