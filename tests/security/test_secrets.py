"""No token, key or secret in any rendered page or any log line.

The secrets are real: people sign in through the simulator (classic OAuth ``gho_``;
olivia also through the App's client, ``ghu_`` + ``ghr_``), the installation token
(``ghs_``) is minted with the App's JWT and cached, webhooks are signed with the secret.
Searched for: every token's value and its stored ciphertext, the cached installation
token and its ciphertext, the webhook secret, both client secrets, ``SECRET_KEY``, the
token encryption keys, the App private key's lines, and anything shaped like a GitHub
token, a Fernet ciphertext, a JWT or a PEM key.

- Pages: every non-admin URL pattern and the pages around it (dashboard with filters,
  CSV, JSON API, progress, wizard, error pages), bodies and headers, as olivia, bill,
  mia, charlie and a staff member. (The admin has its own test:
  ``tests/admin/test_secrets.py``.)
- Logs: at DEBUG, a full sign-in + collection + webhook run in this process (every
  record, before any redaction), and the log of a real worker process that collects and
  processes a webhook (``LOG_LEVEL=DEBUG``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import uuid

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection
from django.test import Client

from accounts.models import GitHubToken, Installation, WebhookDelivery
from accounts.webhooks.handlers import webhook_delivery_process
from billingdash import github
from tests.accounts.flow import GitHubBrowser
from tests.browser import wait_until
from tests.dashboard.conftest import collect
from tests.helpers import github_env
from usage import periods
from usage.collection.services import run_enqueue
from usage.models import CollectionRun

from .conftest import ORG, routes

TOKEN_SHAPE = re.compile(
    r"gh[pousr]_[A-Za-z0-9_]{16,}|gAAAAA[A-Za-z0-9_\-=]{20,}"
    r"|eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}|PRIVATE KEY"
)


def sign_in(sim, settings, persona: str, client: str = "oauth") -> GitHubBrowser:
    """The real sign-in, with the classic OAuth App (gho_) or the App's client (ghu_)."""
    settings.GITHUB_SIGNIN_CLIENT = client
    browser = GitHubBrowser(sim_url=sim.web_url)
    answer = browser.sign_in(persona, f"github-{client}")
    assert answer.status_code == 302 and "/login/" not in answer["Location"], answer
    return browser


def known_secrets(org) -> dict[str, str]:
    inst = Installation.objects.get(organization=org)
    installation_token = github.installation_token(inst.installation_id)
    cached = cache.get(f"github:installation-token:{inst.installation_id}", version=1)
    found = {
        "installation token": installation_token,
        "cached installation token ciphertext": cached["token"],
        "webhook secret": django_settings.GITHUB_WEBHOOK_SECRET,
        "App client secret": django_settings.GITHUB_APP_CLIENT_SECRET,
        "OAuth client secret": django_settings.GITHUB_OAUTH_CLIENT_SECRET,
        "SECRET_KEY": django_settings.SECRET_KEY,
    }
    for token in GitHubToken.objects.select_related("user"):
        for kind in ("access_token", "refresh_token"):
            if value := str(getattr(token, kind) or ""):
                found[f"{token.user.github_login} {token.client} {kind}"] = value
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token, refresh_token FROM accounts_githubtoken")
        for i, value in enumerate(v for row in cursor.fetchall() for v in row if v):
            found[f"token ciphertext {i}"] = value
    for i, key in enumerate(django_settings.TOKEN_ENCRYPTION_KEYS):
        found[f"token encryption key {i}"] = key
    pem = django_settings.GITHUB_APP_PRIVATE_KEY.strip().splitlines()
    for i, line in enumerate(line for line in pem if len(line) >= 40):
        found[f"private key line {i}"] = line
    assert all(found.values()), [k for k, v in found.items() if not v]
    return found


def leaks(text: str, secrets: dict[str, str]) -> list[str]:
    found = [what for what, value in secrets.items() if value in text]
    return found + [f"token-shaped: {m.group()[:12]}..." for m in TOKEN_SHAPE.finditer(text)]


def signed_webhook(event: str, payload: dict) -> dict:
    body = json.dumps(payload).encode()
    secret = django_settings.GITHUB_WEBHOOK_SECRET.encode()
    return {
        "path": "/github/webhook/",
        "data": body,
        "content_type": "application/json",
        "HTTP_X_GITHUB_EVENT": event,
        "HTTP_X_GITHUB_DELIVERY": str(uuid.uuid4()),
        "HTTP_X_HUB_SIGNATURE_256": "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest(),
    }


def permissions_webhook(org) -> dict:
    """GitHub's installation.new_permissions_accepted for the org: processing it asks
    GitHub for the installation with the App's JWT."""
    inst = Installation.objects.get(organization=org)
    return signed_webhook(
        "installation",
        {
            "action": "new_permissions_accepted",
            "installation": {
                "id": inst.installation_id,
                "account": {"id": org.github_id, "login": org.login, "type": "Organization"},
                "target_type": "Organization",
                "permissions": inst.permissions,
            },
            "sender": {"id": 5550001, "login": "olivia"},
        },
    )


# --- pages ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_no_secret_in_any_page(world, github_settings, settings):
    sign_in(github_settings, settings, "olivia", "app")  # ghu_ + ghr_ stored as well
    people = ("olivia", "bill", "mia", "charlie")
    browsers = {who: sign_in(github_settings, settings, who) for who in people}
    Client().post(**permissions_webhook(world.org))  # a stored, signed delivery
    secrets = known_secrets(world.org)
    assert {"olivia app refresh_token", "charlie oauth access_token"} <= set(secrets)
    clients = {who: b.client for who, b in browsers.items()}
    clients["staff"] = world.clients["staff"]
    values = {"login": ORG, "backend": "github-oauth"}
    urls = [r.url(**values) for r in routes() if not r.name.startswith("admin:")]
    urls += [
        f"/orgs/{ORG}/?range=3m",
        f"/orgs/{ORG}/?range=custom&start=2026-01-01&end=2026-12-31&product=copilot",
        f"/orgs/{ORG}/usage.csv?range=3m",
        *(f"/api/orgs/{ORG}/usage?range=3m&group_by={g}" for g in ("day", "sku", "repository")),
        f"/install/?org={ORG}",
        "/github/setup/?installation_id=1&setup_action=install&state=forged",
        "/complete/github-oauth/?error=access_denied&state=forged",
        "/orgs/no-such-org/",
    ]
    pages = 0
    for who, client in clients.items():
        for url in urls:
            response = client.get(url)
            assert response.status_code < 500, (who, url)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            text = body.decode("utf-8", "replace") + "\n" + str(response.headers)
            assert leaks(text, secrets) == [], (who, url)
            pages += 1
    assert pages > 100
    # Not vacuous: the pages showed the organization's data to those who may see it.
    dashboard = clients["olivia"].get(f"/orgs/{ORG}/").content
    assert b"data-plotly-figure" in dashboard


# --- logs -------------------------------------------------------------------------------


class RawRecords(logging.Handler):
    """Every record as emitted, before any handler's filter redacts it."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = f"{record.name}: {record.getMessage()}"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


@pytest.mark.django_db
def test_no_secret_in_any_log_line_of_a_full_run(world, github_settings, settings, caplog):
    caplog.set_level(logging.DEBUG)
    raw = RawRecords()
    root = logging.getLogger()
    root.handlers.insert(0, raw)  # first: sees each record before the redacting filter
    try:
        cache.clear()  # a fresh installation token (App JWT + POST access_tokens) below
        sign_in(github_settings, settings, "olivia")
        sign_in(github_settings, settings, "bill")
        sign_in(github_settings, settings, "olivia", "app")
        collect(world.org, [periods.previous_month()])
        response = Client().post(**permissions_webhook(world.org))
        assert response.status_code == 202
        delivery = WebhookDelivery.objects.get()
        assert webhook_delivery_process(delivery_pk=delivery.pk) == "processed"
        Client().post(**signed_webhook("ping", {"zen": "x", "hook": {"config": {}}}))
    finally:
        root.handlers.remove(raw)
    secrets = known_secrets(world.org)
    assert len(raw.lines) > 20, raw.lines  # DEBUG was on: urllib3, the client, the pipeline
    for line in raw.lines:
        assert leaks(line, secrets) == [], line[:300]
    assert leaks(caplog.text, secrets) == []


@pytest.fixture
def celery_worker_env(simulator, sim_app, celery_queue) -> dict[str, str]:
    return github_env(
        simulator,
        sim_app,
        GITHUB_APP_SLUG=None,
        GITHUB_HTTP_CONNECT_TIMEOUT=None,
        GITHUB_HTTP_READ_TIMEOUT=None,
        CELERY_TASK_DEFAULT_QUEUE=celery_queue,
        LOG_LEVEL="DEBUG",
    )


@pytest.mark.integration
def test_no_secret_in_the_worker_log(world, celery_worker):
    cache.clear()  # the worker mints its own installation token (JWT + ghs_)
    run, _ = run_enqueue(organization=world.org, period=periods.previous_month(), trigger="manual")
    Client().post(**permissions_webhook(world.org))
    wait_until(
        lambda: (
            CollectionRun.objects.filter(pk=run.pk, state="succeeded").exists()
            and WebhookDelivery.objects.filter(state="processed").exists()
        ),
        "the worker's collection and webhook",
        log=celery_worker.log,
    )
    log = celery_worker.log()
    assert "collected sec-corp" in log and "process_webhook_delivery" in log
    secrets = known_secrets(world.org)
    assert leaks(log, secrets) == []
