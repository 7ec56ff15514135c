"""Security headers and cookie flags.

- Every page (every URL pattern, the admin's included, walked as olivia, bill, mia,
  charlie, a staff member and anonymously, plus the 404 and CSRF-failure pages) that is
  HTML carries a Content-Security-Policy without ``unsafe-inline``/``unsafe-eval`` and
  with ``frame-ancestors 'none'``; every response carries ``X-Frame-Options: DENY`` and
  ``X-Content-Type-Options: nosniff``.
- The session and CSRF cookies: production settings (DEBUG off, in a subprocess with
  production-like variables) make them Secure; on the wire, over HTTPS, the session
  cookie is HttpOnly, both are SameSite=Lax and Secure. In development (DEBUG on, plain
  HTTP) they are HttpOnly/SameSite=Lax but not Secure.

`manage.py check --deploy` with production variables is clean: that check is
``tests/test_settings.py::test_check_deploy_is_clean_with_production_variables``.
"""

from __future__ import annotations

import json
import re

import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.test import Client, override_settings

from tests.test_settings import PRODUCTION, run_manage

from .conftest import ORG, routes

pytestmark = pytest.mark.django_db

FORBIDDEN_SOURCES = ("'unsafe-inline'", "'unsafe-eval'", "*")


def csp_directives(header: str) -> dict[str, list[str]]:
    parts = [p.strip().split() for p in header.split(";") if p.strip()]
    return {p[0]: p[1:] for p in parts}


def check_headers(response, where) -> bool:
    """Assert the headers; True when the response was an HTML page."""
    assert response["X-Frame-Options"] == "DENY", where
    assert response["X-Content-Type-Options"] == "nosniff", where
    if not response.get("Content-Type", "").startswith("text/html"):
        return False
    header = response.get("Content-Security-Policy")
    assert header, ("no CSP", where)
    directives = csp_directives(header)
    for name, sources in directives.items():
        bad = [s for s in sources if s in FORBIDDEN_SOURCES]
        assert not bad, (where, name, bad)
    assert directives["frame-ancestors"] == ["'none'"], where
    assert directives["default-src"] == ["'self'"], where
    assert directives["script-src"] == ["'self'"], where
    assert directives["object-src"] == ["'none'"], where
    assert directives["base-uri"] == ["'none'"], where
    return True


def test_every_page_has_csp_and_frame_headers(world):
    pages = 0
    values = {"login": ORG, "backend": "github-oauth", "app_label": "accounts"}
    values["object_id"] = str(world.org.pk)
    for who, client in world.clients.items():
        for route in routes():
            if route.name.startswith("admin:") and who not in ("staff", "olivia"):
                continue  # the admin answers everyone else alike (its login page)
            url = route.url(**values)
            response = client.get(url)
            assert response.status_code < 500, (who, url)
            pages += check_headers(response, (who, url))
    # The error pages, and pages of the dashboard with data and filters.
    olivia = world.clients["olivia"]
    extra = [
        olivia.get("/orgs/no-such-org/"),
        olivia.get(f"/orgs/{ORG}/?range=3m&product=actions"),
        Client(enforce_csrf_checks=True).post("/logout/"),
    ]
    assert [r.status_code for r in extra] == [404, 200, 403]
    for response in extra:
        assert check_headers(response, response.wsgi_request.path)
    assert pages > 150


def test_production_settings_make_cookies_secure():
    """The settings module itself, loaded with DEBUG off and production variables."""
    code = (
        "import json; from django.conf import settings as s; print(json.dumps({k: getattr(s, k) "
        "for k in ('DEBUG', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', "
        "'SESSION_COOKIE_HTTPONLY', 'SESSION_COOKIE_SAMESITE', 'CSRF_COOKIE_SAMESITE', "
        "'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'X_FRAME_OPTIONS')}))"
    )
    env = {**PRODUCTION, "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode()}
    result = run_manage("shell", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SAMESITE": "Lax",
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "X_FRAME_OPTIONS": "DENY",
    }


def sign_in_to_admin(secure: bool) -> tuple[str, str]:
    """A staff sign-in through the admin's real login form; the Set-Cookie headers of
    the CSRF cookie (from the form) and of the session cookie (from the sign-in)."""
    from tests.factories import StaffUserFactory

    user = StaffUserFactory(username="cookie-staff")
    client = Client(enforce_csrf_checks=True)
    origin = {"HTTP_ORIGIN": "https://testserver"} if secure else {}
    page = client.get("/admin/login/", secure=secure)
    csrf_cookie = page.cookies[django_settings.CSRF_COOKIE_NAME].output()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    answer = client.post(
        "/admin/login/?next=/admin/",
        {
            "username": user.username,
            "password": "staff-password-123",
            "csrfmiddlewaretoken": token.group(1),
        },
        secure=secure,
        **origin,
    )
    assert answer.status_code == 302, answer.content[:500]
    return csrf_cookie, answer.cookies[django_settings.SESSION_COOKIE_NAME].output()


def flags(set_cookie: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in set_cookie.split(";")[1:]}


def test_cookies_on_the_wire_in_production():
    with override_settings(SESSION_COOKIE_SECURE=True, CSRF_COOKIE_SECURE=True):
        csrf_cookie, session_cookie = sign_in_to_admin(secure=True)
    assert {"httponly", "secure", "samesite"} <= flags(session_cookie), session_cookie
    assert {"secure", "samesite"} <= flags(csrf_cookie), csrf_cookie
    for cookie in (session_cookie, csrf_cookie):
        assert "samesite=lax" in cookie.lower(), cookie


def test_cookies_in_development_are_httponly_and_lax():
    csrf_cookie, session_cookie = sign_in_to_admin(secure=False)
    assert "httponly" in flags(session_cookie)
    assert "secure" not in flags(session_cookie)  # DEBUG serves plain http://localhost
    for cookie in (session_cookie, csrf_cookie):
        assert "samesite=lax" in cookie.lower(), cookie
