"""Reconciliation with GitHub's list of installations, from a given list (the simulator
test in test_live.py reads the real ``GET /app/installations``)."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.installations.services import installations_reconcile
from accounts.models import AuditEvent, Installation, Organization
from accounts.signals import installation_ready
from tests.factories import InstallationFactory, OrganizationFactory

from .conftest import example

pytestmark = pytest.mark.django_db


def listed(installation_id: int, org_id: int, login: str, **changes) -> dict:
    """One item of GET /app/installations (GitHub's own example, our ids)."""
    item = copy.deepcopy(example("GET__app__installations.200.json")[0])
    item.update(id=installation_id, target_id=org_id, target_type="Organization")
    item["account"].update(id=org_id, login=login, type="Organization")
    item["permissions"] = {"organization_administration": "read", "members": "read"}
    item["suspended_at"] = None
    item.update(changes)
    return item


@pytest.fixture
def ready(django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, installation, reason, **kwargs):
        received.append((installation.installation_id, reason))

    installation_ready.connect(receiver, dispatch_uid="test-reconcile-ready")
    yield received
    installation_ready.disconnect(dispatch_uid="test-reconcile-ready")


def test_creates_missing_installations_and_orgs(ready, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = installations_reconcile(
            confirm_vanished=False, listed=[listed(11, 501, "acme-corp")]
        )
    assert result.created == [11]
    inst = Installation.objects.get(installation_id=11)
    assert inst.state == Installation.State.ACTIVE
    assert inst.organization == Organization.objects.get(github_id=501, login="acme-corp")
    assert ready == [(11, "reconciled")]
    assert AuditEvent.objects.get(action="installation.added").details["source"] == (
        "reconciliation"
    )


def test_marks_vanished_installations_deleted():
    gone = InstallationFactory(installation_id=12)
    already = InstallationFactory(installation_id=13, state=Installation.State.DELETED)
    result = installations_reconcile(confirm_vanished=False, listed=[])
    assert result.deleted == [12]
    gone.refresh_from_db()
    assert gone.state == Installation.State.DELETED and gone.deleted_at is not None
    already.refresh_from_db()
    assert AuditEvent.objects.filter(action="installation.removed").count() == 1


def test_updates_suspension_permissions_and_login(ready, django_capture_on_commit_callbacks):
    org = OrganizationFactory(github_id=502, login="globex")
    suspended = InstallationFactory(installation_id=14, organization=org)
    org2 = OrganizationFactory(github_id=503, login="initech")
    unreadable = InstallationFactory(
        installation_id=15,
        organization=org2,
        permissions={"members": "read"},
        state=Installation.State.MISSING_PERMISSION,
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = installations_reconcile(
            listed=[
                listed(14, 502, "globex", suspended_at="2026-11-01T10:00:00Z"),
                listed(15, 503, "initech-renamed"),
            ]
        )
    assert sorted(result.changed) == [14, 15]
    suspended.refresh_from_db()
    unreadable.refresh_from_db()
    org2.refresh_from_db()
    assert suspended.state == Installation.State.SUSPENDED
    assert unreadable.state == Installation.State.ACTIVE
    assert (org2.login, unreadable.account_login) == ("initech-renamed", "initech-renamed")
    assert ready == [(15, "reconciled")]
    assert AuditEvent.objects.filter(action="installation.suspended").count() == 1


def test_revives_an_installation_wrongly_marked_deleted(ready, django_capture_on_commit_callbacks):
    org = OrganizationFactory(github_id=504, login="hooli")
    InstallationFactory(installation_id=16, organization=org, state=Installation.State.DELETED)
    with django_capture_on_commit_callbacks(execute=True):
        result = installations_reconcile(confirm_vanished=False, listed=[listed(16, 504, "hooli")])
    assert result.revived == [16]
    assert Installation.objects.get(installation_id=16).state == Installation.State.ACTIVE
    assert ready == [(16, "reconciled")]


def test_unchanged_is_quiet(ready, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        installations_reconcile(confirm_vanished=False, listed=[listed(17, 505, "umbrella")])
        result = installations_reconcile(
            confirm_vanished=False, listed=[listed(17, 505, "umbrella")]
        )
    assert (result.created, result.changed, result.deleted) == ([], [], [])
    assert ready == [(17, "reconciled")]


def test_keeps_needs_attention_set_by_collection():
    org = OrganizationFactory(github_id=506, login="wayne")
    inst = InstallationFactory(
        installation_id=18, organization=org, state=Installation.State.NEEDS_ATTENTION
    )
    installations_reconcile(confirm_vanished=False, listed=[listed(18, 506, "wayne")])
    inst.refresh_from_db()
    assert inst.state == Installation.State.NEEDS_ATTENTION


def test_a_row_changed_after_the_listing_started_is_left_to_the_webhook():
    # A webhook processed while the list was being paged is fresher than the list.
    org = OrganizationFactory(github_id=507, login="stark")
    inst = InstallationFactory(
        installation_id=19, organization=org, state=Installation.State.SUSPENDED
    )
    Installation.objects.filter(pk=inst.pk).update(updated_at=timezone.now() + timedelta(minutes=5))
    result = installations_reconcile(confirm_vanished=False, listed=[listed(19, 507, "stark")])
    assert result.skipped == [19]
    inst.refresh_from_db()
    assert inst.state == Installation.State.SUSPENDED


def test_rows_created_after_the_listing_started_are_not_deleted():
    inst = InstallationFactory(installation_id=20)
    Installation.objects.filter(pk=inst.pk).update(created_at=timezone.now() + timedelta(minutes=5))
    result = installations_reconcile(confirm_vanished=False, listed=[])
    assert result.deleted == []
    inst.refresh_from_db()
    assert inst.state == Installation.State.ACTIVE
