"""The access state per user and organization, and the org list (HTML and JSON)."""

import pytest

from accounts.models import Installation, Membership
from accounts.roles.access import org_access
from tests.factories import InstallationFactory, MembershipFactory, OrganizationFactory, UserFactory


@pytest.fixture
def olivia(db):
    return UserFactory(github_login="olivia")


def state(user, org):
    return org_access(user=user, organization=org)


def test_access_states(olivia):
    installed = OrganizationFactory(login="acme-corp")
    InstallationFactory(organization=installed)
    bare = OrganizationFactory(login="globex")
    token_only = OrganizationFactory(login="tokenco")
    suspended = OrganizationFactory(login="suspended")
    InstallationFactory(organization=suspended, state=Installation.State.SUSPENDED)
    no_admin = OrganizationFactory(login="noadmin")
    InstallationFactory(organization=no_admin, permissions={"members": "read"})
    member_of = OrganizationFactory(login="memberco")
    InstallationFactory(organization=member_of)

    for org in (installed, bare, suspended, no_admin):
        MembershipFactory(user=olivia, organization=org)
    MembershipFactory(
        user=olivia,
        organization=token_only,
        role=Membership.Role.BILLING_MANAGER,
        token_access=Membership.TokenAccess.ALLOWED,
    )
    MembershipFactory(user=olivia, organization=member_of, role=Membership.Role.MEMBER)

    assert state(olivia, installed) == "app"
    assert state(olivia, bare) == "needs_install"
    assert state(olivia, token_only) == "token"
    assert state(olivia, suspended) == "needs_install"
    assert state(olivia, no_admin) == "needs_install"
    assert state(olivia, member_of) == "no_access"
    assert state(UserFactory(), installed) == "no_access"  # a stranger


def test_org_list_and_json(client, olivia):
    acme = OrganizationFactory(login="acme-corp", name="Acme <Corp>")
    InstallationFactory(organization=acme)
    globex = OrganizationFactory(login="globex")
    MembershipFactory(user=olivia, organization=acme)
    MembershipFactory(user=olivia, organization=globex, role=Membership.Role.MEMBER)
    client.force_login(olivia)

    page = client.get("/orgs/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Acme &lt;Corp&gt;" in html  # GitHub text is escaped
    assert 'href="/orgs/acme-corp/"' in html
    assert "Nothing to see" in html
    assert "/orgs/globex/" not in html.replace("/orgs/globex/install/", "")

    rows = client.get("/api/orgs/").json()
    # The org's state, as on the overview's badge, for the owner only (usage's org_status).
    statuses = [row.pop("status") for row in rows]
    assert statuses[0]["state"] == "no_data_yet" and statuses[1] is None
    assert rows == [
        {
            "login": "acme-corp",
            "name": "Acme <Corp>",
            "role": "owner",
            "access": "app",
            "installed": True,
            "last_collected_at": None,
            "source": None,
            "source_detail": "",
        },
        {
            "login": "globex",
            "name": globex.name,
            "role": "member",
            "access": "no_access",
            "installed": False,
            "last_collected_at": None,
            "source": None,
            "source_detail": "",
        },
    ]


def test_api_org_list_needs_a_session(client, db):
    assert client.get("/api/orgs/").status_code == 401


def test_no_orgs_with_the_app_client_shows_the_install_step(client, olivia, settings):
    settings.GITHUB_SIGNIN_CLIENT = "app"
    settings.GITHUB_WEB_URL = "https://github.example"
    settings.GITHUB_APP_SLUG = "billingdash"
    client.force_login(olivia)
    html = client.get("/orgs/").content.decode()
    assert "https://github.example/apps/billingdash/installations/new" in html
    assert "Ask an owner" in html or "ask an owner" in html.lower()


def test_no_orgs_with_the_oauth_client(client, olivia, settings):
    settings.GITHUB_SIGNIN_CLIENT = "oauth"
    client.force_login(olivia)
    html = client.get("/orgs/").content.decode()
    assert "not a member of any organization" in html


def test_home_page(client, olivia):
    assert client.get("/")["Location"] == "/login/"
    client.force_login(olivia)
    assert client.get("/")["Location"] == "/orgs/"
