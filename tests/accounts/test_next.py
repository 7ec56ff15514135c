"""`next` can only lead to a path on this site."""

import pytest
from django.test import RequestFactory

from accounts.signin.redirects import safe_next

ATTACKS = [
    "https://evil.example",
    "https://evil.example/orgs/",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,hi",
    "http://testserver.evil.example/",
    "/\t/evil.example",
    "/%0a/evil.example\n",
    "evil.example",
]


@pytest.mark.parametrize("value", ATTACKS)
def test_safe_next_refuses(value):
    assert safe_next(RequestFactory().get("/login/"), value) == ""


@pytest.mark.parametrize("value", ["/orgs/", "/orgs/acme-corp/?month=2026-11", "/"])
def test_safe_next_keeps_local_paths(value):
    assert safe_next(RequestFactory().get("/login/"), value) == value


@pytest.mark.parametrize("value", ATTACKS)
def test_the_login_page_drops_unsafe_next(client, db, value):
    html = client.get("/login/", {"next": value}).content.decode()
    assert 'name="next"' not in html


def test_the_login_page_keeps_a_local_next(client, db, settings):
    settings.GITHUB_SIGNIN_CLIENT = "oauth"
    settings.GITHUB_OAUTH_CLIENT_ID, settings.GITHUB_OAUTH_CLIENT_SECRET = "id", "secret"
    html = client.get("/login/", {"next": "/orgs/acme-corp/"}).content.decode()
    assert 'name="next" value="/orgs/acme-corp/"' in html
    assert 'action="/login/github-oauth/"' in html
