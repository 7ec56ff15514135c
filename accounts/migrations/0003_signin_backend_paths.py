"""The sign-in backends moved (`accounts.backends` -> `accounts.signin.backends`).

Django keeps the dotted path of the backend that signed each session in, and signs a
session out when that path is no longer in AUTHENTICATION_BACKENDS. This migration
rewrites the path in stored sessions, so nobody is signed out by the move.
"""

from django.db import migrations

MOVED = {
    "accounts.backends.GitHubAppSignIn": "accounts.signin.backends.GitHubAppSignIn",
    "accounts.backends.GitHubOAuthSignIn": "accounts.signin.backends.GitHubOAuthSignIn",
}
KEY = "_auth_user_backend"


def _rewrite(apps, mapping: dict[str, str]) -> None:
    from django.contrib.sessions.backends.db import SessionStore

    Session = apps.get_model("sessions", "Session")
    store = SessionStore()
    for session in Session.objects.iterator(chunk_size=500):
        data = store.decode(session.session_data)
        if data.get(KEY) in mapping:
            data[KEY] = mapping[data[KEY]]
            session.session_data = store.encode(data)
            session.save(update_fields=["session_data"])


def forwards(apps, schema_editor) -> None:
    _rewrite(apps, MOVED)


def backwards(apps, schema_editor) -> None:
    _rewrite(apps, {new: old for old, new in MOVED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_github_token_verbose_name"),
        ("sessions", "0001_initial"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
