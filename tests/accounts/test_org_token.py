"""A token an owner adds for one organization (`accounts.org_tokens`), through the JSON API
(`POST/GET/DELETE /api/orgs/<login>/sources/token`) and the sources page, against the
simulator over HTTP: validated with GitHub at once (its user must be an owner), stored
encrypted, never shown or logged again, its expiry read from GitHub's header and warned
about 7 days ahead; owners only may change it; members and outsiders get 404."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent, Membership, OrgAccessToken, Organization
from accounts.org_tokens import expiry_warning, parse_expiration
from tests.factories import MembershipFactory, UserFactory
from tests.helpers import mirror_installed_org

pytestmark = [pytest.mark.django_db]


def person(sim, org: Organization, login: str, role: str | None):
    """A simulator user with `role` in the org ("admin", "billing_manager", "member" or
    None: an outsider), mirrored here with a fresh membership."""
    info = sim.control.create_user(login, name=login.title())
    user = UserFactory(github_id=info["id"], github_login=login)
    if role is not None:
        sim.control.set_membership(org.login, login, role)
        ours = {
            "admin": Membership.Role.OWNER,
            "billing_manager": Membership.Role.BILLING_MANAGER,
            "member": Membership.Role.MEMBER,
        }
        MembershipFactory(user=user, organization=org, role=ours[role])
    return user


@pytest.fixture
def world(gh):
    org = mirror_installed_org(gh, "tok-org", repos=2, skus_per_repo=2)
    gh.control.refuse_installation_tokens(org.login)
    people = {
        "owner": person(gh, org, "tok-olivia", "admin"),
        "manager": person(gh, org, "tok-bill", "billing_manager"),
        "member": person(gh, org, "tok-mia", "member"),
        "outsider": person(gh, org, "tok-otto", None),
    }
    return gh, org, people


def client_of(user, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def url(org: Organization) -> str:
    return f"/api/orgs/{org.login}/sources/token"


def post(client: Client, org: Organization, token: str):
    return client.post(url(org), {"token": token}, content_type="application/json")


def test_an_owner_adds_a_classic_token_stored_encrypted_never_shown_again(world, caplog):
    sim, org, people = world
    pat = sim.control.issue_pat("tok-olivia", "classic_pat", scope="admin:org")["token"]
    caplog.set_level(logging.DEBUG)

    response = post(client_of(people["owner"]), org, pat)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body == {
        "source": "owner_token",
        "github_login": "tok-olivia",
        "expires_at": None,
        "last4": pat[-4:],
    }
    row = OrgAccessToken.objects.get(organization=org)
    assert str(row.token) == pat and row.added_by == people["owner"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM accounts_orgaccesstoken WHERE id = %s", [row.pk])
        stored = cursor.fetchone()[0]
    assert pat not in stored  # Fernet ciphertext at rest
    event = AuditEvent.objects.get(action="org_token_add", organization=org)
    assert event.details["last4"] == pat[-4:] and pat not in str(event.details)
    # Never again: not in GET, not in the sources API, not in the page, not in any log.
    client = client_of(people["owner"])
    for path in (url(org), f"/api/orgs/{org.login}/sources", f"/orgs/{org.login}/sources/"):
        got = client.get(path)
        assert got.status_code == 200 and pat.encode() not in got.content
    assert client.get(url(org)).json()["token"]["last4"] == pat[-4:]
    assert pat not in caplog.text


def test_a_fine_grained_token_of_an_owner_is_checked_through_the_app(world):
    sim, org, people = world
    pat = sim.control.issue_pat(
        "tok-olivia",
        "fine_grained_pat",
        resource_owner=org.login,
        permissions={"organization_administration": "read"},
        expires_in=3 * 86400,
    )
    response = post(client_of(people["owner"]), org, pat["token"])
    assert response.status_code == 201, response.content
    row = OrgAccessToken.objects.get(organization=org)
    assert row.kind == OrgAccessToken.Kind.FINE_GRAINED
    # GitHub's github-authentication-token-expiration header, to the second.
    assert row.expires_at is not None
    assert response.json()["expires_at"] == row.expires_at.isoformat()
    assert "expires in" in expiry_warning(row)
    sources = client_of(people["manager"]).get(f"/api/orgs/{org.login}/sources").json()
    assert sources["expiry_warning"].startswith(f"The token …{row.last4} of tok-olivia expires")
    dashboard = client_of(people["manager"]).get(f"/orgs/{org.login}/").content.decode()
    assert f"The token …{row.last4} of tok-olivia expires in" in dashboard


def test_expiry_warning_starts_seven_days_ahead():
    row = OrgAccessToken(last4="abcd", github_login="x", expires_at=None)
    assert expiry_warning(row) == ""
    now = timezone.now()
    row.expires_at = now + timedelta(days=8)
    assert expiry_warning(row, now=now) == ""
    row.expires_at = now + timedelta(days=7)
    assert "expires in 7 days" in expiry_warning(row, now=now)
    row.expires_at = now - timedelta(hours=1)
    assert "expired on" in expiry_warning(row, now=now)
    assert parse_expiration("2026-12-31 23:59:59 UTC").isoformat() == "2026-12-31T23:59:59+00:00"


def test_a_token_whose_user_is_not_an_owner_is_refused_with_the_reason(world):
    sim, org, people = world
    for login in ("tok-bill", "tok-mia"):
        pat = sim.control.issue_pat(login, "classic_pat", scope="admin:org")["token"]
        response = post(client_of(people["owner"]), org, pat)
        assert response.status_code == 400
        assert f"belongs to {login}" in response.json()["error"]
        assert "not an owner" in response.json()["error"]
    assert not OrgAccessToken.objects.exists()


def test_an_invalid_token_is_refused_with_githubs_message(world):
    sim, org, people = world
    owner = client_of(people["owner"])
    response = post(owner, org, "ghp_" + "x" * 36)
    assert response.status_code == 400
    assert "GitHub answered 401: Bad credentials" in response.json()["error"]
    response = post(owner, org, "gho_notapat")
    assert response.status_code == 400 and "not a personal access token" in response.json()["error"]
    # An owner's classic token without admin:org: GitHub's 403 on the usage report.
    weak = sim.control.issue_pat("tok-olivia", "classic_pat", scope="read:org")["token"]
    response = post(owner, org, weak)
    assert response.status_code == 400
    assert "Resource not accessible by personal access token" in response.json()["error"]
    assert owner.post(url(org), "nope", content_type="application/json").status_code == 400
    assert not OrgAccessToken.objects.exists()


def test_only_owners_change_it_members_and_outsiders_get_404(world):
    sim, org, people = world
    pat = sim.control.issue_pat("tok-olivia", "classic_pat", scope="admin:org")["token"]
    manager = client_of(people["manager"])
    assert post(manager, org, pat).status_code == 403
    assert manager.delete(url(org)).status_code == 403
    assert (
        manager.post(
            f"/orgs/{org.login}/sources/", {"action": "token_add", "token": pat}
        ).status_code
        == 404
    )
    for who in ("member", "outsider"):
        client = client_of(people[who])
        assert post(client, org, pat).status_code == 404
        assert client.get(url(org)).status_code == 404
        assert client.get(f"/api/orgs/{org.login}/sources").status_code == 404
        assert client.get(f"/orgs/{org.login}/sources/").status_code == 404
    assert (
        Client().post(url(org), {"token": pat}, content_type="application/json").status_code == 401
    )
    assert not OrgAccessToken.objects.exists()
    # The billing manager sees which source is used, without the form.
    page = manager.get(f"/orgs/{org.login}/sources/")
    assert page.status_code == 200 and b'name="token"' not in page.content


def test_csrf_header_required_then_delete(world):
    sim, org, people = world
    pat = sim.control.issue_pat("tok-olivia", "classic_pat", scope="admin:org")["token"]
    client = client_of(people["owner"], csrf=True)
    assert post(client, org, pat).status_code == 403  # no CSRF token
    client.get(f"/api/orgs/{org.login}/sources")  # sets the csrftoken cookie
    csrf = client.cookies["csrftoken"].value
    response = client.post(
        url(org), {"token": pat}, content_type="application/json", headers={"X-CSRFToken": csrf}
    )
    assert response.status_code == 201
    assert client.delete(url(org), headers={"X-CSRFToken": csrf}).status_code == 204
    assert client.delete(url(org), headers={"X-CSRFToken": csrf}).status_code == 404
    assert AuditEvent.objects.filter(action="org_token_delete", organization=org).count() == 1


def test_the_org_list_api_names_the_source(world):
    _sim, org, people = world
    Organization.objects.filter(pk=org.pk).update(
        collection_source="owner_token", collection_source_detail="from a token an owner added"
    )
    rows = client_of(people["owner"]).get("/api/orgs/").json()
    [row] = [r for r in rows if r["login"] == org.login]
    assert (row["source"], row["source_detail"]) == ("owner_token", "from a token an owner added")
    [row] = [
        r for r in client_of(people["member"]).get("/api/orgs/").json() if r["login"] == org.login
    ]
    assert row["source"] is None
