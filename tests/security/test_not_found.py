"""The site's own 404 page in every mode a person can see (issue 13 item 12): the demo
runs with DEBUG on, and Django's debug 404 listed every URL pattern to people clicking
around it. With DEBUG on, unknown paths and views raising Http404 render
templates/404.html, with a next step; SHOW_DEBUG_404=true keeps the debug page."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from accounts.models import Membership
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

DEBUG_MARKERS = ("URLconf", "Django tried these URL patterns", "technical_404", "DEBUG = True")


@pytest.fixture
def member_client():
    org = OrganizationFactory(login="acme-corp")
    mia = UserFactory(github_login="mia")
    MembershipFactory(user=mia, organization=org, role=Membership.Role.MEMBER)
    client = Client()
    client.force_login(mia)
    return client


def assert_friendly(response, *, signed_in: bool) -> None:
    assert response.status_code == 404
    html = response.content.decode()
    for marker in DEBUG_MARKERS:
        assert marker not in html, marker
    assert 'data-page="not-found"' in html and "Page not found" in html
    if signed_in:
        assert 'href="/orgs/">Back to your organizations</a>' in html
    else:
        assert 'href="/login/">Sign in</a>' in html


@override_settings(DEBUG=True, SHOW_DEBUG_404=False)
@pytest.mark.parametrize("path", ["/no-such-page/", "/orgs/acme-corp/", "/orgs/nope/"])
def test_with_debug_on_a_signed_in_person_gets_the_sites_404(member_client, path):
    # An unknown path (no URL pattern), an org a member may not see (the access helper's
    # Http404), an org that does not exist.
    assert_friendly(member_client.get(path), signed_in=True)


@override_settings(DEBUG=True, SHOW_DEBUG_404=False)
def test_with_debug_on_an_anonymous_visitor_gets_the_sites_404(client):
    assert_friendly(client.get("/no-such-page/"), signed_in=False)


@override_settings(DEBUG=True, SHOW_DEBUG_404=False)
def test_a_missing_slash_still_redirects(member_client):
    response = member_client.get("/orgs")
    assert response.status_code == 301 and response["Location"] == "/orgs/"


@override_settings(DEBUG=False)
def test_with_debug_off_the_same_page(member_client):
    assert_friendly(member_client.get("/no-such-page/"), signed_in=True)


@override_settings(DEBUG=True, SHOW_DEBUG_404=True)
def test_developers_may_keep_djangos_debug_page(member_client):
    html = member_client.get("/no-such-page/").content.decode()
    assert "Django tried these URL patterns" in html
