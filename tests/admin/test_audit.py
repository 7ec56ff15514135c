"""The audit log in the admin: readable by staff with filters (action, actor, org,
date), append-only for everyone (not even a superuser adds, changes or deletes), and
every staff change made through the admin lands in it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.audit import audit_log
from accounts.models import AuditEvent, Organization
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/accounts/auditevent/"


@pytest.fixture
def events():
    acme = OrganizationFactory(login="acme-corp")
    olivia = UserFactory(github_login="olivia")
    bill = UserFactory(github_login="bill")
    old = audit_log(actor=olivia, action="signin")
    AuditEvent.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=40))
    audit_log(actor=olivia, action="export.csv", organization=acme, target="usage.csv")
    audit_log(actor=bill, action="signin")
    audit_log(actor=None, action="installation.removed", organization=acme, target="inst 1")
    return acme, olivia, bill


def rows(response) -> int:
    return response.context["cl"].result_count


def test_staff_read_the_log_with_filters(staff_client, events):
    acme, olivia, _ = events
    page = staff_client.get(LIST)
    # The four events, and the staff member's own sign-in.
    assert page.status_code == 200 and rows(page) == 5
    assert rows(staff_client.get(LIST + "?action=signin")) == 3
    assert rows(staff_client.get(LIST + f"?actor__id__exact={olivia.pk}")) == 2
    assert rows(staff_client.get(LIST + f"?organization__id__exact={acme.pk}")) == 2
    # As the admin's own date filter links do: an aware time (a bare date is naive).
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    assert rows(staff_client.get(LIST, {"at__gte": midnight.isoformat()})) == 4
    assert rows(staff_client.get(LIST + "?q=usage.csv")) == 1
    # Who, what, when, with links to the user and the organization.
    html = page.content.decode()
    assert reverse("admin:accounts_user_change", args=[olivia.pk]) in html
    assert reverse("admin:accounts_organization_change", args=[acme.pk]) in html


def test_nobody_adds_changes_or_deletes_an_event(staff_client, events):
    event = AuditEvent.objects.first()
    assert staff_client.get(reverse("admin:accounts_auditevent_add")).status_code == 403
    change = reverse("admin:accounts_auditevent_change", args=[event.pk])
    assert staff_client.get(change).status_code == 200  # a read-only view
    assert staff_client.post(change, {"action": "forged"}).status_code == 403
    delete = reverse("admin:accounts_auditevent_delete", args=[event.pk])
    assert staff_client.get(delete).status_code == 403
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    # No delete action on the list either.
    assert "delete_selected" not in staff_client.get(LIST).content.decode()
    response = staff_client.post(
        LIST, {"action": "delete_selected", "index": 0, "_selected_action": [event.pk]}
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    assert response.status_code in (200, 302)
    event.refresh_from_db()
    assert event.action != "forged"
    # And the model itself refuses.
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()


def test_a_staff_change_through_the_admin_is_audited(staff_client, staff_user):
    org = OrganizationFactory(login="acme-corp")
    url = reverse("admin:accounts_organization_change", args=[org.pk])
    page = staff_client.get(url)
    assert page.status_code == 200
    # Only the pause switch is editable; GitHub's fields are read-only.
    assert b'name="collection_paused"' in page.content
    assert b'name="login"' not in page.content
    response = staff_client.post(
        url,
        {
            "collection_paused": "on",
            # inline management forms (installations, memberships): none changed
            **{f"installations-{k}": v for k, v in management(0).items()},
            **{f"memberships-{k}": v for k, v in management(0).items()},
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert Organization.objects.get(pk=org.pk).collection_paused
    event = AuditEvent.objects.get(action="staff.change")
    assert event.actor == staff_user and event.organization == org
    assert "Collection paused" in str(event.details["change"])


def management(total: int) -> dict[str, int]:
    return {"TOTAL_FORMS": total, "INITIAL_FORMS": total, "MIN_NUM_FORMS": 0, "MAX_NUM_FORMS": 1000}
