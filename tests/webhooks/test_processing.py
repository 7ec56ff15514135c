"""Every example payload of the handled events (GitHub's, via @octokit/webhooks-examples,
in ghsim/spec/examples) is accepted, and the installation events (created,
deleted, suspend and unsuspend, new permissions) have the right effect. Renames and
people: test_processing_accounts.py."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from accounts.models import AuditEvent, Installation, InstallRequest, Organization, WebhookDelivery
from accounts.signals import installation_ready
from tests.factories import InstallationFactory, OrganizationFactory, UserFactory

from .conftest import EXAMPLES, example

pytestmark = pytest.mark.django_db

ORG_ADMIN = {"organization_administration": "read", "members": "read"}


@pytest.fixture
def ready_signals():
    received: list[tuple[int, str]] = []

    def receiver(sender, installation, reason, **kwargs):
        received.append((installation.installation_id, reason))

    installation_ready.connect(receiver, dispatch_uid="test-ready")
    yield received
    installation_ready.disconnect(dispatch_uid="test-ready")


def as_org(payload: dict, permissions: dict | None = None) -> dict:
    """The community examples install on a *user* account; our App is for orgs."""
    payload = copy.deepcopy(payload)
    inst = payload["installation"]
    inst["account"]["type"] = "Organization"
    inst["target_type"] = "Organization"
    if permissions is not None:
        inst["permissions"] = {**inst["permissions"], **permissions}
    return payload


def _event_of(name: str) -> str:
    return name.removeprefix("webhook__").split("__")[0]


@pytest.mark.parametrize(
    "name", sorted(p.name for p in EXAMPLES.glob("webhook__*.json")), ids=lambda n: n[9:-5]
)
def test_every_example_is_accepted(deliver, name):
    delivery = deliver(_event_of(name), example(name))
    assert delivery.state in (WebhookDelivery.State.PROCESSED, WebhookDelivery.State.IGNORED)


# --- installation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["webhook__installation__created.json", "webhook__installation__created.2.json"]
)
def test_created_on_a_personal_account_is_stored_but_needs_attention(deliver, ready_signals, name):
    delivery = deliver("installation", example(name))
    assert delivery.state == WebhookDelivery.State.PROCESSED
    inst = Installation.objects.get(installation_id=957387)
    assert inst.organization is None
    assert inst.account_type == "User"
    assert inst.state == Installation.State.NEEDS_ATTENTION
    assert not Organization.objects.exists()
    assert ready_signals == []


def test_created_on_an_org_upserts_org_installation_and_fulfils_requests(deliver, ready_signals):
    payload = as_org(example("webhook__installation__created.2.json"), ORG_ADMIN)
    waiting = UserFactory(github_login="bill")
    by_login = InstallRequest.objects.create(user=waiting, account_login="codertocat")
    stale_org = OrganizationFactory(github_id=21031067, login="OldLogin", avatar_url="")
    by_org = InstallRequest.objects.create(user=UserFactory(), organization=stale_org)
    other = InstallRequest.objects.create(user=waiting, account_login="someone-else")

    deliver("installation", payload)

    org = Organization.objects.get(github_id=21031067)
    assert org.login == "Codertocat"
    assert org.avatar_url == "https://avatars1.githubusercontent.com/u/21031067?v=4"
    inst = Installation.objects.get(installation_id=957387)
    assert inst.organization == org
    assert inst.state == Installation.State.ACTIVE
    assert inst.permissions["organization_administration"] == "read"
    assert inst.repository_selection == "selected"
    assert inst.account_login == "Codertocat"
    assert inst.installed_by is None  # the sender has never signed in here
    for request in (by_login, by_org):
        request.refresh_from_db()
        assert request.fulfilled_at is not None
        assert request.installation == inst
        assert request.organization == org
    other.refresh_from_db()
    assert other.fulfilled_at is None
    assert ready_signals == [(957387, "created")]
    audit = AuditEvent.objects.get(action="installation.added")
    assert audit.organization == org
    assert audit.details["sender"] == "Codertocat"


def test_created_records_the_installer_when_known(deliver):
    sender = UserFactory(github_id=21031067, github_login="Codertocat")
    deliver("installation", as_org(example("webhook__installation__created.json"), ORG_ADMIN))
    inst = Installation.objects.get()
    assert inst.installed_by == sender
    assert AuditEvent.objects.get(action="installation.added").actor == sender


def test_created_without_the_billing_permission_is_missing_permission(deliver, ready_signals):
    deliver("installation", as_org(example("webhook__installation__created.json")))
    inst = Installation.objects.get()
    assert inst.state == Installation.State.MISSING_PERMISSION
    assert "Administration" in inst.state_reason
    assert ready_signals == []


def test_created_twice_signals_once(deliver, ready_signals):
    payload = as_org(example("webhook__installation__created.json"), ORG_ADMIN)
    deliver("installation", payload)
    deliver("installation", payload)  # a second delivery id, same installation
    assert ready_signals == [(957387, "created")]
    assert AuditEvent.objects.filter(action="installation.added").count() == 1


@pytest.mark.parametrize(
    "name", ["webhook__installation__deleted.json", "webhook__installation__deleted.2.json"]
)
def test_deleted(deliver, name):
    inst = InstallationFactory(installation_id=2)
    delivery = deliver("installation", example(name))
    assert delivery.state == WebhookDelivery.State.PROCESSED
    inst.refresh_from_db()
    assert inst.state == Installation.State.DELETED
    assert inst.deleted_at is not None
    assert AuditEvent.objects.get(action="installation.removed").organization == inst.organization


def test_deleted_unknown_installation_is_ignored(deliver):
    delivery = deliver("installation", example("webhook__installation__deleted.json"))
    assert delivery.state == WebhookDelivery.State.IGNORED


def test_late_created_does_not_undo_deleted(deliver, ready_signals):
    deliver("installation", as_org(example("webhook__installation__created.json"), ORG_ADMIN))
    deleted = example("webhook__installation__deleted.json")
    deleted["installation"]["id"] = 957387
    deliver("installation", deleted)
    deliver("installation", as_org(example("webhook__installation__created.json"), ORG_ADMIN))
    assert Installation.objects.get().state == Installation.State.DELETED


def test_suspend_and_unsuspend(deliver, ready_signals):
    org = OrganizationFactory(github_id=21031067, login="Codertocat")
    inst = InstallationFactory(installation_id=16598467, organization=org)
    deliver("installation", example("webhook__installation__suspend.json"))
    inst.refresh_from_db()
    assert inst.state == Installation.State.SUSPENDED
    assert inst.suspended_at == datetime(2021, 4, 29, 2, 32, 50, tzinfo=UTC)
    assert not inst.can_read_billing
    assert AuditEvent.objects.filter(action="installation.suspended").count() == 1

    deliver("installation", example("webhook__installation__unsuspend.json"))
    inst.refresh_from_db()
    assert inst.state == Installation.State.ACTIVE
    assert inst.suspended_at is None
    assert AuditEvent.objects.filter(action="installation.unsuspended").count() == 1
    assert ready_signals == [(16598467, "unsuspended")]


def test_suspend_of_an_unknown_installation_creates_it_suspended(deliver):
    deliver("installation", example("webhook__installation__suspend.json"))
    inst = Installation.objects.get(installation_id=16598467)
    assert inst.state == Installation.State.SUSPENDED
    assert inst.organization.github_id == 21031067


def test_new_permissions_accepted_makes_billing_readable(deliver, ready_signals):
    # GitHub is unreachable in this test (see webhook_settings): the payload is used.
    org = OrganizationFactory(github_id=21031067, login="Codertocat")
    inst = InstallationFactory(
        installation_id=957387,
        organization=org,
        permissions={"members": "read"},
        state=Installation.State.MISSING_PERMISSION,
    )
    payload = example("webhook__installation__new_permissions_accepted.json")
    deliver("installation", payload)
    inst.refresh_from_db()
    assert inst.state == Installation.State.MISSING_PERMISSION  # the example lacks it
    assert inst.permissions["administration"] == "write"
    assert ready_signals == []

    payload["installation"]["permissions"]["organization_administration"] = "read"
    deliver("installation", payload)
    inst.refresh_from_db()
    assert inst.state == Installation.State.ACTIVE
    assert ready_signals == [(957387, "permissions")]


def test_new_permissions_clears_needs_attention(deliver):
    org = OrganizationFactory(github_id=21031067)
    inst = InstallationFactory(
        installation_id=957387, organization=org, state=Installation.State.NEEDS_ATTENTION
    )
    payload = example("webhook__installation__new_permissions_accepted.json")
    payload["installation"]["permissions"]["organization_administration"] = "read"
    deliver("installation", payload)
    inst.refresh_from_db()
    assert inst.state == Installation.State.ACTIVE
