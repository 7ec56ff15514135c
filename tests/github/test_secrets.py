"""No token, refresh token, client secret or JWT ever shows in an exception's str/repr
(or in those of its causes) or in the client's log lines."""

import logging

import pytest

from billingdash import github
from billingdash.github import http
from billingdash.github.apps import app_jwt

pytestmark = pytest.mark.django_db


def _chain(exc):
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__


def _assert_hidden(exc, secrets_):
    for e in _chain(exc):
        text = str(e) + repr(e) + repr(getattr(e, "headers", "")) + repr(e.args)
        for secret in secrets_:
            assert secret not in text, f"{type(e).__name__} leaks a secret"


def _raised(call):
    with pytest.raises(github.GitHubError) as info:
        call()
    return info.value


def test_no_secret_in_errors_or_logs(gh, user_token, settings, caplog, closed_port):
    caplog.set_level(logging.DEBUG)
    token = user_token("olivia")
    issued = gh.control.issue_token("bill")
    secrets_ = [
        token,
        issued["access_token"],
        issued["refresh_token"],
        settings.GITHUB_APP_CLIENT_SECRET,
        settings.GITHUB_OAUTH_CLIENT_SECRET,
    ]
    raised = []

    gh.control.revoke("bill")
    raised.append(_raised(lambda: github.get_authenticated_user(issued["access_token"])))
    raised.append(
        _raised(
            lambda: github.refresh_user_token(client="app", refresh_token=issued["refresh_token"])
        )
    )
    raised.append(
        _raised(lambda: github.exchange_code(client="oauth", code=token, redirect_uri="http://x"))
    )
    gh.control.fault("status", r"^/user$", status=500, count=3)
    raised.append(_raised(lambda: github.get_authenticated_user(token)))
    gh.control.fault("secondary_rate_limit", r"^/user/orgs$", count=1)
    raised.append(_raised(lambda: github.list_user_orgs(token)))
    gh.control.fault("malformed_json", r"^/user/memberships/orgs/acme-corp$", count=1)
    raised.append(_raised(lambda: github.get_user_org_membership(token, "acme-corp")))
    raised.append(
        _raised(lambda: list(github.iter_billing_usage(token, "globex", year=2026, month=1)))
    )
    jwt = app_jwt()
    secrets_.append(jwt)
    raised.append(_raised(lambda: http.request_json("GET", "/app/installations/1", token=jwt)))
    settings.GITHUB_API_URL = f"http://127.0.0.1:{closed_port}/api/v3"
    raised.append(_raised(lambda: github.get_authenticated_user(token)))

    kinds = {type(e) for e in raised}
    assert {
        github.Unauthorized,
        github.OAuthError,
        github.ServerError,
        github.RateLimited,
        github.MalformedResponse,
        github.Forbidden,
        github.NotFound,
        github.NetworkError,
    } <= kinds
    for exc in raised:
        _assert_hidden(exc, secrets_)
    for secret in secrets_:
        assert secret not in caplog.text


def test_token_holders_hide_tokens(gh, settings):
    installation = github.get_org_installation("acme-corp")["id"]
    created = github.create_installation_token(installation)
    assert created.token not in repr(created)
    assert created.token not in repr(http._Bearer(created.token))
    issued = gh.control.issue_token("olivia")
    tokens = github.refresh_user_token(client="app", refresh_token=issued["refresh_token"])
    assert tokens.access_token not in repr(tokens)
    assert tokens.refresh_token not in repr(tokens)
