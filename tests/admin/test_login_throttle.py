"""Staff sign in to the admin with a Django account; django-axes throttles password
guessing: after AXES_FAILURE_LIMIT (5) wrong passwords in a row, even the right password
is refused, with a clear lockout page, until the cool-off passes or staff unlock it."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client

from accounts.models import AuditEvent

from .conftest import STAFF_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


def sign_in(client: Client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password})


def test_a_staff_account_signs_in_with_its_password(client, staff_user):
    response = sign_in(client, staff_user.username, STAFF_PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    signin = AuditEvent.objects.get(action="signin")
    assert signin.actor == staff_user and signin.details == {"method": "password"}


def test_the_sixth_attempt_is_refused_even_with_the_right_password(client, staff_user):
    assert settings.AXES_FAILURE_LIMIT == 5
    for attempt in range(1, 5):
        response = sign_in(client, staff_user.username, f"guess-{attempt}")
        assert response.status_code == 200, attempt  # the form again, with an error
        assert b"Please enter the correct username and password" in response.content
    # The fifth wrong password locks the account out.
    fifth = sign_in(client, staff_user.username, "guess-5")
    assert fifth.status_code == 429
    # The sixth attempt, with the right password: refused, with the lockout page.
    sixth = sign_in(client, staff_user.username, STAFF_PASSWORD)
    assert sixth.status_code == 429
    page = sixth.content.decode()
    assert "Too many failed sign-in attempts" in page
    assert "after 5 wrong passwords" in page and "Try again in 0:15:00" in page
    assert staff_user.username in page
    assert client.get("/admin/").status_code == 302  # not signed in
    # From another address too (locked by username as well as by address).
    other = Client(REMOTE_ADDR="10.9.8.7")
    assert sign_in(other, staff_user.username, STAFF_PASSWORD).status_code == 429
    # The lockout is in the audit log.
    locked = AuditEvent.objects.filter(action="signin.locked_out").order_by("at").first()
    assert locked is not None and locked.target == staff_user.username
    assert locked.ip_address == "127.0.0.1" and locked.actor is None


def test_another_staff_member_unlocks_by_deleting_the_attempt(client, staff_user):
    from tests.factories import StaffUserFactory

    for attempt in range(5):
        sign_in(client, staff_user.username, f"guess-{attempt}")
    assert sign_in(client, staff_user.username, STAFF_PASSWORD).status_code == 429
    colleague = Client(REMOTE_ADDR="10.1.1.1")
    colleague.force_login(StaffUserFactory(username="colleague"))
    attempts = AccessAttempt.objects.filter(username=staff_user.username)
    assert attempts.exists()
    response = colleague.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [a.pk for a in attempts], "post": "yes"},
    )
    assert response.status_code == 302
    # Locked by address too: the same address was also locked out; its attempts are gone.
    assert not AccessAttempt.objects.exists()
    assert sign_in(client, staff_user.username, STAFF_PASSWORD).status_code == 302


def test_an_admin_lockout_never_blocks_github_sign_in(
    client, staff_user, github_settings, settings
):
    """Five wrong admin passwords lock that address out of the admin only: a GitHub sign-in
    from the same address (every user's, behind a proxy) still works, and records no
    failure of its own."""
    from tests.accounts.flow import GitHubBrowser

    settings.GITHUB_SIGNIN_CLIENT = "oauth"
    for attempt in range(5):
        sign_in(client, staff_user.username, f"guess-{attempt}")
    assert sign_in(client, staff_user.username, STAFF_PASSWORD).status_code == 429
    attempts = AccessAttempt.objects.count()
    browser = GitHubBrowser(sim_url=github_settings.web_url)  # the same 127.0.0.1
    answer = browser.sign_in("olivia", "github-oauth")
    assert answer.status_code == 302 and answer["Location"] == "/orgs/", answer.content[:300]
    assert browser.client.get("/orgs/").status_code == 200
    assert AccessAttempt.objects.count() == attempts
    # The admin stays locked for that address.
    assert sign_in(Client(), staff_user.username, STAFF_PASSWORD).status_code == 429


def test_failed_github_sign_ins_are_not_counted_as_admin_failures(client, staff_user, db):
    """A GitHub sign-in that fails (a bad state) must not count towards the admin lockout."""
    for _ in range(6):
        answer = client.get("/complete/github-oauth/", {"code": "x", "state": "forged"})
        assert answer.status_code != 429
    assert not AccessAttempt.objects.exists()
    assert sign_in(client, staff_user.username, STAFF_PASSWORD).status_code == 302


def test_behind_proxies_the_client_is_the_address_the_first_proxy_added(rf, settings):
    from accounts.signin.throttle import client_ip

    def ip(forwarded=None):
        meta = {"REMOTE_ADDR": "10.0.0.9"}
        if forwarded is not None:
            meta["HTTP_X_FORWARDED_FOR"] = forwarded
        return client_ip(rf.get("/admin/login/", **meta))

    settings.TRUSTED_PROXY_COUNT = 0
    assert ip("6.6.6.6") == "10.0.0.9"  # no proxy: a client's header is ignored
    settings.TRUSTED_PROXY_COUNT = 1
    assert ip("6.6.6.6, 203.0.113.7") == "203.0.113.7"  # the spoofed entry is ignored
    assert ip(None) == "10.0.0.9"
    settings.TRUSTED_PROXY_COUNT = 2
    assert ip("6.6.6.6, 203.0.113.7, 10.0.0.2") == "203.0.113.7"


def test_behind_a_proxy_one_clients_lockout_is_not_everyones(staff_user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    guesser = Client(REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="198.51.100.1")
    for attempt in range(5):
        sign_in(guesser, "nobody-here", f"guess-{attempt}")
    assert sign_in(guesser, "nobody-here", "again").status_code == 429
    colleague = Client(REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert sign_in(colleague, staff_user.username, STAFF_PASSWORD).status_code == 302
