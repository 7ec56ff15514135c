"""Offboarding (issue 14, missing piece 8): an uninstalled organization's data is deleted
after ORG_DATA_RETENTION_DAYS unless the App is installed again, and the date is shown;
a person deletes their account (page and JSON API), their authorization revoked at
GitHub first. Each purge is audited; nothing else is touched."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests
from django.test import Client
from django.utils import timezone

from accounts.installations.retention import (
    org_data_deletion_date,
    orgs_purge_expired,
)
from accounts.models import (
    AuditEvent,
    GitHubToken,
    Installation,
    InstallRequest,
    Membership,
    Organization,
    User,
)
from alerts.models import Channel
from tests.accounts.flow import GitHubBrowser, forms
from tests.factories import (
    ChannelFactory,
    CollectionRunFactory,
    InstallationFactory,
    MembershipFactory,
    OrganizationFactory,
    StaffUserFactory,
    UserFactory,
)
from usage.models import CollectionRun, DailyUsage

pytestmark = pytest.mark.django_db


def uninstalled(org: Organization, *, days_ago: float) -> Installation:
    return InstallationFactory(
        organization=org,
        state=Installation.State.DELETED,
        deleted_at=timezone.now() - timedelta(days=days_ago),
    )


def with_data(org: Organization) -> Organization:
    CollectionRunFactory(organization=org)
    DailyUsage.objects.create(
        organization=org,
        date=timezone.now().date(),
        product="actions",
        sku="Actions Linux",
        unit_type="minutes",
        quantity=1,
        gross_amount=1,
        discount_amount=0,
        net_amount=1,
        items=1,
    )
    ChannelFactory(organization=org)
    return org


# --- organizations ----------------------------------------------------------------------


def test_an_uninstalled_orgs_data_goes_after_the_retention_days(settings):
    settings.ORG_DATA_RETENTION_DAYS = 30
    gone = with_data(OrganizationFactory(login="gone-corp"))
    uninstalled(gone, days_ago=31)
    owner = MembershipFactory(organization=gone).user
    recent = with_data(OrganizationFactory(login="recent-corp"))
    uninstalled(recent, days_ago=29)
    back = with_data(OrganizationFactory(login="back-corp"))
    uninstalled(back, days_ago=60)
    InstallationFactory(organization=back)  # installed again
    active = with_data(OrganizationFactory(login="active-corp"))
    InstallationFactory(organization=active)
    others = {
        model: model.objects.exclude(organization=gone).count()
        for model in (CollectionRun, DailyUsage, Channel, Membership)
    }

    assert orgs_purge_expired() == 1
    assert not Organization.objects.filter(login="gone-corp").exists()
    assert User.objects.filter(pk=owner.pk).exists()  # people are not org data
    # The installation's record stays (without its org); nothing else changed.
    assert Installation.objects.filter(account_login="gone-corp", organization=None).exists()
    for model, count in others.items():
        assert model.objects.count() == count, model
    assert set(Organization.objects.values_list("login", flat=True)) == {
        "recent-corp",
        "back-corp",
        "active-corp",
    }
    event = AuditEvent.objects.get(action="organization.data_deleted")
    assert event.actor is None and event.target == "gone-corp"
    assert event.details["retention_days"] == 30
    assert event.details["rows"]["usage.DailyUsage"] == 1
    # Idempotent: a second run (beat may double) deletes and audits nothing.
    assert orgs_purge_expired() == 0
    assert AuditEvent.objects.filter(action="organization.data_deleted").count() == 1


def test_the_deletion_date_is_shown_to_owners_and_staff(settings):
    settings.ORG_DATA_RETENTION_DAYS = 30
    org = OrganizationFactory(login="leaving-corp")
    inst = uninstalled(org, days_ago=2)
    due = (inst.deleted_at + timedelta(days=30)).date()
    assert org_data_deletion_date(organization=org) == due
    when = f"{due.day} {due:%B %Y}"
    owner = MembershipFactory(organization=org, role=Membership.Role.OWNER).user
    client = Client()
    client.force_login(owner)
    page = client.get("/orgs/leaving-corp/install/").content.decode()
    text = re.sub(r"\s+", " ", page)
    assert f"deletes the billing data it keeps of leaving-corp on {when}" in text
    assert "unless an owner installs the App again" in text
    staff = Client()
    staff.force_login(StaffUserFactory())
    admin = staff.get(f"/admin/accounts/organization/{org.pk}/change/").content.decode()
    assert when in admin
    InstallationFactory(organization=org)  # reinstalled: nothing is due
    assert org_data_deletion_date(organization=org) is None


# --- people ---------------------------------------------------------------------------


@pytest.fixture
def signed_in_olivia(github_settings, settings):
    settings.GITHUB_SIGNIN_CLIENT = "oauth"
    browser = GitHubBrowser(sim_url=github_settings.web_url)
    answer = browser.sign_in("olivia", "github-oauth")
    assert answer.status_code == 302
    user = User.objects.get(github_login="olivia")
    token = str(GitHubToken.objects.get(user=user).access_token)
    return browser, user, token


def github_accepts(sim, token: str) -> bool:
    answer = requests.get(
        f"{sim.api_url}/user", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    return answer.status_code == 200


def test_a_person_deletes_their_account_on_the_page(signed_in_olivia, github_settings):
    browser, user, token = signed_in_olivia
    other = UserFactory(github_login="someone-else")
    InstallRequest.objects.create(user=user, account_login="globex")
    assert github_accepts(github_settings, token)
    page = browser.client.get("/account/delete/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Delete your billingdash account" in html and "olivia" in html
    form = next(f for f in forms(html) if f["action"] == "/account/delete/")
    wrong = browser.client.post("/account/delete/", {**form["fields"], "confirm": "bill"})
    assert wrong.status_code == 400 and User.objects.filter(pk=user.pk).exists()
    done = browser.client.post("/account/delete/", {**form["fields"], "confirm": "olivia"})
    assert done.status_code == 302 and done["Location"] == "/login/"
    assert not User.objects.filter(pk=user.pk).exists()
    assert not GitHubToken.objects.filter(user_id=user.pk).exists()
    assert not InstallRequest.objects.filter(user_id=user.pk).exists()
    assert User.objects.filter(pk=other.pk).exists()
    assert not github_accepts(github_settings, token)  # revoked at GitHub
    event = AuditEvent.objects.get(action="account.deleted")
    assert event.details["revoked_at_github"] == ["oauth"] and event.actor is None
    assert "signed out" in browser.client.get("/login/").content.decode().lower()
    assert browser.client.get("/orgs/").status_code == 302


def test_the_json_api_deletes_the_account_with_the_same_rules(signed_in_olivia, github_settings):
    browser, user, token = signed_in_olivia
    client = browser.client
    assert client.delete("/api/account/").status_code == 403  # CSRF, as every write
    csrf = client.cookies["csrftoken"].value
    bad = client.delete(
        "/api/account/", '{"confirm": "nope"}', "application/json", HTTP_X_CSRFTOKEN=csrf
    )
    assert bad.status_code == 400 and "confirm" in bad.json()["error"]
    done = client.delete(
        "/api/account/", '{"confirm": "olivia"}', "application/json", HTTP_X_CSRFTOKEN=csrf
    )
    assert done.status_code == 200
    answer = done.json()
    assert answer.pop("message").startswith("Your billingdash account and the GitHub tokens")
    assert answer == {"deleted": True, "revoked_at_github": ["oauth"], "not_revoked": []}
    assert not User.objects.filter(pk=user.pk).exists()
    assert not github_accepts(github_settings, token)
    assert Client().delete("/api/account/").status_code in (401, 403)


def test_github_unreachable_still_deletes_and_says_so(signed_in_olivia, github_settings):
    browser, user, _ = signed_in_olivia
    github_settings.control.fault("status", path="/applications/.*", status=500)
    client = browser.client
    csrf = client.cookies["csrftoken"].value
    done = client.delete(
        "/api/account/", '{"confirm": "olivia"}', "application/json", HTTP_X_CSRFTOKEN=csrf
    )
    assert done.status_code == 200
    assert done.json()["not_revoked"] == ["oauth"]
    assert "settings/applications" in done.json()["message"]
    assert not User.objects.filter(pk=user.pk).exists()
