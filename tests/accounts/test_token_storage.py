"""Tokens are stored encrypted (Fernet, rotation supported) and never shown: not in the
raw database row, not in social-auth's extra_data, not in the admin, not on error pages."""

import io
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from social_django.models import UserSocialAuth

from accounts.models import GitHubToken
from accounts.tokens import github_token_store
from billingdash import crypto
from billingdash.reporting import RedactingExceptionReporterFilter
from tests.factories import UserFactory

ACCESS = "ghu_" + "A" * 36
REFRESH = "ghr_" + "B" * 76


def raw_row(token_id: int) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token, refresh_token FROM accounts_githubtoken WHERE id = %s",
            [token_id],
        )
        return cursor.fetchone()


@pytest.fixture
def stored(db):
    user = UserFactory(github_login="olivia")
    token = github_token_store(
        user=user,
        client="app",
        token_response={
            "access_token": ACCESS,
            "refresh_token": REFRESH,
            "expires_in": 28800,
            "refresh_token_expires_in": 15811200,
            "scope": "",
            "token_type": "bearer",
        },
    )
    return user, token


def test_the_raw_database_row_holds_no_token(stored):
    _, token = stored
    access, refresh = raw_row(token.pk)
    assert ACCESS not in access and REFRESH not in refresh
    assert "ghu_" not in access and "ghr_" not in refresh
    assert crypto.decrypt(access) == ACCESS
    fresh = GitHubToken.objects.get(pk=token.pk)
    assert fresh.access_token == ACCESS and fresh.refresh_token == REFRESH
    assert "ghu_" not in repr(fresh.access_token)
    assert fresh.expires_at > timezone.now() + timedelta(hours=7)


def test_keys_rotate(stored, settings):
    _, token = stored
    old_key = settings.TOKEN_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.TOKEN_ENCRYPTION_KEYS = [new_key, old_key]
    # Old rows still read; a save re-encrypts with the new (first) key.
    row = GitHubToken.objects.get(pk=token.pk)
    assert row.access_token == ACCESS
    row.save()
    settings.TOKEN_ENCRYPTION_KEYS = [new_key]
    assert GitHubToken.objects.get(pk=token.pk).refresh_token == REFRESH


def test_the_admin_never_shows_a_token(stored, admin_client):
    user, token = stored
    UserSocialAuth.objects.create(user=user, provider="github-app", uid=str(user.github_id))
    for url in (
        "/admin/accounts/githubtoken/",
        f"/admin/accounts/githubtoken/{token.pk}/change/",
        f"/admin/accounts/user/{user.pk}/change/",
        "/admin/social_django/usersocialauth/",
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert ACCESS not in body and REFRESH not in body, url
        assert raw_row(token.pk)[0] not in body, url


def test_debug_tracebacks_mask_tokens(rf):
    request = rf.get("/complete/github-app/")

    def failing(access_token, response):
        raise RuntimeError("boom")

    try:
        failing(ACCESS, {"access_token": ACCESS, "login": "olivia", "note": f"x {REFRESH}"})
    except RuntimeError as exc:
        frame = exc.__traceback__.tb_next.tb_frame
    shown = dict(RedactingExceptionReporterFilter().get_traceback_frame_variables(request, frame))
    assert ACCESS not in str(shown) and REFRESH not in str(shown)
    assert "olivia" in str(shown["response"])


def test_rotate_token_keys_re_encrypts_every_token_with_the_new_key(stored, settings):
    _, stored = stored
    old_key = settings.TOKEN_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    before = raw_row(stored.pk)
    settings.TOKEN_ENCRYPTION_KEYS = [new_key, old_key]

    out = io.StringIO()
    call_command("rotate_token_keys", stdout=out)

    assert "re-encrypted 1 token(s); 0 unreadable" in out.getvalue()
    after = raw_row(stored.pk)
    assert after != before and ACCESS not in after[0]
    settings.TOKEN_ENCRYPTION_KEYS = [new_key]  # the old key is gone: still readable
    token = GitHubToken.objects.get(pk=stored.pk)
    assert (token.access_token, token.refresh_token) == (ACCESS, REFRESH)


def test_rotate_token_keys_reports_a_token_no_key_decrypts_and_keeps_it(stored, settings):
    _, stored = stored
    before = raw_row(stored.pk)
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    err = io.StringIO()

    with pytest.raises(SystemExit):
        call_command("rotate_token_keys", stdout=io.StringIO(), stderr=err)

    assert f"token #{stored.pk}: no configured key decrypts it" in err.getvalue()
    assert raw_row(stored.pk) == before
