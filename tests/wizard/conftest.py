"""Fixtures for the install wizard and the setup callback: a simulator of this suite's own
(its Setup URL and webhook URL point at this suite's servers), browsers that sign in
through it, and helpers that drive GitHub's install page as a browser would.

Personas: olivia (owner of acme-corp and globex), bill (billing manager of both), mia
(member), charlie (stranger). The App is installed on acme-corp at GitHub, not on globex.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from html import unescape
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import WebhookDelivery
from accounts.signals import installation_ready
from tests.accounts.flow import GitHubBrowser, forms
from tests.helpers import allow_github_origin, apply_env, github_env

try:
    from ghsim.config import SimConfig
    from ghsim.testing import SimulatorServer
except ImportError as exc:  # pragma: no cover - the simulator ships with the repository
    pytest.fail(f"ghsim is not importable: {exc}", pytrace=False)

ACME, GLOBEX, INITECH = 7770001, 7770002, 7770003
ACME_INSTALLATION = 8880001
TEST_SETUP_URL = "http://testserver/github/setup/"
BACKFILL_MONTHS = 3


@pytest.fixture(scope="session")
def wizard_app() -> tuple[SimConfig, str]:
    return SimConfig.generate(setup_url=TEST_SETUP_URL)


@pytest.fixture(scope="session")
def wizard_sim(wizard_app) -> Iterator[SimulatorServer]:
    config, _ = wizard_app
    with SimulatorServer(config) as sim:
        yield sim


def wizard_env(sim: SimulatorServer, app: tuple[SimConfig, str]) -> dict[str, str]:
    """The GITHUB_* settings (and the backfill length) of this process and the worker."""
    return github_env(
        sim, app, BACKFILL_MONTHS=str(BACKFILL_MONTHS), COLLECTION_RETRY_BASE_SECONDS="1"
    )


def set_setup_url(sim: SimulatorServer, url: str | None) -> None:
    """Where the simulator's install page sends the browser back (the App's Setup URL)."""
    with sim.state.lock:
        sim.state.config.setup_url = url


@pytest.fixture
def wgh(wizard_sim, wizard_app, settings, db) -> Iterator[SimulatorServer]:
    """The simulator, reset to the demo world, webhooks recorded (not sent), the Setup
    URL on Django's test client, and this process's settings pointing at it."""
    wizard_sim.control.reset()
    wizard_sim.control.set_webhook_url(None)
    set_setup_url(wizard_sim, TEST_SETUP_URL)
    cache.clear()  # installation tokens of an earlier world
    apply_env(settings, wizard_env(wizard_sim, wizard_app))
    settings.GITHUB_SIGNIN_CLIENT = "oauth"
    allow_github_origin(settings, wizard_sim.web_url)
    yield wizard_sim
    wizard_sim.control.set_webhook_url(None)
    set_setup_url(wizard_sim, TEST_SETUP_URL)


@pytest.fixture(autouse=True)
def _own_celery_queue(celery_queue: str) -> str:
    """Whatever this suite publishes (the backfill, webhook processing) goes to a queue
    of the test's own."""
    return celery_queue


@pytest.fixture
def celery_worker_env(wizard_sim, wizard_app, celery_queue) -> dict[str, str]:
    return {**wizard_env(wizard_sim, wizard_app), "CELERY_TASK_DEFAULT_QUEUE": celery_queue}


@pytest.fixture
def ready_signals() -> Iterator[list[tuple[int, str]]]:
    """Every ``installation_ready`` sent, as (installation id, reason)."""
    seen: list[tuple[int, str]] = []

    def receiver(sender: Any, *, installation: Any, reason: str = "", **_: Any) -> None:
        seen.append((installation.installation_id, reason))

    installation_ready.connect(receiver, dispatch_uid="tests.wizard.ready_signals")
    try:
        yield seen
    finally:
        installation_ready.disconnect(dispatch_uid="tests.wizard.ready_signals")


# --- browsers ---------------------------------------------------------------------------


@pytest.fixture
def browsers(wgh, db) -> Callable[[str], GitHubBrowser]:
    """browsers("olivia") -> a browser signed in as olivia (GitHub and billingdash)."""

    def sign_in(persona: str, backend: str = "github-oauth") -> GitHubBrowser:
        browser = GitHubBrowser(sim_url=wgh.web_url)
        answer = browser.sign_in(persona, backend)
        assert answer.status_code == 302, answer.content[:500]
        assert "/login/" not in answer["Location"], answer["Location"]
        return browser

    return sign_in


def links(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'<a [^>]*href="([^"]+)"', html)]


def install_link(html: str, web_url: str) -> str:
    """The wizard's button to GitHub's install page."""
    found = [h for h in links(html) if h.startswith(web_url + "/apps/")]
    assert found, "no install link on the page"
    return found[0]


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def press_install(browser: GitHubBrowser, url: str, button: str = "install") -> str:
    """On the simulator's install page at `url`, press Install (or Request); returns
    where GitHub sends the browser (our Setup URL with its query)."""
    page = browser.github.get(url, timeout=10)
    assert page.status_code == 200, page.text[:500]
    form = forms(page.text)[-1]
    data = {**form["fields"], button: "1"}
    answer = browser.github.post(url, data=data, allow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303), answer.text[:500]
    return answer.headers["Location"]


def open_setup(client: Client, setup_url: str):
    """Follow GitHub's redirect to our Setup URL with the Django test client."""
    parts = urlsplit(setup_url)
    return client.get(parts.path, dict(parse_qsl(parts.query)))


def post_sim_webhook(client: Client, app: tuple[SimConfig, str], delivery: dict[str, Any]):
    """POST a delivery the simulator recorded to our webhook endpoint, signed as GitHub."""
    config, _ = app
    body = json.dumps(delivery["payload"]).encode()
    signature = hmac.new(config.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
    response = client.post(
        "/github/webhook/",
        data=body,
        content_type="application/json",
        HTTP_X_GITHUB_EVENT=delivery["event"],
        HTTP_X_GITHUB_DELIVERY=delivery.get("guid") or str(uuid.uuid4()),
        HTTP_X_HUB_SIGNATURE_256=f"sha256={signature}",
    )
    assert response.status_code in (200, 202), response.content
    return WebhookDelivery.objects.get(delivery_id=delivery["guid"])


def wait_until(check: Callable[[], Any], what: str, worker: Any = None, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            log = worker.log()[-4000:] if worker is not None else ""
            pytest.fail(f"timed out waiting for {what}\n{log}")
        time.sleep(0.1)


def csrf_post(client: Client, path: str, data: dict[str, str]):
    """POST like a browser (the client enforces CSRF): with the form's token."""
    page = client.get(path)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token, "no form on the page"
    return client.post(path, {**data, "csrfmiddlewaretoken": token.group(1)})
