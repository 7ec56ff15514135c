"""Shared fixtures. Services are real: PostgreSQL and Redis from DATABASE_URL/REDIS_URL.

Under CI=true a test that needs a missing service fails; elsewhere it is skipped with
a message that says what to start.
"""

import os

import pytest
import redis
from django.conf import settings

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_service(ok: bool, what: str) -> None:
    """Fail under CI, skip elsewhere, when a service the test needs is missing."""
    if ok:
        return
    if IN_CI:
        pytest.fail(f"{what} is not available (CI=true: a missing service is a failure)")
    pytest.skip(f"{what} is not available")


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = settings.REDIS_URL
    try:
        ok = bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        ok = False
    require_service(ok, f"Redis at {url}")
    return url
