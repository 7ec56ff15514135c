"""End to end: the hook_sim changes the world and sends signed webhooks to a live server;
a real Celery worker process processes them. Also the reconciliation against the
hook_sim's ``GET /app/installations``, and a broker outage recovered by the sweep."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.installations.services import installations_reconcile
from accounts.installations.tasks import reconcile_installations
from accounts.models import GitHubToken, Installation, Membership, Organization, WebhookDelivery
from accounts.webhooks.handlers import webhook_delivery_process
from accounts.webhooks.tasks import sweep_webhook_deliveries
from tests.factories import (
    GitHubTokenFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)
from tests.helpers import apply_env, celery_broker, free_port, github_env

try:
    from ghsim.config import SimConfig
    from ghsim.testing import SimulatorServer
except ImportError as exc:  # pragma: no cover - the hook_sim ships with the repository
    pytest.fail(f"ghsim is not importable: {exc}", pytrace=False)

ACME, GLOBEX = 7770001, 7770002
ACME_INSTALLATION = 8880001
OLIVIA, MIA = 5550001, 5550003


# This module runs its own simulator (not the session's shared one): its webhook URL is
# pointed at this module's live server, which other suites must not receive.


@pytest.fixture(scope="module")
def hook_app():
    return SimConfig.generate()


@pytest.fixture(scope="module")
def hook_sim(hook_app) -> Iterator[SimulatorServer]:
    config, _ = hook_app
    with SimulatorServer(config) as sim:
        yield sim


@pytest.fixture
def celery_worker_env(hook_app, hook_sim) -> dict[str, str]:
    """The hook_sim's GitHub settings (the worker's, and this process's: `github_sim`)."""
    return github_env(
        hook_sim,
        hook_app,
        GITHUB_OAUTH_CLIENT_ID=None,
        GITHUB_OAUTH_CLIENT_SECRET=None,
        GITHUB_HTTP_CONNECT_TIMEOUT=None,
        GITHUB_HTTP_READ_TIMEOUT=None,
    )


@pytest.fixture
def github_sim(hook_sim, celery_worker_env, settings) -> Iterator[SimulatorServer]:
    """The hook_sim, reset (demo world: the App on acme-corp only), webhooks not sent
    anywhere, and this process's GitHub settings pointing at it."""
    hook_sim.control.reset()
    hook_sim.control.set_webhook_url(None)
    apply_env(settings, celery_worker_env)
    yield hook_sim
    hook_sim.control.set_webhook_url(None)


def wait_until(check: Callable[[], bool], what: str, worker=None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            log = worker.log()[-3000:] if worker is not None else ""
            pytest.fail(f"timed out waiting for {what}\n{log}")
        time.sleep(0.1)


def settled() -> bool:
    return not WebhookDelivery.objects.filter(
        state__in=[WebhookDelivery.State.PENDING, WebhookDelivery.State.PROCESSING]
    ).exists()


# --- reconciliation ---------------------------------------------------------------------


@pytest.mark.django_db
def test_reconcile_follows_github_when_webhooks_are_missed(github_sim):
    result = installations_reconcile()
    assert result.created == [ACME_INSTALLATION]
    acme = Installation.objects.get(installation_id=ACME_INSTALLATION)
    assert acme.state == Installation.State.ACTIVE
    assert acme.organization.login == "acme-corp"

    # Webhooks go nowhere (the URL is unset): only the reconciliation can notice.
    globex_id = github_sim.control.install("globex")["id"]
    github_sim.control.suspend(ACME_INSTALLATION)
    result = installations_reconcile()
    assert result.created == [globex_id]
    assert result.changed == [ACME_INSTALLATION]
    assert Organization.objects.get(github_id=GLOBEX).login == "globex"
    acme.refresh_from_db()
    assert acme.state == Installation.State.SUSPENDED

    github_sim.control.uninstall(globex_id)
    github_sim.control.unsuspend(ACME_INSTALLATION)
    github_sim.control.rename_org("acme-corp", "acme-inc")
    result = installations_reconcile()
    assert result.deleted == [globex_id]
    assert Installation.objects.get(installation_id=globex_id).state == "deleted"
    acme.refresh_from_db()
    assert (acme.state, acme.account_login) == (Installation.State.ACTIVE, "acme-inc")
    assert Organization.objects.get(github_id=ACME).login == "acme-inc"


@pytest.mark.django_db
def test_reconcile_confirms_before_deleting(github_sim):
    """GitHub's paged list can skip an item while the list changes: an installation
    missing from the list is asked for by id before it is marked deleted."""
    installations_reconcile()
    result = installations_reconcile(listed=[])  # as if the page had skipped acme-corp
    assert result.deleted == []
    assert Installation.objects.get(installation_id=ACME_INSTALLATION).state == "active"


@pytest.mark.django_db
def test_reconcile_task_survives_github_being_down(github_sim, settings):
    settings.GITHUB_API_URL = f"http://127.0.0.1:{free_port()}/api/v3"
    assert reconcile_installations() is None
    assert not Installation.objects.exists()


@pytest.mark.django_db
def test_new_permissions_reads_the_truth_from_github(github_sim, post_webhook_sim):
    """The payload says one thing, GET /app/installations/{id} another: GitHub wins."""
    installations_reconcile()
    Installation.objects.filter(installation_id=ACME_INSTALLATION).update(
        permissions={"members": "read"}, state=Installation.State.MISSING_PERMISSION
    )
    payload = {
        "action": "new_permissions_accepted",
        "installation": {
            "id": ACME_INSTALLATION,
            "account": {"id": ACME, "login": "acme-corp", "type": "Organization"},
            "target_type": "Organization",
            "permissions": {"members": "read"},  # stale copy
        },
        "sender": {"id": OLIVIA, "login": "olivia"},
    }
    delivery = post_webhook_sim("installation", payload)
    assert webhook_delivery_process(delivery_pk=delivery.pk) == "processed"
    inst = Installation.objects.get(installation_id=ACME_INSTALLATION)
    assert inst.permissions["organization_administration"] == "read"
    assert inst.state == Installation.State.ACTIVE


@pytest.fixture
def post_webhook_sim(client, github_sim, hook_app):
    import hashlib
    import hmac
    import json
    import uuid

    config, _ = hook_app

    def post(event: str, payload: dict) -> WebhookDelivery:
        body = json.dumps(payload).encode()
        sig = hmac.new(config.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        guid = str(uuid.uuid4())
        response = client.post(
            "/github/webhook/",
            data=body,
            content_type="application/json",
            HTTP_X_GITHUB_EVENT=event,
            HTTP_X_GITHUB_DELIVERY=guid,
            HTTP_X_HUB_SIGNATURE_256=f"sha256={sig}",
        )
        assert response.status_code == 202
        return WebhookDelivery.objects.get(delivery_id=guid)

    return post


# --- real deliveries, real worker -------------------------------------------------------


@pytest.mark.integration
def test_simulator_webhooks_are_processed_by_a_worker(github_sim, live_server, celery_worker):
    github_sim.control.set_webhook_url(live_server.url + "/github/webhook/")
    installations_reconcile()  # acme-corp, as it was before this test
    olivia = UserFactory(github_id=OLIVIA, github_login="olivia")
    mia = UserFactory(github_id=MIA, github_login="mia")
    acme = Organization.objects.get(github_id=ACME)
    MembershipFactory(user=mia, organization=acme, role=Membership.Role.MEMBER)
    GitHubTokenFactory(user=olivia)

    def step(change: Callable[[], object], what: str) -> None:
        change()
        github_sim.control.wait_for_deliveries()
        wait_until(settled, what, celery_worker)

    step(lambda: github_sim.control.install("globex"), "installation.created")
    globex = Installation.objects.get(organization__github_id=GLOBEX)
    assert globex.state == Installation.State.ACTIVE
    assert globex.installed_by == olivia  # olivia, globex's owner, installed it

    step(lambda: github_sim.control.suspend(globex.installation_id), "installation.suspend")
    globex.refresh_from_db()
    assert globex.state == Installation.State.SUSPENDED
    step(lambda: github_sim.control.unsuspend(globex.installation_id), "installation.unsuspend")
    globex.refresh_from_db()
    assert globex.state == Installation.State.ACTIVE

    step(lambda: github_sim.control.rename_org("globex", "globex-intl"), "renamed")
    assert Organization.objects.get(github_id=GLOBEX).login == "globex-intl"

    step(lambda: github_sim.control.remove_membership("acme-corp", "mia"), "member_removed")
    assert not Membership.objects.filter(user=mia, organization=acme).exists()

    step(lambda: github_sim.control.revoke("olivia"), "github_app_authorization.revoked")
    assert not GitHubToken.objects.filter(user=olivia).exists()

    step(lambda: github_sim.control.uninstall(globex.installation_id), "installation.deleted")
    globex.refresh_from_db()
    assert globex.state == Installation.State.DELETED

    sent = github_sim.control.deliveries()
    assert sent and all(d["status_code"] in (200, 202) for d in sent), sent
    stored = {d.delivery_id: d for d in WebhookDelivery.objects.all()}
    assert {d["guid"] for d in sent} == set(stored)
    assert {d.state for d in stored.values()} <= {"processed", "ignored"}

    # GitHub's "Redeliver": same GUID, acknowledged, not processed again.
    first = sent[0]["guid"]
    attempts = stored[first].attempts
    step(lambda: github_sim.control.redeliver(first), "redelivery")
    again = WebhookDelivery.objects.get(delivery_id=first)
    assert (again.redeliveries, again.attempts) == (1, attempts)
    assert github_sim.control.deliveries()[0]["status_code"] == 200


@pytest.mark.integration
def test_broker_down_then_the_sweep_gets_it_processed(
    github_sim, live_server, celery_worker, post_webhook_sim
):
    org = OrganizationFactory(github_id=ACME, login="acme-corp")
    payload = {
        "action": "renamed",
        "changes": {"login": {"from": "acme-corp"}},
        "organization": {"id": ACME, "login": "acme-inc"},
        "sender": {"id": OLIVIA, "login": "olivia"},
    }
    with celery_broker(f"redis://127.0.0.1:{free_port()}/0"):
        delivery = post_webhook_sim("organization", payload)  # 202 with Redis unreachable
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.PENDING

    # A minute later the beat's sweep finds it, with the broker back.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        received_at=timezone.now() - timedelta(minutes=2)
    )
    assert sweep_webhook_deliveries() == 1
    wait_until(settled, "the swept delivery", celery_worker)
    delivery.refresh_from_db()
    org.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (WebhookDelivery.State.PROCESSED, 1)
    assert org.login == "acme-inc"
