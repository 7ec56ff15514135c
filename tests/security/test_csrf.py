"""CSRF on every state-changing request: every URL pattern of the project (walked with
`get_resolver()`, the admin's included), every unsafe method (POST, PUT, PATCH,
DELETE), from a signed-in owner and a signed-in staff superuser, without a CSRF token:
403 from Django's CSRF check (our ``403_csrf.html``), and nothing stored changes.

Exactly three views are exempt, each for a reason (`EXEMPT`), and each is tested for the
protection it has instead.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import Membership
from tests.accounts.flow import GitHubBrowser
from tests.factories import MembershipFactory, OrganizationFactory, StaffUserFactory, UserFactory

from .conftest import changed, routes, snapshot

pytestmark = pytest.mark.django_db

EXEMPT = {
    # GitHub signs every delivery (X-Hub-Signature-256, an HMAC of the raw body with the
    # webhook secret) and cannot send a CSRF token; an unsigned POST gets 401.
    "github_webhook": "signature-authenticated",
    # social-auth exempts its callback because some providers POST back to it. GitHub's
    # OAuth callback is a GET; what stops a forged callback ("login CSRF") is the OAuth
    # `state`, bound to the session that started the sign-in, which social-auth checks.
    "social:complete": "OAuth state",
    # RFC 8058 one-click unsubscribe: the mail provider POSTs without cookies or token;
    # the signed token in the URL is the authentication (tests/alerts/test_email.py).
    "alerts_unsubscribe": "signed token",
}
# Marked exempt only to set the upload handlers before anything reads the body (Django's
# documented pattern: csrf_exempt outside, csrf_protect inside); the walk below checks
# that they still refuse an unsafe request without a token.
PROTECTED_INSIDE = {"org_imports", "api_org_imports"}
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
SAMPLES = {"login": "acme-corp", "backend": "github-oauth", "app_label": "accounts"}


def test_only_the_webhook_and_the_oauth_callback_are_csrf_exempt():
    exempt = {r.name for r in routes() if getattr(r.callback, "csrf_exempt", False)}
    assert exempt - PROTECTED_INSIDE == set(EXEMPT)


@pytest.fixture
def signed_in(db) -> dict[str, Client]:
    acme = OrganizationFactory(login="acme-corp", github_id=7770001)
    olivia = UserFactory(github_login="olivia")
    MembershipFactory(user=olivia, organization=acme, role=Membership.Role.OWNER)
    clients = {}
    for who, user in (("olivia", olivia), ("staff", StaffUserFactory(username="csrf-staff"))):
        clients[who] = Client(enforce_csrf_checks=True)
        clients[who].force_login(user)
    return clients


def test_every_unsafe_request_without_a_token_is_refused(signed_in):
    before = snapshot()
    checked = 0
    for route in routes():
        if route.name in EXEMPT:
            continue
        url = route.url(**SAMPLES)
        for who, client in signed_in.items():
            for method in UNSAFE:
                response = client.generic(
                    method, url, data="a=1", content_type="application/x-www-form-urlencoded"
                )
                where = (method, url, route.name, who)
                assert response.status_code == 403, (*where, response.status_code)
                assert "403_csrf.html" in [t.name for t in response.templates], where
                checked += 1
    assert checked > 1000  # every admin page too (the walk is not vacuous)
    assert changed(before, snapshot()) == {}


def test_the_same_post_with_the_token_gets_through(signed_in):
    """The 403s above are the CSRF check's: with the page's token, sign-out works."""
    client = signed_in["olivia"]
    page = client.get("/orgs/acme-corp/install/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post("/logout/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert "_auth_user_id" not in client.session


def test_the_webhook_refuses_unsigned_posts_even_from_a_signed_in_browser(signed_in, settings):
    settings.GITHUB_WEBHOOK_SECRET = "csrf-test-secret"
    before = snapshot()
    response = signed_in["olivia"].post(
        "/github/webhook/",
        data='{"action": "created"}',
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="installation",
        HTTP_X_GITHUB_DELIVERY="forged-1",
    )
    assert response.status_code == 401
    assert changed(before, snapshot()) == {}


def test_a_forged_oauth_callback_signs_nobody_in(github_settings, settings, db):
    """Login CSRF: charlie starts a sign-in in his own browser and gets GitHub's code,
    then makes olivia's browser open that callback. Her session never started that
    sign-in (no state of its own), so she is not signed in as charlie."""
    settings.GITHUB_SIGNIN_CLIENT = "oauth"
    attacker = GitHubBrowser(sim_url=github_settings.web_url)
    callback = attacker.authorize(attacker.start("github-oauth"), "charlie")
    victim = GitHubBrowser(sim_url=github_settings.web_url)
    victim.client.get("/login/")  # a session of her own
    answer = victim.complete(callback)
    assert answer.status_code < 500
    assert "_auth_user_id" not in victim.client.session
    assert victim.client.get("/orgs/").status_code == 302  # sent to sign in
    # A POST to the callback, as a provider that posts back would, does no better.
    posted = victim.client.post("/complete/github-oauth/", {"code": "x", "state": "y"})
    assert posted.status_code < 500
    assert "_auth_user_id" not in victim.client.session
    # The attacker's own browser (which holds the state) could have used the code.
    assert attacker.complete(callback).status_code == 302
