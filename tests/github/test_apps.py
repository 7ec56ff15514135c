"""Authenticating as the App against the simulator: JWT-authenticated endpoints and the
shared, encrypted installation-token cache."""

import base64
import json
import os
import pickle
import subprocess
import sys
import threading
import time
from datetime import datetime
from email.utils import formatdate
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection, connections

from billingdash import crypto, github
from billingdash.github import apps, clock

ACCESS_TOKENS = "/app/installations/{}/access_tokens"


@pytest.fixture
def acme_installation(gh):
    return github.get_org_installation("acme-corp")["id"]


@pytest.fixture
def committed_cache(transactional_db):
    """Cache rows committed by transactional tests survive the table flush (the cache
    table is no model): start and end with an empty cache."""
    cache.clear()
    yield
    cache.clear()


def _posts(api_log, installation_id):
    path = ACCESS_TOKENS.format(installation_id)
    return [r["status"] for r in api_log() if r["api_path"] == path]


def _cache_row(installation_id):
    key = cache.make_key(apps._cache_key(installation_id), version=apps._CACHE_VERSION)
    with connection.cursor() as cursor:
        cursor.execute("SELECT value, expires FROM billingdash_cache WHERE cache_key = %s", [key])
        return cursor.fetchone()


def _sim_token_expiry(gh, token):
    for entry in gh.control.state().get("tokens", []):
        if entry.get("token") == token:
            return datetime.fromisoformat(entry["expires_at"].replace("Z", "+00:00"))
    return None


# --- endpoints authenticated with the App JWT -------------------------------------------


@pytest.mark.django_db
def test_app_endpoints(gh, api_log):
    app = github.get_app()
    assert app["id"] == gh.config.app_id
    assert app["slug"] == gh.config.app_slug
    installations = github.list_app_installations()
    assert [i["account"]["login"] for i in installations] == ["acme-corp"]
    one = github.get_app_installation(installations[0]["id"])
    assert one["id"] == installations[0]["id"]
    assert one["permissions"]["organization_administration"] == "read"
    assert github.get_org_installation("ACME-corp")["id"] == one["id"]
    with pytest.raises(github.NotFound):
        github.get_org_installation("globex")
    assert {r["token_kind"] for r in api_log()} == {"jwt"}


def test_jwt_verifies_with_the_apps_public_key(gh, settings):
    import jwt

    token = github.app_jwt()
    claims = jwt.decode(
        token, gh.config.app_public_key_pem, algorithms=["RS256"], issuer=gh.config.app_client_id
    )
    assert isinstance(claims["iss"], str)
    assert claims["exp"] - claims["iat"] == 540
    assert claims["iat"] <= time.time() - 59


@pytest.mark.django_db
def test_app_id_as_issuer_is_accepted(gh, settings):
    settings.GITHUB_APP_CLIENT_ID = ""
    assert github.get_app()["id"] == gh.config.app_id


@pytest.mark.django_db
def test_wrong_key_is_unauthorized(gh, settings):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings.GITHUB_APP_PRIVATE_KEY = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    with pytest.raises(github.Unauthorized):
        github.get_app()


# --- installation tokens ------------------------------------------------------------------


@pytest.mark.django_db
def test_create_installation_token(gh, acme_installation):
    created = github.create_installation_token(acme_installation)
    assert created.token.startswith("ghs_")
    assert created.permissions["organization_administration"] == "read"
    assert created.expires_at.tzinfo is not None
    assert created.token not in repr(created)


@pytest.mark.django_db
def test_installation_token_is_cached(gh, acme_installation, api_log):
    first = github.installation_token(acme_installation)
    with github.track_calls() as stats:
        second = github.installation_token(acme_installation)
    assert second == first
    assert stats.calls == 0
    assert _posts(api_log, acme_installation) == [201]
    assert github.get_authenticated_user  # the token works for the org's billing:
    assert github.check_billing_access(first, "acme-corp") == (True, None)


@pytest.mark.django_db
def test_cached_token_is_encrypted_in_the_database(gh, acme_installation):
    token = github.installation_token(acme_installation)
    value, _expires = _cache_row(acme_installation)
    assert token not in value
    stored = pickle.loads(base64.b64decode(value))
    assert token.encode() not in base64.b64decode(value)
    assert stored["token"] != token
    assert crypto.decrypt(stored["token"]) == token


@pytest.mark.django_db
def test_cache_entry_ends_five_minutes_before_github_expiry(gh, acme_installation):
    # The simulator's clock runs 100 s behind ours: GitHub's expires_at is ~3500 s away.
    gh.control.advance_clock(-100)
    token = github.installation_token(acme_installation)
    expires_at = _sim_token_expiry(gh, token)
    assert expires_at is not None
    _value, row_expires = _cache_row(acme_installation)
    # The row's expiry is by our clock; GitHub's is ours plus the offset learned from Date.
    margin = (expires_at - row_expires).total_seconds() - clock.offset()
    assert 300 - 3 <= margin <= 300 + 3, margin


@pytest.mark.django_db
def test_token_within_five_minutes_of_expiry_is_replaced(gh, acme_installation, api_log):
    old = github.installation_token(acme_installation)
    # This host learns that GitHub's clock is 56 min 40 s ahead of its own: the cached
    # token has 3 min 20 s left by GitHub's clock, inside the 5-minute margin.
    clock.observe(formatdate(time.time() + 3400, usegmt=True))
    assert 3390 < clock.offset() < 3410
    new = github.installation_token(acme_installation)
    assert new != old
    # GitHub (the simulator, in step with us) refused the JWT signed 3400 s in the
    # future; its Date header corrected the clock and the retry succeeded.
    assert _posts(api_log, acme_installation) == [201, 401, 201]
    assert abs(clock.offset()) < 5


@pytest.mark.django_db
def test_simulator_clock_expires_cached_token_five_minutes_early(
    gh, acme_installation, user_token, api_log
):
    token = user_token("olivia")
    old = github.installation_token(acme_installation)
    gh.control.advance_clock(3250)  # by GitHub's clock the token has 350 s left
    github.get_authenticated_user(token)  # any answer's Date tells us GitHub's time
    assert abs(clock.offset() - 3250) < 5
    assert github.installation_token(acme_installation) == old
    gh.control.advance_clock(100)  # 250 s left: inside the 5-minute margin
    github.get_authenticated_user(token)
    new = github.installation_token(acme_installation)
    assert new != old
    assert _posts(api_log, acme_installation) == [201, 201]  # JWT signed by GitHub's time


@pytest.mark.django_db
def test_jwt_refused_for_clock_skew_is_signed_again(gh, api_log):
    gh.control.advance_clock(3600)  # GitHub's clock jumps; we have not seen it yet
    assert github.get_app()["id"] == gh.config.app_id
    assert [r["status"] for r in api_log() if r["api_path"] == "/app"] == [401, 200]
    assert abs(clock.offset() - 3600) < 5


@pytest.mark.django_db
def test_forget_installation_token(gh, acme_installation, api_log):
    old = github.installation_token(acme_installation)
    github.forget_installation_token(acme_installation)
    assert _cache_row(acme_installation) is None
    assert github.installation_token(acme_installation) != old
    assert _posts(api_log, acme_installation) == [201, 201]


@pytest.mark.django_db
def test_revoke_installation_token(gh, acme_installation):
    token = github.installation_token(acme_installation)
    github.revoke_installation_token(token)
    with pytest.raises(github.Unauthorized):
        github.check_billing_access(token, "acme-corp")
    github.forget_installation_token(acme_installation)
    assert github.check_billing_access(github.installation_token(acme_installation), "acme-corp")


@pytest.mark.django_db
def test_undecryptable_cache_entry_is_replaced(gh, acme_installation, settings):
    from cryptography.fernet import Fernet

    old = github.installation_token(acme_installation)
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # old key gone
    assert github.installation_token(acme_installation) != old


def test_concurrent_misses_fetch_once(committed_cache, gh, acme_installation, api_log):
    results, errors = [], []

    def worker():
        try:
            results.append(github.installation_token(acme_installation))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert len(results) == 6 and len(set(results)) == 1
    assert _posts(api_log, acme_installation) == [201]


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.skip("sharing the cache with another process needs the PostgreSQL test database")
    auth = quote(s["USER"] or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{s['NAME']}"


def test_cache_is_shared_with_other_processes(committed_cache, gh, acme_installation, api_log):
    token = github.installation_token(acme_installation)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "billingdash.settings",
        "DATABASE_URL": _database_url(),
        "TOKEN_ENCRYPTION_KEYS": ",".join(django_settings.TOKEN_ENCRYPTION_KEYS),
        "GITHUB_API_URL": django_settings.GITHUB_API_URL,
        "GITHUB_WEB_URL": django_settings.GITHUB_WEB_URL,
        "GITHUB_APP_ID": str(django_settings.GITHUB_APP_ID),
        "GITHUB_APP_CLIENT_ID": django_settings.GITHUB_APP_CLIENT_ID,
        "GITHUB_APP_PRIVATE_KEY": django_settings.GITHUB_APP_PRIVATE_KEY,
        "LOG_LEVEL": "WARNING",
    }
    script = (
        "import json, sys, django\n"
        "django.setup()\n"
        "from billingdash import github\n"
        "with github.track_calls() as stats:\n"
        "    token = github.installation_token(int(sys.argv[1]))\n"
        "print(json.dumps({'token': token, 'calls': stats.calls}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(acme_installation)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=django_settings.BASE_DIR,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"token": token, "calls": 0}
    assert _posts(api_log, acme_installation) == [201]
