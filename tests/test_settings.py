"""Settings refuse unsafe production values; `check --deploy` is clean in production."""

import json
import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args: str, unset: tuple[str, ...] = (), **env: str) -> subprocess.CompletedProcess:
    """``manage.py <args>`` in a child process, with `env` added to this environment (less
    the GitHub settings, the secret key and the names in `unset`)."""
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "SECRET")) and k not in unset
    }
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k3-Qz8r!vT0pLm2wXy7nB5cD9eF1gH4jK6sA%uI0oP_rE8tY2-more",
    "ALLOWED_HOSTS": "billing.example.com",
    "SECURE_PROXY_SSL_HEADER": "true",
    "AXES_PROXY_COUNT": "1",
}


def test_debug_off_refuses_the_development_secret_key():
    result = run_manage(
        "check", DEBUG="false", TOKEN_ENCRYPTION_KEYS=Fernet.generate_key().decode()
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_debug_off_refuses_the_development_encryption_key():
    result = run_manage("check", DEBUG="false", SECRET_KEY="x7" * 30)
    assert result.returncode != 0
    assert "TOKEN_ENCRYPTION_KEYS" in result.stderr


def test_check_deploy_is_clean_with_production_variables():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        TOKEN_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def settings_of(*names: str, unset: tuple[str, ...] = (), **env: str) -> dict:
    """The values of settings `names` in a child process with `env`."""
    code = (
        "import json; from django.conf import settings as s; "
        f"print(json.dumps({{k: getattr(s, k) for k in {list(names)!r}}}, default=str))"
    )
    result = run_manage("shell", "-c", code, unset=unset, **env)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- DEBUG is off unless set (issue 14, finding 4) ------------------------------------------


def test_an_unset_environment_refuses_to_run_with_the_development_keys():
    result = run_manage("check", unset=("DEBUG", "TOKEN_ENCRYPTION_KEYS"))
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    assert "DEBUG=true" in result.stderr  # says how to run a development server


def test_debug_defaults_to_off():
    found = settings_of(
        "DEBUG",
        "SESSION_COOKIE_SECURE",
        unset=("DEBUG",),
        SECRET_KEY=PRODUCTION["SECRET_KEY"],
        TOKEN_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
    )
    assert found == {"DEBUG": False, "SESSION_COOKIE_SECURE": True}


# --- a trusted proxy header needs the proxy count (finding 2) -------------------------------


def test_a_trusted_proxy_header_without_a_proxy_count_refuses_to_start():
    keys = {"TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode()}
    for header in ("SECURE_PROXY_SSL_HEADER", "USE_X_FORWARDED_HOST"):
        env = {**PRODUCTION, "SECURE_PROXY_SSL_HEADER": "false", header: "true", **keys}
        for count in ("0", None):
            if count is None:
                result = run_manage(
                    "check",
                    unset=("AXES_PROXY_COUNT",),
                    **{k: v for k, v in env.items() if k != "AXES_PROXY_COUNT"},
                )
            else:
                result = run_manage("check", **{**env, "AXES_PROXY_COUNT": count})
            assert result.returncode != 0, (header, count)
            assert "AXES_PROXY_COUNT" in result.stderr, (header, count, result.stderr[-500:])
        assert run_manage("check", **{**env, "AXES_PROXY_COUNT": "1"}).returncode == 0, header


# --- CSP img-src: the site and GitHub's avatars only (missing piece 10) ---------------------


def img_src(web_url: str) -> list[str]:
    return settings_of("CONTENT_SECURITY_POLICY", GITHUB_WEB_URL=web_url)[
        "CONTENT_SECURITY_POLICY"
    ]["DIRECTIVES"]["img-src"]


def test_img_src_allows_github_com_avatars_only():
    assert sorted(img_src("https://github.com")) == sorted(
        ["'self'", "https://avatars.githubusercontent.com"]
    )


def test_img_src_allows_a_ghes_hosts_own_origin():
    assert sorted(img_src("https://ghe.example.com/")) == sorted(
        ["'self'", "https://ghe.example.com"]
    )
    assert sorted(img_src("http://127.0.0.1:8001")) == sorted(["'self'", "http://127.0.0.1:8001"])
