"""Webhook events about accounts have the right effect: organization and installation
target renames, members added and removed, team membership changes, and a user
revoking the App's authorization (GitHub's example payloads, as in test_processing.py).
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.models import GitHubToken, Membership, Organization, User, WebhookDelivery
from accounts.webhooks.handlers import STALE
from tests.factories import (
    GitHubTokenFactory,
    InstallationFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

from .conftest import example

pytestmark = pytest.mark.django_db


# --- renames ------------------------------------------------------------------------------


def test_organization_renamed(deliver):
    org = OrganizationFactory(github_id=38302899, login="OldCoders")
    inst = InstallationFactory(organization=org)
    deliver("organization", example("webhook__organization__renamed.json"))
    org.refresh_from_db()
    inst.refresh_from_db()
    assert org.login == "Octocoders"
    assert inst.account_login == "Octocoders"


def test_organization_renamed_unknown_is_ignored(deliver):
    delivery = deliver("organization", example("webhook__organization__renamed.json"))
    assert delivery.state == WebhookDelivery.State.IGNORED
    assert not Organization.objects.exists()


def test_renamed_to_a_login_another_row_still_holds(deliver):
    holder = OrganizationFactory(github_id=1, login="octocoders")
    org = OrganizationFactory(github_id=38302899, login="OldCoders")
    deliver("organization", example("webhook__organization__renamed.json"))
    org.refresh_from_db()
    holder.refresh_from_db()
    assert org.login == "Octocoders"
    assert holder.login == "~1"


def installation_target_renamed(account_id: int, login: str, old: str) -> dict:
    # No example exists (SOURCE.md §6); built from the x-webhooks schema's required keys.
    return {
        "action": "renamed",
        "account": {
            "id": account_id,
            "login": login,
            "node_id": "O_1",
            "avatar_url": "",
            "html_url": f"https://github.com/{login}",
            "type": "Organization",
        },
        "changes": {"login": {"from": old}},
        "installation": {"id": 77, "node_id": "MDIz"},
        "target_type": "Organization",
        "sender": {"login": "olivia", "id": 5, "type": "User"},
    }


def test_installation_target_renamed(deliver):
    org = OrganizationFactory(github_id=4242, login="acme-corp")
    inst = InstallationFactory(installation_id=77, organization=org)
    deliver("installation_target", installation_target_renamed(4242, "acme-inc", "acme-corp"))
    org.refresh_from_db()
    inst.refresh_from_db()
    assert (org.login, inst.account_login) == ("acme-inc", "acme-inc")


# --- people -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["webhook__organization__member_added.json", "webhook__organization__member_added.3.json"],
)
def test_member_added_updates_the_known_membership_and_asks_for_a_resync(deliver, name):
    org = OrganizationFactory(github_id=38302899, login="Octocoders")
    user = UserFactory(github_id=39652351, github_login="hacktocat")
    membership = MembershipFactory(user=user, organization=org, role=Membership.Role.OWNER)
    delivery = deliver("organization", example(name))
    assert delivery.state == WebhookDelivery.State.PROCESSED
    membership.refresh_from_db()
    user.refresh_from_db()
    assert membership.role == Membership.Role.MEMBER
    assert membership.state == Membership.State.PENDING
    assert membership.verified_at == STALE
    assert user.memberships_synced_at is None


def test_member_added_does_not_grant_access_by_itself(deliver):
    OrganizationFactory(github_id=38302899)
    user = UserFactory(github_id=39652351)
    payload = example("webhook__organization__member_added.json")
    payload["membership"]["role"] = "admin"
    deliver("organization", payload)
    assert not Membership.objects.exists()  # the next page view re-reads GitHub
    user.refresh_from_db()
    assert user.memberships_synced_at is None


def test_member_added_for_an_unknown_user_is_ignored(deliver):
    delivery = deliver("organization", example("webhook__organization__member_added.json"))
    assert delivery.state == WebhookDelivery.State.IGNORED


def test_member_removed_deletes_the_membership(deliver):
    # No example exists for member_removed; its payload has member_added's shape.
    org = OrganizationFactory(github_id=38302899)
    user = UserFactory(github_id=39652351)
    MembershipFactory(user=user, organization=org)
    kept = MembershipFactory(user=user)
    payload = example("webhook__organization__member_added.json")
    payload["action"] = "member_removed"
    payload["membership"]["state"] = "active"
    deliver("organization", payload)
    assert list(Membership.objects.filter(user=user)) == [kept]
    user.refresh_from_db()
    assert user.memberships_synced_at is None


@pytest.mark.parametrize(
    "name",
    [
        "webhook__membership__added.json",
        "webhook__membership__removed.json",
        "webhook__membership__removed.3.json",
        "webhook__membership__removed.4.json",
    ],
)
def test_team_membership_events_only_ask_for_a_resync(deliver, name):
    org = OrganizationFactory(github_id=38302899)
    user = UserFactory(github_id=21031067)
    membership = MembershipFactory(user=user, organization=org, role=Membership.Role.OWNER)
    delivery = deliver("membership", example(name))
    assert delivery.state == WebhookDelivery.State.PROCESSED
    membership.refresh_from_db()  # still there: a team change is not an org change
    user.refresh_from_db()
    assert membership.role == Membership.Role.OWNER
    assert membership.verified_at == STALE
    assert user.memberships_synced_at is None


def test_authorization_revoked_drops_tokens_and_sessions(deliver):
    user = UserFactory(github_id=1, github_login="octocat")
    GitHubTokenFactory(user=user)
    bystander = GitHubTokenFactory()
    before = timezone.now()
    delivery = deliver(
        "github_app_authorization", example("webhook__github_app_authorization__revoked.json")
    )
    assert delivery.state == WebhookDelivery.State.PROCESSED
    user.refresh_from_db()
    assert not GitHubToken.objects.filter(user=user).exists()
    assert GitHubToken.objects.filter(pk=bystander.pk).exists()
    assert user.sessions_revoked_at >= before
    assert user.sessions_revoked_reason


def test_authorization_revoked_for_an_unknown_user_is_ignored(deliver):
    delivery = deliver(
        "github_app_authorization", example("webhook__github_app_authorization__revoked.json")
    )
    assert delivery.state == WebhookDelivery.State.IGNORED
    assert not User.objects.exists()
