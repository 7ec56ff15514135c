"""Everything that can go wrong at GitHub lands on a friendly page that says what
happened and offers to try again, never a 500; `state` is single-use and bound to the
session; `next` only leads to a path on this site."""

from urllib.parse import urlencode, urlsplit

import pytest

from accounts.models import User
from tests.accounts.flow import forms, query
from tests.accounts.test_next import ATTACKS


def assert_friendly(response, title: str, status: int | None = None):
    html = response.content.decode()
    assert 400 <= response.status_code < 600 and response.status_code != 500, response.status_code
    if status is not None:
        assert response.status_code == status
    assert title in html, html[:2000]
    retry = [f for f in forms(html) if f["action"] == "/login/github-oauth/"]
    assert retry and "csrfmiddlewaretoken" in retry[0]["fields"], "no Try again button"
    assert not User.objects.filter(github_id__isnull=False).exists()


def with_query(url: str, **changes) -> str:
    params = {**query(url), **changes}
    params = {k: v for k, v in params.items() if v is not None}
    return urlsplit(url)._replace(query=urlencode(params)).geturl()


EXPIRED = "This sign-in attempt has expired or was already used"


def test_denied_consent(oauth_mode, browser):
    callback = browser.authorize(browser.start("github-oauth"), None, cancel=True)
    assert query(callback)["error"] == "access_denied"
    assert_friendly(browser.complete(callback), "You cancelled signing in on GitHub", 403)


def test_state_mismatch(oauth_mode, browser):
    callback = browser.authorize(browser.start("github-oauth"), "olivia")
    assert_friendly(browser.complete(with_query(callback, state="x" * 32)), EXPIRED, 403)


def test_missing_state(oauth_mode, browser):
    callback = browser.authorize(browser.start("github-oauth"), "olivia")
    assert_friendly(browser.complete(with_query(callback, state=None)), EXPIRED, 400)


def test_state_is_single_use(oauth_mode, browser):
    callback = browser.authorize(browser.start("github-oauth"), "olivia")
    assert browser.complete(callback)["Location"] == "/orgs/"
    csrf = browser.client.cookies["csrftoken"].value
    browser.client.post("/logout/", {"csrfmiddlewaretoken": csrf})
    User.objects.all().delete()
    assert_friendly(browser.complete(callback), EXPIRED, 403)


def test_state_is_bound_to_the_session(oauth_mode, browser, other_browser):
    """A callback started in one browser does not sign in another (login CSRF)."""
    callback = browser.authorize(browser.start("github-oauth"), "mia")
    other_browser.client.get("/login/")
    assert_friendly(other_browser.complete(callback), EXPIRED, 403)


def test_bad_code(oauth_mode, browser):
    callback = browser.authorize(browser.start("github-oauth"), "olivia")
    response = browser.complete(with_query(callback, code="not-a-code"))
    assert_friendly(response, "GitHub did not accept the sign-in code", 403)
    assert "bad_verification_code" in response.content.decode()


def test_github_error_with_http_200(oauth_mode, browser, settings):
    """GitHub's token endpoint answers errors with HTTP 200 and an `error` field."""
    callback = browser.authorize(browser.start("github-oauth"), "olivia")
    settings.GITHUB_OAUTH_CLIENT_SECRET = "not-the-secret"
    response = browser.complete(callback)
    assert_friendly(response, "Sign-in with GitHub is not set up correctly")
    assert "incorrect_client_credentials" in response.content.decode()


def test_github_unreachable(oauth_mode, browser, settings, closed_port):
    callback = browser.authorize(browser.start("github-oauth"), "olivia")
    settings.GITHUB_WEB_URL = f"http://127.0.0.1:{closed_port}"
    assert_friendly(browser.complete(callback), "GitHub could not be reached", 503)


def test_github_api_down(oauth_mode, browser):
    oauth_mode.control.fault("status", path="^/user$", status=502)
    callback = browser.authorize(browser.start("github-oauth"), "olivia")
    assert_friendly(browser.complete(callback), "GitHub is having trouble right now", 503)


def test_rate_limited_at_user(oauth_mode, browser):
    oauth_mode.control.fault("secondary_rate_limit", path="^/user$")
    callback = browser.authorize(browser.start("github-oauth"), "olivia")
    assert_friendly(browser.complete(callback), "GitHub is limiting requests right now")


@pytest.mark.parametrize("attack", ATTACKS)
def test_next_never_leaves_the_site(oauth_mode, browser, attack):
    response = browser.sign_in("olivia", "github-oauth", next_url=attack)
    assert response.status_code == 302
    assert response["Location"] == "/orgs/", response["Location"]


def test_next_leads_to_a_path_on_this_site(oauth_mode, browser):
    response = browser.sign_in("olivia", "github-oauth", next_url="/orgs/acme-corp/")
    assert response["Location"] == "/orgs/acme-corp/"
    assert browser.client.get("/orgs/acme-corp/").status_code == 200


def test_anonymous_deep_link_round_trip(oauth_mode, browser):
    """A signed-out visitor of an org page signs in and lands on that page."""
    login_url = browser.client.get("/orgs/acme-corp/")["Location"]
    assert login_url == "/login/?next=/orgs/acme-corp/"
    response = browser.sign_in("bill", "github-oauth", next_url=query(login_url)["next"])
    assert response["Location"] == "/orgs/acme-corp/"
