"""Settings refuse unsafe production values; `check --deploy` is clean in production."""

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "SECRET"))}
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
