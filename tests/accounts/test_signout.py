"""Signing out (a POST), and "signed out everywhere" ending every session of a user on
its next request with a clear message."""

import pytest
from django.test import Client

from accounts.models import AuditEvent, GitHubToken
from accounts.tokens import user_revoke_github_authorization, user_sign_out_everywhere
from tests.factories import GitHubTokenFactory, MembershipFactory, UserFactory


@pytest.fixture
def olivia(db):
    membership = MembershipFactory(user=UserFactory(github_login="olivia"))
    return membership.user


def test_sign_out_is_a_post(client, olivia):
    client.force_login(olivia)
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get("/orgs/").status_code == 302
    assert AuditEvent.objects.filter(action="signout", actor=olivia).exists()


def test_sign_in_is_audited(client, olivia):
    client.force_login(olivia)
    assert AuditEvent.objects.filter(action="signin", actor=olivia).exists()


def test_signed_out_everywhere_ends_every_session_on_its_next_request(olivia):
    laptop, phone = Client(), Client()
    laptop.force_login(olivia)
    phone.force_login(olivia)
    assert laptop.get("/orgs/").status_code == 200

    user_sign_out_everywhere(user=olivia, reason="Your GitHub access was revoked.")

    for browser in (laptop, phone):
        response = browser.get("/orgs/", follow=True)
        assert response.redirect_chain[0] == ("/login/", 302)
        assert "Your GitHub access was revoked." in response.content.decode()
        assert browser.get("/orgs/").status_code == 302  # really signed out

    # Signing in again works.
    laptop.force_login(olivia)
    assert laptop.get("/orgs/").status_code == 200
    assert AuditEvent.objects.filter(action="signout_everywhere").count() == 1


def test_api_sessions_get_a_401_json(olivia):
    browser = Client()
    browser.force_login(olivia)
    user_sign_out_everywhere(user=olivia, reason="Revoked.")
    response = browser.get("/api/orgs/")
    assert response.status_code == 401
    assert response.json()["error"] == "signed_out"


def test_the_revoked_webhook_service_drops_tokens_and_signs_out(olivia):
    GitHubTokenFactory(user=olivia)
    browser = Client()
    browser.force_login(olivia)
    assert user_revoke_github_authorization(github_user_id=olivia.github_id)
    assert not GitHubToken.objects.filter(user=olivia).exists()
    response = browser.get("/orgs/", follow=True)
    assert "revoked" in response.content.decode()
    assert not user_revoke_github_authorization(github_user_id=424242424242)
