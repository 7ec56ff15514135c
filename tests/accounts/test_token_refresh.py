"""Expired user tokens are refreshed transparently and single-flight (GitHub refresh
tokens work once); a refused refresh or a revoked token signs the user out everywhere."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import GitHubToken, Membership, User
from accounts.tokens import github_token_store, user_github_token
from tests.accounts.flow import GitHubBrowser


def revoke_on_github(sim, login: str) -> None:
    """The user revokes billingdash on GitHub. The control API revokes the App's grant;
    a classic OAuth App token is revoked in the simulator's state directly."""
    sim.control.revoke(login)
    for token in GitHubToken.objects.filter(user__github_login=login, client="oauth"):
        with sim.state.lock:
            sim.state.tokens.revoke(str(token.access_token))


def token_posts(sim) -> int:
    return sum(
        1
        for r in sim.control.requests_log()
        if r["method"] == "POST" and r["path"] == "/login/oauth/access_token"
    )


def make_stale() -> None:
    """Pretend the roles were last checked long ago (past MEMBERSHIP_TTL_SECONDS)."""
    long_ago = timezone.now() - timedelta(days=1)
    Membership.objects.update(verified_at=long_ago)
    User.objects.update(memberships_synced_at=long_ago)


def expire_tokens() -> None:
    GitHubToken.objects.update(expires_at=timezone.now() - timedelta(minutes=1))


def test_an_expired_token_is_refreshed_transparently(app_mode, browser):
    browser.sign_in("olivia", "github-app")
    old = GitHubToken.objects.get(user__github_id=5550001)
    app_mode.control.advance_clock(9 * 3600)  # GitHub's 8 hours are over
    expire_tokens()
    make_stale()
    app_mode.control.clear_requests()

    assert browser.client.get("/orgs/acme-corp/").status_code == 200

    new = GitHubToken.objects.get(user__github_id=5550001)
    assert new.access_token != old.access_token and new.refresh_token != old.refresh_token
    assert new.expires_at > timezone.now() + timedelta(hours=7)
    assert token_posts(app_mode) == 1


def test_a_401_before_our_expiry_also_refreshes(app_mode, browser):
    """Clocks differ: GitHub may expire a token before we think it does."""
    browser.sign_in("olivia", "github-app")
    app_mode.control.advance_clock(9 * 3600)
    make_stale()
    assert browser.client.get("/orgs/acme-corp/").status_code == 200
    assert GitHubToken.objects.get(user__github_id=5550001).expires_at > timezone.now()


@pytest.mark.django_db(transaction=True)
def test_two_requests_refreshing_at_once_make_one_call(app_mode):
    user = User.objects.create(username="github-5550001", github_id=5550001)
    issued = app_mode.control.issue_token("olivia", client="app")
    github_token_store(user=user, client="app", token_response=issued)
    expire_tokens()
    app_mode.control.clear_requests()

    start = threading.Barrier(2)
    results, failures = [], []

    def refresh():
        try:
            start.wait(timeout=10)
            results.append(user_github_token(user=User.objects.get(pk=user.pk)))
        except Exception as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not failures, failures
    assert len(results) == 2 and results[0] == results[1] != issued["access_token"]
    assert token_posts(app_mode) == 1
    assert GitHubToken.objects.get(user=user).access_token == results[0]


def test_a_refused_refresh_signs_out_everywhere(app_mode, browser):
    browser.sign_in("olivia", "github-app")
    phone = Client()
    phone.force_login(User.objects.get(github_id=5550001))
    # The refresh token was already used (e.g. by a copy of the database).
    GitHubToken.objects.update(refresh_token="ghr_" + "0" * 76)
    expire_tokens()
    make_stale()

    response = browser.client.get("/orgs/", follow=True)
    assert response.redirect_chain[-1] == ("/login/", 302)
    assert "could not be renewed" in response.content.decode()
    assert not GitHubToken.objects.exists()
    assert browser.client.get("/orgs/").status_code == 302  # signed out
    response = phone.get("/orgs/", follow=True)  # and on every other device
    assert response.redirect_chain[-1] == ("/login/", 302)
    assert "signed out everywhere" in response.content.decode()


@pytest.mark.parametrize(("mode", "backend"), [("oauth", "github-oauth"), ("app", "github-app")])
def test_a_revoked_token_signs_out_everywhere(github_settings, settings, db, mode, backend):
    settings.GITHUB_SIGNIN_CLIENT = mode
    browser = GitHubBrowser(sim_url=github_settings.web_url)
    browser.sign_in("bill", backend)
    revoke_on_github(github_settings, "bill")
    make_stale()

    response = browser.client.get("/orgs/acme-corp/", follow=True)
    assert response.redirect_chain[-1] == ("/login/", 302)
    html = response.content.decode()
    assert "signed out everywhere" in html
    assert not GitHubToken.objects.exists()

    # Signing in again works and shows the organizations again.
    browser.sign_in("bill", backend)
    assert browser.client.get("/orgs/acme-corp/").status_code == 200


def test_api_callers_get_401_when_the_token_is_gone(oauth_mode, browser):
    browser.sign_in("olivia", "github-oauth")
    revoke_on_github(oauth_mode, "olivia")
    make_stale()
    response = browser.client.get("/api/orgs/")
    assert response.status_code == 401
    assert response.json()["error"] == "signed_out"
