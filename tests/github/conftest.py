"""Fixtures for the GitHub client tests: one simulator per session (real HTTP), Django
settings pointed at it, and a clean simulator (faults, request log, clock) per test."""

import socket

import pytest

from ghsim.config import SimConfig
from ghsim.testing import SimulatorServer


@pytest.fixture(scope="session")
def sim_app():
    """(config, private_key_pem) of the simulated GitHub App."""
    return SimConfig.generate()


@pytest.fixture(scope="session")
def simulator(sim_app):
    config, _ = sim_app
    with SimulatorServer(config) as sim:
        yield sim


@pytest.fixture(autouse=True)
def _fresh_github_clock():
    """The client learns GitHub's clock offset process-wide: start each test in step."""
    from billingdash.github import clock

    clock.forget()
    yield
    clock.forget()


@pytest.fixture
def gh(simulator, sim_app, settings):
    """The simulator, reset, with Django's GitHub settings pointing at it."""
    config, private_pem = sim_app
    control = simulator.control
    control.reset()
    settings.GITHUB_WEB_URL = simulator.web_url
    settings.GITHUB_API_URL = simulator.api_url
    settings.GITHUB_APP_ID = str(config.app_id)
    settings.GITHUB_APP_SLUG = config.app_slug
    settings.GITHUB_APP_CLIENT_ID = config.app_client_id
    settings.GITHUB_APP_CLIENT_SECRET = config.app_client_secret
    settings.GITHUB_APP_PRIVATE_KEY = private_pem
    settings.GITHUB_OAUTH_CLIENT_ID = config.oauth_client_id
    settings.GITHUB_OAUTH_CLIENT_SECRET = config.oauth_client_secret
    settings.GITHUB_HTTP_CONNECT_TIMEOUT = 2.0
    settings.GITHUB_HTTP_READ_TIMEOUT = 5.0
    settings.GITHUB_HTTP_MAX_ATTEMPTS = 3
    settings.GITHUB_HTTP_BACKOFF_SECONDS = 0.01
    yield simulator
    control.reset()


@pytest.fixture
def api_log(gh):
    """`api_log()` -> the simulator's log of API requests (not /_sim, not web pages)."""

    def read(since: int = 0) -> list[dict]:
        return [r for r in gh.control.requests_log(since) if r.get("kind") == "api"]

    return read


@pytest.fixture
def user_token(gh):
    """`user_token("olivia")` -> a fresh GitHub App user access token from the simulator."""

    def make(login: str, client: str = "app") -> str:
        return gh.control.issue_token(login, client=client)["access_token"]

    return make


@pytest.fixture
def closed_port() -> int:
    """A local TCP port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
