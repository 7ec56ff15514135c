"""The org's state (`usage.reporting.status.org_status`, the `/orgs/` badge) in the JSON
list of orgs (`GET /api/orgs/`): for owners and billing managers, never for a member or
an outsider."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Membership
from usage.models import CollectionRun

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


def org_rows(client, user) -> dict[str, dict]:
    client.force_login(user)
    response = client.get("/api/orgs/")
    assert response.status_code == 200
    return {row["login"]: row for row in response.json()}


def test_the_org_list_api_gives_owners_and_billing_managers_the_state(client, acme, people):
    for login in ("olivia", "bill"):
        status = org_rows(client, people[login])["acme-corp"]["status"]
        assert status["state"] == "up_to_date"
        assert status["badge"] == "Up to date" and status["sentence"].startswith("Up to date")
        assert set(status) >= {"sentence", "next_step", "next_url", "next_label", "retry_at"}


def test_the_org_list_api_gives_the_failing_state_as_the_overview_badge(client, failing, people):
    run = CollectionRun.objects.get(organization=failing, trigger="manual")
    retry = timezone.localtime(run.not_before).strftime("%H:%M")
    for login in ("olivia", "bill"):
        status = org_rows(client, people[login])["acme-corp"]["status"]
        assert status["state"] == "github_failing"
        assert status["sentence"] == f"GitHub is not answering; we will retry at {retry} UTC."
        assert status["next_step"].startswith("Attempt 1 of 3 failed; nothing to do")
        assert status["retry_at"] == run.not_before.isoformat()


def test_a_member_and_an_outsider_get_no_billing_state(client, failing, people):
    row = org_rows(client, people["mia"])["acme-corp"]
    assert row["role"] == "member" and row["status"] is None
    assert "github_failing" not in str(row) and "502" not in str(row)
    assert "acme-corp" not in org_rows(client, people["charlie"])


def test_a_role_not_verified_lately_shows_no_state(client, acme, people, settings):
    bill = people["bill"]
    Membership.objects.filter(user=bill, organization=acme).update(
        verified_at=timezone.now() - timedelta(seconds=settings.MEMBERSHIP_TTL_SECONDS + 60)
    )
    # Roles were just synced (no re-sync now), but this one is older than the TTL.
    type(bill).objects.filter(pk=bill.pk).update(memberships_synced_at=timezone.now())
    assert org_rows(client, bill)["acme-corp"]["status"] is None
