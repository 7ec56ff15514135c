"""Fixtures of the alerts tests: acme-corp with the personas (olivia owner, bill billing
manager, mia member, charlie a stranger who owns another org), the demo's receivers
running in this process over real sockets (`receiver`: ghsim.chat_receiver; `mailbox`:
ghsim.mailbox's aiosmtpd SMTP server), and Django pointed at them (`local_delivery`:
the SSRF guard's demo/test exceptions for 127.0.0.1, short timeouts and backoff)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from accounts.models import Membership, Organization, User
from ghsim.chat_receiver import ChatReceiver
from ghsim.mailbox import Mailbox
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

LOCAL = ["127.0.0.0/8", "::1/128"]


@dataclass
class Acme:
    org: Organization
    people: dict[str, User]


@pytest.fixture
def acme(db) -> Acme:
    org = OrganizationFactory(login="acme-corp", github_id=7770001, name="Acme Corp")
    people = {}
    for login, role in (
        ("olivia", Membership.Role.OWNER),
        ("bill", Membership.Role.BILLING_MANAGER),
        ("mia", Membership.Role.MEMBER),
    ):
        people[login] = UserFactory(github_login=login)
        MembershipFactory(user=people[login], organization=org, role=role)
    people["charlie"] = UserFactory(github_login="charlie")
    MembershipFactory(
        user=people["charlie"], organization=OrganizationFactory(login="charlies-org")
    )
    return Acme(org=org, people=people)


@pytest.fixture(scope="session")
def chat_receiver_server():
    with ChatReceiver() as server:
        yield server


@pytest.fixture
def receiver(chat_receiver_server):
    chat_receiver_server.clear()
    yield chat_receiver_server
    chat_receiver_server.clear()


@pytest.fixture(scope="session")
def mailbox_server():
    with Mailbox(web_port=0) as box:
        yield box


@pytest.fixture
def mailbox(mailbox_server, settings):
    """The mailbox, emptied, as Django's SMTP server (pytest-django's locmem backend
    replaced by the real SMTP one)."""
    mailbox_server.store.clear()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = mailbox_server.smtp_port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "billingdash <alerts@billingdash.test>"
    return mailbox_server


@pytest.fixture
def local_delivery(settings):
    """The demo's and tests' exceptions to the SSRF guard (receivers on loopback, plain
    http), short timeouts, a fast backoff."""
    settings.ALERTS_ALLOWED_PRIVATE_NETWORKS = LOCAL
    settings.ALERTS_ALLOW_HTTP = True
    settings.ALERTS_HTTP_CONNECT_TIMEOUT = 2.0
    settings.ALERTS_HTTP_READ_TIMEOUT = 5.0
    settings.ALERTS_RETRY_BASE_SECONDS = 0.01
    settings.ALERTS_RETRY_MAX_SECONDS = 0.05
    settings.ALERTS_DELIVERY_MAX_ATTEMPTS = 4
    settings.SITE_URL = "https://billingdash.test"
    return settings


@pytest.fixture
def strict(settings):
    """Production's guard: no exceptions."""
    settings.ALERTS_ALLOWED_PRIVATE_NETWORKS = []
    settings.ALERTS_ALLOW_HTTP = False
    return settings


class Api:
    """A signed-in session speaking the JSON API as a script would: CSRF enforced, the
    token read from the ``csrftoken`` cookie a GET sets, sent as ``X-CSRFToken``."""

    def __init__(self, user: User | None, login: str = "acme-corp") -> None:
        self.client = Client(enforce_csrf_checks=True)
        if user is not None:
            self.client.force_login(user)
        self.base = f"/api/orgs/{login}/alerts"

    def _token(self) -> str:
        if "csrftoken" not in self.client.cookies:
            self.client.get(self.base + "/channels")
        cookie = self.client.cookies.get("csrftoken")
        return cookie.value if cookie else ""

    def get(self, path: str, **params: Any):
        return self.client.get(self.base + path, params)

    def post(self, path: str, data: Any = None, *, raw: bytes | None = None):
        body = raw if raw is not None else json.dumps(data if data is not None else {})
        return self.client.post(
            self.base + path,
            data=body,
            content_type="application/json",
            HTTP_X_CSRFTOKEN=self._token(),
        )

    def delete(self, path: str):
        return self.client.delete(self.base + path, HTTP_X_CSRFTOKEN=self._token())


@pytest.fixture
def api(acme):
    """api("olivia") -> Api signed in as that persona (None: anonymous)."""

    def make(who: str | None) -> Api:
        return Api(acme.people[who] if who else None)

    return make
