"""Fixtures for the simulator's own tests: one simulator for the session, reset per test.

The RSA key is generated at run time (never committed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ghsim.config import SimConfig
from ghsim.testing import SimulatorServer
from tests.ghsim.helpers import CALLBACK, SETUP, ApiSession, WebhookReceiver


@pytest.fixture(scope="session")
def receiver() -> Iterator[WebhookReceiver]:
    rec = WebhookReceiver().start()
    yield rec
    rec.stop()


@pytest.fixture(scope="session")
def sim_keys(receiver: WebhookReceiver) -> tuple[SimConfig, str]:
    return SimConfig.generate(
        webhook_url=receiver.url, callback_urls=[CALLBACK], setup_url=SETUP, seed=7
    )


@pytest.fixture(scope="session")
def sim_server(sim_keys: tuple[SimConfig, str]) -> Iterator[SimulatorServer]:
    server = SimulatorServer(sim_keys[0]).start()
    yield server
    server.stop()


@pytest.fixture
def sim(sim_server: SimulatorServer, receiver: WebhookReceiver) -> Iterator[SimulatorServer]:
    """The session's simulator, back to the seeded demo world (and the 7 seed)."""
    sim_server.control.reset(seed=7)
    sim_server.control.set_webhook_url(receiver.url)
    receiver.clear()
    yield sim_server
    sim_server.control.wait_for_deliveries(timeout=10)


@pytest.fixture
def private_key(sim_keys: tuple[SimConfig, str]) -> str:
    return sim_keys[1]


@pytest.fixture
def config(sim_keys: tuple[SimConfig, str]) -> SimConfig:
    return sim_keys[0]


@pytest.fixture
def api(sim: SimulatorServer) -> Iterator[ApiSession]:
    session = ApiSession(sim.api_url)
    yield session
    session.close()


@pytest.fixture
def token(sim: SimulatorServer) -> Any:
    """token("olivia") -> a ghu_ access token; token("olivia", "oauth", scope="read:org")."""

    def issue(user: str, client: str = "app", **options: Any) -> str:
        return sim.control.issue_token(user, client, **options)["access_token"]

    return issue
