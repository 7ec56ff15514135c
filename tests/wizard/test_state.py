"""The signed install state on its own: two requests racing with one state."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.test import RequestFactory

from accounts.installations.install_state import (
    MAX_OUTSTANDING,
    SESSION_KEY,
    InvalidState,
    consume,
    issue,
)
from tests.factories import UserFactory


def request_with(session_key: str | None, user):
    request = RequestFactory().get("/github/setup/")
    request.session = SessionStore(session_key)
    request.user = user
    return request


@pytest.mark.django_db
def test_two_requests_racing_with_one_state_let_one_through():
    cache.clear()
    user = UserFactory()
    first = request_with(None, user)
    state = issue(first)
    first.session.save()
    # Both requests loaded the session (with the nonce) before either saved it.
    one, two = (
        request_with(first.session.session_key, user),
        request_with(first.session.session_key, user),
    )
    assert consume(one, state).user_id == user.pk
    with pytest.raises(InvalidState) as refused:
        consume(two, state)
    assert refused.value.reason == "used"


@pytest.mark.django_db
def test_a_session_keeps_a_bounded_number_of_states():
    user = UserFactory()
    request = request_with(None, user)
    states = [issue(request) for _ in range(MAX_OUTSTANDING + 2)]
    assert len(request.session[SESSION_KEY]) == MAX_OUTSTANDING
    with pytest.raises(InvalidState):
        consume(request, states[0])  # the oldest was dropped
    assert consume(request, states[-1]).user_id == user.pk
