"""Sessions end server-side after an idle time and an absolute lifetime, both shorter
for staff, both configurable (issue 14, finding 5). The clock is moved with time-machine.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from tests.factories import StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _roles_stay_fresh(settings):
    """No role re-read from GitHub (there is none here) while the clock moves."""
    settings.MEMBERSHIP_TTL_SECONDS = 10**7


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def is_signed_in(client: Client) -> bool:
    return client.get("/orgs/").status_code == 200


def test_the_defaults_are_shorter_for_staff(settings):
    assert settings.SESSION_IDLE_SECONDS < settings.SESSION_ABSOLUTE_SECONDS
    assert settings.SESSION_STAFF_IDLE_SECONDS < settings.SESSION_IDLE_SECONDS
    assert settings.SESSION_STAFF_ABSOLUTE_SECONDS < settings.SESSION_ABSOLUTE_SECONDS
    assert settings.SESSION_ABSOLUTE_SECONDS <= 24 * 3600  # was two weeks
    # The cookie (and the stored session) never outlive the longest lifetime.
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_ABSOLUTE_SECONDS


def test_an_idle_session_ends_and_says_why(settings):
    settings.SESSION_IDLE_SECONDS = 600
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = signed_in(UserFactory())
        clock.shift(timedelta(seconds=590))
        assert is_signed_in(client)  # activity restarts the idle time
        clock.shift(timedelta(seconds=590))
        assert is_signed_in(client)
        clock.shift(timedelta(seconds=601))
        answer = client.get("/orgs/")
        assert answer.status_code == 302 and answer["Location"].startswith("/login/")
        page = client.get(answer["Location"]).content.decode()
        assert "inactive for 10 minutes" in page and "Sign in again" in page
        assert client.get("/orgs/").status_code == 302  # signed out, not just redirected


def test_an_active_session_ends_at_its_absolute_lifetime(settings):
    settings.SESSION_IDLE_SECONDS = 600
    settings.SESSION_ABSOLUTE_SECONDS = 1800
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = signed_in(UserFactory())
        for _ in range(3):
            clock.shift(timedelta(seconds=550))
            assert is_signed_in(client)
        clock.shift(timedelta(seconds=200))  # 1850 s after sign-in, 200 s after a page
        answer = client.get("/orgs/")
        assert answer.status_code == 302
        assert "after 30 minutes" in client.get(answer["Location"]).content.decode()


def test_the_json_api_answers_401_with_the_reason(settings):
    settings.SESSION_IDLE_SECONDS = 600
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = signed_in(UserFactory())
        clock.shift(timedelta(seconds=601))
        answer = client.get("/api/orgs/")
        assert answer.status_code == 401
        assert answer.json()["error"] == "session_expired"
        assert "inactive" in answer.json()["message"]


def test_staff_sessions_are_shorter(settings):
    settings.SESSION_STAFF_IDLE_SECONDS = 300
    settings.SESSION_IDLE_SECONDS = 3600
    with time_machine.travel(timezone.now(), tick=False) as clock:
        person, staff = signed_in(UserFactory()), signed_in(StaffUserFactory())
        assert staff.get("/admin/").status_code == 200
        clock.shift(timedelta(seconds=400))
        assert is_signed_in(person)
        answer = staff.get("/admin/")
        assert answer.status_code == 302 and "/login/" in answer["Location"]
        assert staff.get("/admin/").status_code == 302


def test_a_session_without_its_sign_in_time_is_ended():
    """Sessions are stamped when they sign in; one without the stamp cannot be aged, so
    it is not trusted."""
    client = signed_in(UserFactory())
    session = client.session
    del session["billingdash_signed_in_at"]
    session.save()
    assert not is_signed_in(client)
