"""Roles come from GitHub (`GET /user/memberships/orgs`, every page) on every sign-in
and again once older than MEMBERSHIP_TTL_SECONDS; organizations the user left lose
their membership; renamed organizations keep their identity (GitHub's id)."""

from datetime import timedelta

from django.utils import timezone

from accounts.models import GitHubToken, Membership, Organization, User
from accounts.organizations import organization_upsert
from tests.factories import GitHubTokenFactory, MembershipFactory, OrganizationFactory


def age_roles(seconds: int) -> None:
    then = timezone.now() - timedelta(seconds=seconds)
    Membership.objects.update(verified_at=then)
    User.objects.update(memberships_synced_at=then)


def roles(client) -> dict[str, str]:
    return {o["login"]: o["role"] for o in client.get("/api/orgs/").json()}


def test_a_role_change_on_github_shows_after_the_ttl(oauth_mode, browser, settings):
    settings.MEMBERSHIP_TTL_SECONDS = 900
    browser.sign_in("olivia", "github-oauth")
    assert browser.client.get("/orgs/acme-corp/").status_code == 200

    oauth_mode.control.set_membership("acme-corp", "olivia", "member")
    age_roles(600)  # within the TTL: what GitHub said 10 minutes ago still holds
    assert browser.client.get("/orgs/acme-corp/").status_code == 200

    age_roles(901)  # past the TTL: asked again before any billing is shown
    assert browser.client.get("/orgs/acme-corp/").status_code == 404
    assert roles(browser.client)["acme-corp"] == "member"


def test_a_promotion_on_github_opens_the_dashboard_after_the_ttl(oauth_mode, browser):
    browser.sign_in("mia", "github-oauth")
    assert browser.client.get("/orgs/globex/").status_code == 404
    oauth_mode.control.set_membership("globex", "mia", "billing_manager")
    age_roles(3600)
    assert browser.client.get("/orgs/globex/").status_code == 200
    assert roles(browser.client)["globex"] == "billing_manager"


def test_leaving_an_organization_drops_the_membership(oauth_mode, browser):
    browser.sign_in("mia", "github-oauth")
    user = User.objects.get(github_id=5550003)
    assert set(
        Membership.objects.filter(user=user).values_list("organization__login", flat=True)
    ) == {
        "acme-corp",
        "globex",
    }
    oauth_mode.control.remove_membership("globex", "mia")
    age_roles(3600)
    assert roles(browser.client) == {"acme-corp": "member"}
    assert not Membership.objects.filter(user=user, organization__login="globex").exists()
    assert browser.client.get("/orgs/globex/install/").status_code == 404


def test_a_renamed_organization_keeps_its_identity(oauth_mode, browser):
    browser.sign_in("olivia", "github-oauth")
    org_id = Organization.objects.get(login="globex").pk
    oauth_mode.control.rename_org("globex", "globex-inc")
    age_roles(3600)
    assert "globex-inc" in roles(browser.client)
    assert Organization.objects.get(pk=org_id).login == "globex-inc"
    assert browser.client.get("/orgs/globex-inc/").status_code == 200
    assert browser.client.get("/orgs/globex/").status_code == 404


def test_a_reused_login_is_moved_aside(db):
    old = OrganizationFactory(login="acme-corp", github_id=1)
    new = organization_upsert(github_org={"id": 2, "login": "ACME-corp"})
    old.refresh_from_db()
    assert new.login == "ACME-corp" and old.login == "~1"


def test_every_page_of_memberships_is_read(oauth_mode, browser):
    for n in range(105):
        oauth_mode.control.create_org(f"org-{n:03d}", members={"nora": "member"})
    browser.sign_in("nora", "github-oauth")
    assert len(roles(browser.client)) == 105
    assert Membership.objects.filter(user__github_id=5550004).count() == 105


def test_access_detection_records_the_missing_permission(app_mode, browser):
    """A billing manager's own token cannot read the usage report: the permission GitHub
    names (x-accepted-github-permissions) is recorded with the time of the check."""
    browser.sign_in("bill", "github-app")
    membership = Membership.objects.get(user__github_id=5550002, organization__login="acme-corp")
    assert membership.token_access == Membership.TokenAccess.DENIED
    assert membership.token_missing_permission == "organization_administration=read"
    assert membership.token_checked_at is not None
    assert browser.client.get("/api/orgs/").json()[0]["access"] == "app"  # the App reads it


def test_a_classic_oauth_token_cannot_read_billing(oauth_mode, browser):
    browser.sign_in("olivia", "github-oauth")
    membership = Membership.objects.get(user__github_id=5550001, organization__login="globex")
    assert membership.token_access == Membership.TokenAccess.DENIED
    assert membership.token_checked_at is not None


def test_the_app_token_reads_billing_where_installed(app_mode, browser):
    browser.sign_in("olivia", "github-app")
    membership = Membership.objects.get(user__github_id=5550001, organization__login="acme-corp")
    assert membership.token_access == Membership.TokenAccess.ALLOWED
    assert membership.organization.billing_platform == Organization.BillingPlatform.ENHANCED
    assert membership.organization.installations.get().can_read_billing


def test_a_stale_role_github_cannot_confirm_shows_nothing(client, db, settings, closed_port):
    """GitHub down while a role is stale: fail closed with a "try again" page (503)."""
    settings.GITHUB_API_URL = f"http://127.0.0.1:{closed_port}/api/v3"
    settings.GITHUB_HTTP_MAX_ATTEMPTS = 1
    membership = MembershipFactory(stale=True)
    membership.user.memberships_synced_at = membership.verified_at
    membership.user.save()
    GitHubTokenFactory(user=membership.user)
    client.force_login(membership.user)
    response = client.get(f"/orgs/{membership.organization.login}/")
    assert response.status_code == 503
    assert "could not confirm your role" in response.content.decode()
    assert GitHubToken.objects.filter(user=membership.user).exists()  # not signed out

    # The org list still renders, with a warning.
    page = client.get("/orgs/")
    assert page.status_code == 200
    assert "could not be reached" in page.content.decode()
