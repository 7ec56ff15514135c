"""factory_boy factories for the accounts models (other apps extend this module).

Memberships are fresh (verified now) and users synced now by default, so tests that do
not talk to GitHub never trigger a role re-sync.
"""

from datetime import timedelta

import factory
from django.utils import timezone

from accounts.models import GitHubToken, Installation, Membership, Organization, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    github_id = factory.Sequence(lambda n: 9_000_000 + n)
    github_login = factory.Sequence(lambda n: f"user{n}")
    username = factory.LazyAttribute(lambda u: f"github-{u.github_id}")
    email = factory.LazyAttribute(lambda u: f"{u.github_login}@example.com")
    avatar_url = ""
    memberships_synced_at = factory.LazyFunction(timezone.now)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("github_id",)

    github_id = factory.Sequence(lambda n: 8_000_000 + n)
    login = factory.Sequence(lambda n: f"org-{n}")
    name = factory.LazyAttribute(lambda o: o.login.replace("-", " ").title())
    avatar_url = ""


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Membership.Role.OWNER
    state = Membership.State.ACTIVE
    verified_at = factory.LazyFunction(timezone.now)

    class Params:
        stale = factory.Trait(
            verified_at=factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
        )


class InstallationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Installation

    installation_id = factory.Sequence(lambda n: 6_000_000 + n)
    organization = factory.SubFactory(OrganizationFactory)
    account_id = factory.LazyAttribute(lambda i: i.organization.github_id)
    account_login = factory.LazyAttribute(lambda i: i.organization.login)
    permissions = factory.LazyFunction(
        lambda: {"organization_administration": "read", "members": "read"}
    )
    events = factory.LazyFunction(lambda: ["membership", "organization"])
    repository_selection = "all"
    state = Installation.State.ACTIVE


class GitHubTokenFactory(factory.django.DjangoModelFactory):
    """A GitHub App user token (expires in 8 hours, with a refresh token). The values
    are fake: use the simulator (`sim.control.create_token`) for tokens GitHub accepts."""

    class Meta:
        model = GitHubToken

    user = factory.SubFactory(UserFactory)
    client = GitHubToken.Client.APP
    access_token = factory.Sequence(lambda n: f"ghu_factory{n:030d}")
    refresh_token = factory.Sequence(lambda n: f"ghr_factory{n:070d}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=8))
    refresh_token_expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=180))


# --- staff admin and operations (issue 7) -------------------------------------------------


class StaffUserFactory(factory.django.DjangoModelFactory):
    """A staff superuser as `createsuperuser` makes one (no GitHub account); the
    password is "staff-password-123" unless given."""

    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    github_id = None
    github_login = ""
    is_staff = True
    is_superuser = True
    password = factory.django.Password("staff-password-123")


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "accounts.WebhookDelivery"

    delivery_id = factory.Sequence(lambda n: f"00000000-0000-4000-8000-{n:012d}")
    event = "organization"
    action = "renamed"
    installation_id = None
    payload = factory.LazyFunction(dict)
    state = "pending"


class CollectionRunFactory(factory.django.DjangoModelFactory):
    """A finished run of this month (``state`` and ``error`` to taste)."""

    class Meta:
        model = "usage.CollectionRun"

    organization = factory.SubFactory(OrganizationFactory)
    period = factory.LazyFunction(lambda: timezone.now().date().replace(day=1))
    trigger = "schedule"
    state = "succeeded"
    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyFunction(timezone.now)


# --- alerts --------------------------------------------------------------------------------


class ChannelFactory(factory.django.DjangoModelFactory):
    """An e-mail alert channel (the test settings' locmem backend takes its mail)."""

    class Meta:
        model = "alerts.Channel"

    organization = factory.SubFactory(OrganizationFactory)
    kind = "email"
    name = factory.Sequence(lambda n: f"Alerts {n}")
    destination = factory.Sequence(lambda n: f"alerts{n}@example.com")
    destination_hint = factory.LazyAttribute(lambda c: f"a***@{c.destination.split('@')[1]}")
