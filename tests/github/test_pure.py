"""Pure parts of the GitHub client: error classification rules, header parsing, URL
checks, backoff bounds, JWT claims, token sets. No network."""

import pickle
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given
from hypothesis import strategies as st

from billingdash import github
from billingdash.github import api_urls, errors, http
from billingdash.github.apps import app_jwt
from billingdash.github.errors import from_response, parse_accepted_permissions
from billingdash.github.oauth import TokenSet
from ghsim.tokens import random_token

NOW = 1_800_000_000.0


def classify(status, headers=None, body=b"", now=NOW):
    return from_response(status, headers or {}, body, method="GET", path="/x", now=now)


# --- error classification -------------------------------------------------------------


def test_status_classes():
    assert type(classify(400)) is github.BadRequest
    assert type(classify(401)) is github.Unauthorized
    assert type(classify(403)) is github.Forbidden
    assert type(classify(404)) is github.NotFound
    assert type(classify(422)) is github.Unprocessable
    assert type(classify(500)) is github.ServerError
    assert type(classify(503)) is github.ServerError
    assert type(classify(409)) is github.GitHubError
    assert type(classify(410)) is github.Gone  # a retired endpoint


def test_error_carries_github_fields():
    body = b'{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}'
    err = classify(401, {"X-GitHub-Request-Id": "AB:CD", "Set-Cookie": "s=1"}, body)
    assert err.status == 401
    assert err.message == "Bad credentials"
    assert err.documentation_url == "https://docs.github.com/rest"
    assert err.request_id == "AB:CD"
    assert "set-cookie" not in err.headers
    assert str(err) == "GitHub 401 GET /x: Bad credentials (request id AB:CD)"


def test_non_json_error_body_is_not_quoted():
    secret = random_token("ghu_")
    err = classify(502, body=f"<html>proxy error {secret}</html>".encode())
    assert err.message == "HTTP 502"
    assert secret not in str(err) + repr(err)


def test_unprocessable_errors_list():
    body = b'{"message": "Validation Failed", "errors": [{"code": "invalid"}]}'
    err = classify(422, body=body)
    assert err.errors == [{"code": "invalid"}]


def test_forbidden_permission_header():
    body = b'{"message": "Resource not accessible by integration"}'
    err = classify(
        403,
        {"X-Accepted-GitHub-Permissions": "organization_administration=read"},
        body,
    )
    assert type(err) is github.Forbidden
    assert err.message == "Resource not accessible by integration"
    assert err.accepted_permissions == [{"organization_administration": "read"}]
    assert err.accepted_permissions_header == "organization_administration=read"


def test_parse_accepted_permissions():
    assert parse_accepted_permissions(None) == []
    assert parse_accepted_permissions("") == []
    assert parse_accepted_permissions("repository_projects=write; organization_projects=admin") == [
        {"repository_projects": "write"},
        {"organization_projects": "admin"},
    ]
    assert parse_accepted_permissions("contents=read,metadata=read") == [
        {"contents": "read", "metadata": "read"}
    ]


@pytest.mark.parametrize("status", [403, 429])
def test_primary_rate_limit_waits_for_reset(status):
    headers = {
        "x-ratelimit-remaining": "0",
        "x-ratelimit-limit": "5000",
        "x-ratelimit-reset": str(int(NOW) + 120),
        "x-ratelimit-resource": "core",
    }
    err = classify(status, headers, b'{"message": "API rate limit exceeded for user ID 1."}')
    assert type(err) is github.RateLimited
    assert err.kind == "primary"
    assert err.retry_after == 121  # until the reset, plus one second
    assert err.reset_at == datetime.fromtimestamp(NOW + 121, tz=UTC)
    assert (err.remaining, err.limit, err.resource) == (0, 5000, "core")


def test_primary_rate_limit_reset_in_the_past():
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) - 10)}
    err = classify(403, headers)
    assert err.kind == "primary"
    assert err.retry_after == 1


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_rate_limit_with_retry_after(status):
    headers = {"retry-after": "37", "x-ratelimit-remaining": "4000"}
    err = classify(status, headers, b'{"message": "whatever"}')
    assert type(err) is github.RateLimited
    assert err.kind == "secondary"
    assert err.retry_after == 37


def test_secondary_rate_limit_by_message_without_headers():
    body = (
        b'{"message": "You have exceeded a secondary rate limit. Please wait a few minutes '
        b'before you try again."}'
    )
    err = classify(403, {"x-ratelimit-remaining": "4999"}, body)
    assert err.kind == "secondary"
    assert err.retry_after == errors.SECONDARY_LIMIT_FALLBACK_SECONDS


def test_secondary_limit_message_with_exhausted_budget_waits_for_reset():
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 600)}
    err = classify(403, headers, b'{"message": "You have exceeded a secondary rate limit."}')
    assert err.kind == "secondary"
    assert err.retry_after == 601


def test_old_abuse_message_is_secondary():
    err = classify(403, body=b'{"message": "You have triggered an abuse detection mechanism."}')
    assert err.kind == "secondary"


def test_retry_after_as_http_date():
    when = datetime.fromtimestamp(NOW + 90, tz=UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    err = classify(429, {"Retry-After": when})
    assert err.kind == "secondary"
    assert err.retry_after == 90


def test_bare_429_is_a_rate_limit():
    err = classify(429)
    assert type(err) is github.RateLimited
    assert err.retry_after == errors.SECONDARY_LIMIT_FALLBACK_SECONDS


def test_permission_403_with_budget_left_is_forbidden():
    headers = {"x-ratelimit-remaining": "4999", "x-accepted-github-permissions": "members=read"}
    err = classify(403, headers, b'{"message": "Resource not accessible by integration"}')
    assert type(err) is github.Forbidden


def test_errors_pickle_round_trip():
    err = classify(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW))})
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is github.RateLimited
    assert (again.kind, again.retry_after, again.status) == (err.kind, err.retry_after, 403)
    oauth = github.OAuthError("bad_refresh_token", error_description="expired", status=200)
    again = pickle.loads(pickle.dumps(oauth))
    assert (again.error, again.error_description, str(again)) == (
        "bad_refresh_token",
        "expired",
        str(oauth),
    )


# --- URLs and backoff -------------------------------------------------------------------


def test_api_urls_ghes_layout(settings):
    settings.GITHUB_API_URL = "https://ghe.example.com/api/v3"
    assert api_urls.api_url("/user") == "https://ghe.example.com/api/v3/user"
    assert api_urls.is_api_url("https://ghe.example.com/api/v3/user/orgs?page=2")
    assert api_urls.is_api_url("https://GHE.example.com/api/v3/user")
    assert not api_urls.is_api_url("https://ghe.example.com/user")  # outside the base path
    assert not api_urls.is_api_url("https://ghe.example.com/api/v30/user")
    assert not api_urls.is_api_url("http://ghe.example.com/api/v3/user")  # scheme downgrade
    assert not api_urls.is_api_url("https://ghe.example.com:8443/api/v3/user")
    assert not api_urls.is_api_url("https://evil.example/api/v3/user")
    with pytest.raises(ValueError):
        api_urls.api_url("https://evil.example/api/v3/user")
    with pytest.raises(ValueError):
        api_urls.api_url("user")


def test_api_urls_dotcom(settings):
    settings.GITHUB_API_URL = "https://api.github.com"
    assert api_urls.api_url("/app") == "https://api.github.com/app"
    assert api_urls.is_api_url("https://api.github.com/user/orgs?page=3")
    assert not api_urls.is_api_url("https://github.com/user/orgs")


def test_quote_segment():
    assert api_urls.quote_segment("acme-corp") == "acme-corp"
    assert api_urls.quote_segment("../app") == "..%2Fapp"
    assert api_urls.quote_segment("a b?c#d") == "a%20b%3Fc%23d"


@given(attempt=st.integers(min_value=1, max_value=60), base=st.floats(0, 10))
def test_backoff_full_jitter_bounds(attempt, base):
    delay = http.backoff_delay(attempt, base)
    assert 0 <= delay <= min(http.MAX_BACKOFF_SECONDS, base * 2 ** (attempt - 1))


def test_user_agent():
    assert http.user_agent().startswith("billingdash/")


# --- App JWT ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return pem, key.public_key()


def test_app_jwt_claims_with_client_id(settings, rsa_key):
    pem, public = rsa_key
    settings.GITHUB_APP_PRIVATE_KEY = pem
    settings.GITHUB_APP_CLIENT_ID = "Iv23liEXAMPLE"
    settings.GITHUB_APP_ID = "123456"
    before = int(time.time())
    token = app_jwt()
    claims = jwt.decode(token, public, algorithms=["RS256"], options={"verify_iat": False})
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert claims["iss"] == "Iv23liEXAMPLE"
    assert before - 60 <= claims["iat"] <= int(time.time()) - 60
    assert claims["exp"] - claims["iat"] == 9 * 60
    assert claims["exp"] - claims["iat"] <= 10 * 60


def test_app_jwt_falls_back_to_app_id_as_string(settings, rsa_key):
    pem, public = rsa_key
    settings.GITHUB_APP_PRIVATE_KEY = pem
    settings.GITHUB_APP_CLIENT_ID = ""
    settings.GITHUB_APP_ID = 123456  # even if configured as an int
    claims = jwt.decode(app_jwt(), public, algorithms=["RS256"], issuer="123456")
    assert claims["iss"] == "123456"
    assert isinstance(claims["iss"], str)


def test_app_jwt_needs_configuration(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.GITHUB_APP_PRIVATE_KEY = ""
    with pytest.raises(ImproperlyConfigured):
        app_jwt()


# --- token sets ------------------------------------------------------------------------


def test_token_set_from_github_app_response():
    issued = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    data = {
        "access_token": random_token("ghu_"),
        "expires_in": 28800,
        "refresh_token": random_token("ghr_", 76),
        "refresh_token_expires_in": 15897600,  # not 15811200: read, never assumed
        "scope": "",
        "token_type": "bearer",
    }
    tokens = TokenSet.from_response(data, issued_at=issued)
    assert tokens.expires_at == issued + timedelta(seconds=28800)
    assert tokens.refresh_token_expires_at == issued + timedelta(seconds=15897600)
    assert tokens.scopes == []
    assert "ghu_" not in repr(tokens) and "ghr_" not in repr(tokens)


def test_token_set_from_oauth_app_response():
    data = {"access_token": random_token("gho_"), "scope": "repo,gist"}
    tokens = TokenSet.from_response(data, issued_at=datetime.now(UTC))
    assert tokens.expires_at is None and tokens.refresh_token is None
    assert tokens.scopes == ["repo", "gist"]


def test_token_set_rejects_missing_token():
    with pytest.raises(github.MalformedResponse):
        TokenSet.from_response({"token_type": "bearer"}, issued_at=datetime.now(UTC))


def test_parse_json_keeps_decimals():
    import requests

    response = requests.Response()
    response.status_code = 200
    response._content = b'{"a": 0.1, "b": 3}'
    assert http.parse_json(response) == {"a": Decimal("0.1"), "b": 3}
