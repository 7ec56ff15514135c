"""Sign in with GitHub through the simulator, with both clients: roles and access states
per persona, accounts keyed by GitHub's id, PKCE, and tokens kept out of extra_data."""

import pytest
from social_django.models import UserSocialAuth

from accounts.models import AuditEvent, GitHubToken, Membership, User
from tests.accounts.flow import GitHubBrowser, query
from tests.factories import UserFactory

OAUTH_WORLD = {
    "olivia": [("acme-corp", "owner", "app"), ("globex", "owner", "needs_install")],
    "bill": [
        ("acme-corp", "billing_manager", "app"),
        ("globex", "billing_manager", "needs_install"),
    ],
    "mia": [("acme-corp", "member", "no_access"), ("globex", "member", "no_access")],
    "oscar": [("initech", "owner", "needs_install")],
    "nora": [],
}
# A GitHub App user token sees only organizations where the App is installed.
APP_WORLD = {
    "olivia": [("acme-corp", "owner", "app")],
    "bill": [("acme-corp", "billing_manager", "app")],
    "mia": [("acme-corp", "member", "no_access")],
    "oscar": [],
    "nora": [],
}


def org_states(client):
    return [(o["login"], o["role"], o["access"]) for o in client.get("/api/orgs/").json()]


@pytest.mark.parametrize("persona", sorted(OAUTH_WORLD))
def test_each_persona_signs_in_with_the_oauth_app(oauth_mode, browser, persona):
    response = browser.sign_in(persona, "github-oauth")
    assert response.status_code == 302 and response["Location"] == "/orgs/"
    assert org_states(browser.client) == OAUTH_WORLD[persona]
    page = browser.client.get("/orgs/")
    assert page.status_code == 200
    if not OAUTH_WORLD[persona]:
        assert "not a member of any organization" in page.content.decode()


@pytest.mark.parametrize("persona", sorted(APP_WORLD))
def test_each_persona_signs_in_with_the_github_app(app_mode, browser, persona):
    response = browser.sign_in(persona, "github-app")
    assert response.status_code == 302 and response["Location"] == "/orgs/"
    assert org_states(browser.client) == APP_WORLD[persona]
    if not APP_WORLD[persona]:
        html = browser.client.get("/orgs/").content.decode()
        assert f"{app_mode.web_url}/apps/billingdash-dev/installations/new" in html
        assert "Ask an owner" in html or "ask an owner" in html.lower()


def test_the_account_is_keyed_by_github_id(oauth_mode, browser):
    browser.sign_in("olivia", "github-oauth")
    user = User.objects.get(github_id=5550001)
    assert user.username == "github-5550001"
    assert user.github_login == "olivia"
    assert user.avatar_url.startswith(oauth_mode.web_url)
    assert UserSocialAuth.objects.get(user=user).uid == "5550001"
    assert AuditEvent.objects.filter(actor=user, action="signin").exists()

    # A renamed login is the same account (the id matches)...
    user.github_login = "olivia-old-name"
    user.save()
    GitHubBrowser(sim_url=oauth_mode.web_url).sign_in("olivia", "github-oauth")
    assert User.objects.filter(github_id=5550001).count() == 1
    assert User.objects.get(github_id=5550001).github_login == "olivia"


def test_a_login_is_not_an_identity(oauth_mode, browser):
    """...and someone else holding a login here (renamed since, login reused) is never
    taken over by the person who has that login on GitHub now."""
    other = UserFactory(github_login="nora", github_id=424242, username="nora", email="")
    browser.sign_in("nora", "github-oauth")
    nora = User.objects.get(github_id=5550004)
    assert nora.pk != other.pk
    other.refresh_from_db()
    assert other.github_id == 424242 and not GitHubToken.objects.filter(user=other).exists()


def test_both_clients_lead_to_one_account(github_settings, settings, browser, other_browser):
    settings.GITHUB_SIGNIN_CLIENT = "oauth"
    browser.sign_in("bill", "github-oauth")
    settings.GITHUB_SIGNIN_CLIENT = "app"
    other_browser.sign_in("bill", "github-app")
    user = User.objects.get(github_id=5550002)
    assert set(GitHubToken.objects.filter(user=user).values_list("client", flat=True)) == {
        "app",
        "oauth",
    }
    assert UserSocialAuth.objects.filter(user=user).count() == 2


def test_only_the_configured_client_signs_in(oauth_mode, browser):
    response = browser.client.post("/login/github-app/", {"csrfmiddlewaretoken": "x"})
    assert response.status_code == 403  # no CSRF token: refused before anything else
    page = browser.client.get("/login/")
    assert 'action="/login/github-oauth/"' in page.content.decode()
    token = browser.client.cookies["csrftoken"].value
    response = browser.client.post("/login/github-app/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 404
    assert "not enabled" in response.content.decode()


def test_sign_in_starts_with_a_csrf_protected_post(oauth_mode, browser):
    assert browser.client.get("/login/github-oauth/").status_code == 405
    assert browser.client.post("/login/github-oauth/").status_code == 403  # no CSRF token


def test_pkce_s256_and_state_are_sent(oauth_mode, browser):
    url = browser.start("github-oauth")
    params = query(url)
    assert url.startswith(f"{oauth_mode.web_url}/login/oauth/authorize?")
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 32
    assert params["redirect_uri"] == "http://testserver/complete/github-oauth/"
    assert params["scope"] == "read:org"
    assert params["client_id"] == oauth_mode.config.oauth_client_id


def test_pkce_is_verified(oauth_mode, browser):
    """The code only works with the verifier of the challenge sent at the start."""
    callback = browser.authorize(browser.start("github-oauth"), "olivia")
    state = query(callback)["state"]
    session = browser.client.session
    key = f"github-oauth_oauth2_state_{state}"
    transaction = session[key]
    transaction["code_verifier"] = "x" * 43
    session[key] = transaction
    session.save()
    response = browser.complete(callback)
    assert response.status_code == 403
    assert "did not accept the sign-in code" in response.content.decode()
    assert not User.objects.filter(github_id=5550001).exists()


def test_tokens_are_stored_encrypted_not_in_extra_data(app_mode, browser):
    browser.sign_in("olivia", "github-app")
    user = User.objects.get(github_id=5550001)
    token = GitHubToken.objects.get(user=user, client="app")
    assert token.access_token.startswith("ghu_") and token.refresh_token.startswith("ghr_")
    assert token.expires_at is not None and token.refresh_token_expires_at is not None
    social = UserSocialAuth.objects.get(user=user)
    text = str(social.extra_data)
    assert "ghu_" not in text and "ghr_" not in text
    assert not {"access_token", "refresh_token"} & set(social.extra_data)


def test_no_token_is_logged(app_mode, browser, caplog, settings):
    caplog.set_level("DEBUG")
    browser.sign_in("olivia", "github-app")
    token = GitHubToken.objects.get(user__github_id=5550001)
    Membership.objects.update(verified_at="2000-01-01T00:00Z")
    GitHubToken.objects.update(expires_at="2000-01-01T00:00Z")  # force a refresh
    assert browser.client.get("/orgs/acme-corp/").status_code == 200
    refreshed = GitHubToken.objects.get(user__github_id=5550001)
    assert refreshed.access_token != token.access_token
    logs = caplog.text
    for secret in (token.access_token, token.refresh_token, refreshed.access_token):
        assert secret not in logs
    assert "ghu_" not in logs and "ghr_" not in logs and "gho_" not in logs
