"""The transport against the simulator over real HTTP: typed errors, retries, rate limits,
pagination, call accounting."""

import time

import pytest

from billingdash import github
from billingdash.github import http

pytestmark = pytest.mark.django_db


def _statuses(log, path):
    return [r["status"] for r in log if r["api_path"] == path]


# --- typed errors from real responses ---------------------------------------------------


def test_bad_token_is_unauthorized(gh):
    with pytest.raises(github.Unauthorized) as info:
        github.get_authenticated_user("ghu_not_a_real_token_at_all")
    err = info.value
    assert err.status == 401
    assert err.message == "Bad credentials"
    assert err.documentation_url
    assert err.request_id and err.request_id == err.headers["x-github-request-id"]
    assert err.path == "/api/v3/user" and err.method == "GET"


def test_unknown_org_is_not_found(gh, user_token):
    with pytest.raises(github.NotFound) as info:
        github.get_org(user_token("olivia"), "no-such-org")
    assert info.value.status == 404


def test_member_gets_forbidden_with_permission_header(gh, user_token):
    with pytest.raises(github.Forbidden) as info:
        list(github.iter_billing_usage(user_token("mia"), "acme-corp", year=2026, month=1))
    err = info.value
    assert err.message == "Resource not accessible by integration"
    assert err.accepted_permissions == [{"organization_administration": "read"}]
    assert not isinstance(err, github.RateLimited)


def test_org_without_enhanced_billing_is_bad_request(gh, user_token):
    # GitHub's description documents a 400 (the simulator's "documented" dialect) ...
    gh.control.set_dialect("initech", "documented")
    gh.control.install("initech")
    with pytest.raises(github.BadRequest):
        github.get_billing_usage_summary(user_token("oscar"), "initech", year=2026, month=1)


def test_org_without_enhanced_billing_is_not_found_as_observed(gh, user_token):
    # ... while the real GitHub answers 404 (the "observed" dialect, initech's default).
    gh.control.install("initech")
    with pytest.raises(github.NotFound) as info:
        github.get_billing_usage_summary(user_token("oscar"), "initech", year=2026, month=1)
    assert info.value.message == "Not Found"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, github.BadRequest),
        (401, github.Unauthorized),
        (403, github.Forbidden),
        (404, github.NotFound),
        (422, github.Unprocessable),
        (409, github.GitHubError),
    ],
)
def test_4xx_are_typed_and_never_retried(gh, user_token, api_log, status, cls):
    token = user_token("olivia")
    gh.control.fault("status", r"^/user$", status=status, count=5)
    with github.track_calls() as stats, pytest.raises(cls) as info:
        github.get_authenticated_user(token)
    assert type(info.value) is cls
    assert info.value.status == status
    assert stats.calls == 1
    assert _statuses(api_log(), "/user") == [status]


def test_api_version_header(gh, user_token, settings):
    token = user_token("olivia")
    settings.GITHUB_API_VERSION = "2026-03-10"
    response = http.request("GET", "/user", token=token)
    assert response.headers["x-github-api-version-selected"] == "2026-03-10"
    settings.GITHUB_API_VERSION = "1999-01-01"
    with pytest.raises(github.BadRequest) as info:
        github.get_authenticated_user(token)
    assert "not supported" in info.value.message


# --- retries ---------------------------------------------------------------------------


def test_5xx_are_retried_then_succeed(gh, user_token, api_log):
    token = user_token("olivia")
    gh.control.fault("status", r"^/user$", status=502, count=2)
    with github.track_calls() as stats:
        user = github.get_authenticated_user(token)
    assert user["login"] == "olivia"
    assert stats.calls == 3
    assert _statuses(api_log(), "/user") == [502, 502, 200]


def test_retries_are_bounded(gh, user_token, api_log, settings):
    token = user_token("olivia")
    settings.GITHUB_HTTP_MAX_ATTEMPTS = 4
    gh.control.fault("status", r"^/user$", status=503)
    with github.track_calls() as stats, pytest.raises(github.ServerError) as info:
        github.get_authenticated_user(token)
    assert info.value.status == 503
    assert stats.calls == 4
    assert _statuses(api_log(), "/user") == [503] * 4


def test_single_attempt_setting(gh, user_token, api_log, settings):
    token = user_token("olivia")
    settings.GITHUB_HTTP_MAX_ATTEMPTS = 1
    gh.control.fault("status", r"^/user$", status=500, count=1)
    with pytest.raises(github.ServerError):
        github.get_authenticated_user(token)
    assert _statuses(api_log(), "/user") == [500]


def test_read_timeout_is_retried(gh, user_token, api_log, settings):
    token = user_token("olivia")
    settings.GITHUB_HTTP_READ_TIMEOUT = 0.3
    gh.control.fault("latency", r"^/user$", latency_ms=1500, count=1)
    with github.track_calls() as stats:
        assert github.get_authenticated_user(token)["login"] == "olivia"
    assert stats.calls == 2


def test_timeouts_exhausted_raise_network_error(gh, user_token, settings):
    token = user_token("olivia")
    settings.GITHUB_HTTP_READ_TIMEOUT = 0.2
    settings.GITHUB_HTTP_MAX_ATTEMPTS = 2
    gh.control.fault("latency", r"^/user$", latency_ms=1000, count=2)
    with pytest.raises(github.NetworkError) as info:
        github.get_authenticated_user(token)
    assert "timed out" in str(info.value)
    assert info.value.status is None


def test_connection_refused_is_network_error(settings, closed_port):
    settings.GITHUB_API_URL = f"http://127.0.0.1:{closed_port}/api/v3"
    settings.GITHUB_HTTP_MAX_ATTEMPTS = 3
    settings.GITHUB_HTTP_BACKOFF_SECONDS = 0.01
    with github.track_calls() as stats, pytest.raises(github.NetworkError) as info:
        github.get_authenticated_user("ghu_token_for_a_closed_port")
    assert stats.calls == 3
    assert "connection failed" in str(info.value)
    assert info.value.path == "/api/v3/user"


def test_non_idempotent_post_is_not_resent_after_5xx(gh, api_log):
    # A POST GitHub may have acted on is not sent twice (the OAuth code and refresh
    # exchanges work once); creating an installation token opts in (idempotent=True).
    gh.control.fault("status", r"^/anything$", method="POST", status=502)
    with pytest.raises(github.ServerError):
        http.request("POST", "/anything", token="ghu_x", json={})
    assert _statuses(api_log(), "/anything") == [502]
    with pytest.raises(github.ServerError):
        http.request("POST", "/anything", token="ghu_x", json={}, idempotent=True)
    assert _statuses(api_log(), "/anything") == [502] * 4


def test_post_is_retried_when_never_sent(settings, closed_port):
    settings.GITHUB_WEB_URL = f"http://127.0.0.1:{closed_port}"
    settings.GITHUB_APP_CLIENT_ID, settings.GITHUB_APP_CLIENT_SECRET = "Iv23liX", "secret"
    settings.GITHUB_HTTP_MAX_ATTEMPTS = 3
    settings.GITHUB_HTTP_BACKOFF_SECONDS = 0.01
    with github.track_calls() as stats, pytest.raises(github.NetworkError):
        github.exchange_code(client="app", code="abc", redirect_uri="http://x/cb")
    assert stats.calls == 3


# --- rate limits -----------------------------------------------------------------------


@pytest.mark.parametrize("status", [403, 429])
def test_primary_rate_limit_raised_at_once_with_wait(gh, user_token, api_log, status):
    token = user_token("olivia")
    gh.control.fault("primary_rate_limit", r"^/user$", reset_in=120, count=1, status=status)
    started = time.time()
    with github.track_calls() as stats, pytest.raises(github.RateLimited) as info:
        github.get_authenticated_user(token)
    assert time.time() - started < 5  # never sleeps for a rate limit
    err = info.value
    assert err.kind == "primary"
    assert err.status == status
    assert 115 <= err.retry_after <= 122
    assert abs(err.reset_at.timestamp() - (started + err.retry_after)) < 5
    assert err.remaining == 0 and err.limit == 5000 and err.resource == "core"
    assert stats.calls == 1
    assert stats.remaining == 0
    # The bucket stays empty: the next call is refused by GitHub's own accounting too.
    with pytest.raises(github.RateLimited) as again:
        github.get_authenticated_user(token)
    assert again.value.kind == "primary"
    assert _statuses(api_log(), "/user") == [status, 403]


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_rate_limit_raised_with_retry_after(gh, user_token, api_log, status):
    token = user_token("olivia")
    gh.control.fault("secondary_rate_limit", r"^/user$", retry_after=42, status=status)
    with github.track_calls() as stats, pytest.raises(github.RateLimited) as info:
        github.get_authenticated_user(token)
    err = info.value
    assert (err.kind, err.retry_after, err.status) == ("secondary", 42, status)
    assert "secondary rate limit" in err.message
    assert stats.calls == 1
    assert _statuses(api_log(), "/user") == [status]


def test_secondary_rate_limit_told_by_message_only(gh, user_token):
    # GitHub's Retry-After "can sometimes be blank": the message alone marks the limit.
    token = user_token("olivia")
    message = "You have exceeded a secondary rate limit. Please wait a few minutes."
    gh.control.fault("status", r"^/user$", status=403, message=message, count=1)
    with pytest.raises(github.RateLimited) as info:
        github.get_authenticated_user(token)
    assert (info.value.kind, info.value.retry_after) == ("secondary", 60)


# --- malformed responses ---------------------------------------------------------------


def test_malformed_json_is_typed(gh, user_token, api_log):
    token = user_token("olivia")
    gh.control.fault("malformed_json", r"^/user$", count=1)
    with pytest.raises(github.MalformedResponse) as info:
        github.get_authenticated_user(token)
    assert info.value.status == 200
    assert "<" not in str(info.value)  # the body is not quoted
    assert _statuses(api_log(), "/user") == [200]  # not retried


def test_truncated_body_is_retried(gh, user_token, api_log):
    token = user_token("olivia")
    gh.control.fault("truncated", r"^/user$", count=1)
    with github.track_calls() as stats:
        assert github.get_authenticated_user(token)["login"] == "olivia"
    assert stats.calls == 2


def test_truncated_body_every_time_is_network_error(gh, user_token):
    token = user_token("olivia")
    gh.control.fault("truncated", r"^/user$")
    with pytest.raises(github.NetworkError) as info:
        github.get_authenticated_user(token)
    assert "broke off" in str(info.value)


# --- pagination and accounting ------------------------------------------------------------


def test_paginate_follows_link_over_pages(gh, user_token, api_log):
    token = user_token("olivia", client="oauth")
    with github.track_calls() as stats:
        items = list(http.paginate("/user/memberships/orgs", token=token, params={"per_page": 1}))
    assert sorted(m["organization"]["login"] for m in items) == ["acme-corp", "globex"]
    assert stats.calls == 2
    pages = [r["query"].get("page") for r in api_log() if r["api_path"] == "/user/memberships/orgs"]
    assert pages == [None, "2"]


def test_paginate_asks_for_100_per_page(gh, user_token, api_log):
    members = github.list_org_members(user_token("olivia"), "acme-corp", role="all")
    assert {m["login"] for m in members} == {"olivia", "mia"}
    (entry,) = [r for r in api_log() if r["api_path"] == "/orgs/acme-corp/members"]
    assert entry["query"] == {"per_page": "100", "role": "all"}


def test_paginate_wrapped_list(gh, user_token):
    installations = github.list_user_installations(user_token("olivia"))
    assert [i["account"]["login"] for i in installations] == ["acme-corp"]


def test_paginate_rejects_wrong_shape(gh, user_token):
    with pytest.raises(github.MalformedResponse):
        list(http.paginate("/user", token=user_token("olivia")))


def test_track_calls_nests_and_records_budget(gh, user_token):
    token = user_token("olivia")
    # The budget is per user and the simulator lives for the session: start from what
    # earlier tests left of olivia's.
    with github.track_calls() as before:
        github.get_authenticated_user(token)
    with github.track_calls() as outer:
        github.get_authenticated_user(token)
        with github.track_calls() as inner:
            github.get_authenticated_user(token)
    assert (outer.calls, inner.calls) == (2, 1)
    assert outer.limit == 5000
    assert outer.remaining == inner.remaining == before.remaining - 2
    assert outer.remaining + outer.used == outer.limit
    assert outer.resource == "core"
    assert outer.reset_at is not None
