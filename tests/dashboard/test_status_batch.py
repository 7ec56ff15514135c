"""`org_statuses`, the batch reader of the lists (`/orgs/`, `/api/orgs/`): for every org
exactly what `org_status` says of it alone, in a number of queries that does not grow
with the number of orgs."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.audit import audit_log
from accounts.models import Installation, Membership, OrgAccessToken, Organization, User
from tests.factories import (
    CollectionRunFactory,
    InstallationFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)
from usage import periods
from usage.models import (
    CollectionRun,
    DailyUsage,
    EndpointAvailability,
    OrgCollectionState,
    ReportImport,
)
from usage.reporting.status import org_status, org_statuses

pytestmark = [pytest.mark.django_db]

_serial = itertools.count()


def _usage(org: Organization) -> None:
    zero = Decimal(0)
    DailyUsage.objects.create(
        organization=org,
        date=periods.today(),
        product="actions",
        sku="linux",
        unit_type="minutes",
        quantity=Decimal(10),
        gross_amount=Decimal("1.50"),
        discount_amount=zero,
        net_amount=Decimal("1.50"),
        items=1,
    )


def _installed(org: Organization, **fields) -> Installation:
    return InstallationFactory(organization=org, **fields)


def up_to_date(org: Organization) -> None:
    _installed(org)
    CollectionRunFactory(organization=org)
    _usage(org)


def not_installed(org: Organization) -> None:
    pass


def suspended(org: Organization) -> None:
    _installed(org, state=Installation.State.SUSPENDED, suspended_at=timezone.now())
    _usage(org)


def uninstalled(org: Organization) -> None:
    inst = _installed(org, state=Installation.State.DELETED, deleted_at=timezone.now())
    audit_log(
        actor=None,
        action="installation.removed",
        organization=org,
        details={"installation_id": inst.installation_id, "sender": "octocat"},
    )


def missing_permission(org: Organization) -> None:
    _installed(org, permissions={"members": "read"})


def paused(org: Organization) -> None:
    _installed(org)
    Organization.objects.filter(pk=org.pk).update(collection_paused=True)
    _usage(org)


def not_enhanced(org: Organization) -> None:
    _installed(org)
    Organization.objects.filter(pk=org.pk).update(
        billing_platform=Organization.BillingPlatform.UNAVAILABLE
    )
    EndpointAvailability.objects.create(
        organization=org,
        endpoint=EndpointAvailability.Endpoint.USAGE,
        available=False,
        reason=EndpointAvailability.Reason.NOT_AVAILABLE,
        checked_at=timezone.now(),
        next_check_at=timezone.now() + timedelta(days=1),
        detail="Not available",
        status=404,
    )


def github_failing(org: Organization) -> None:
    up_to_date(org)
    CollectionRun.objects.create(
        organization=org,
        period=periods.current_month(),
        trigger=CollectionRun.Trigger.MANUAL,
        attempts=1,
        error="502 Bad Gateway (request id ABC)",
        error_kind=CollectionRun.ErrorKind.GITHUB_UNAVAILABLE,
        not_before=timezone.now() + timedelta(minutes=5),
    )


def backfilling(org: Organization) -> None:
    _installed(org)
    OrgCollectionState.objects.create(
        organization=org, backfill_started_at=timezone.now(), backfill_months=3
    )
    CollectionRunFactory(organization=org)
    CollectionRun.objects.create(
        organization=org,
        period=periods.previous_month(),
        trigger=CollectionRun.Trigger.BACKFILL,
    )


def refreshing(org: Organization) -> None:
    up_to_date(org)
    OrgCollectionState.objects.create(organization=org, refresh_requested_at=timezone.now())
    CollectionRun.objects.create(
        organization=org, period=periods.current_month(), trigger=CollectionRun.Trigger.MANUAL
    )


def gave_up(org: Organization) -> None:
    up_to_date(org)
    CollectionRunFactory(
        organization=org,
        state=CollectionRun.State.FAILED,
        error="GitHub said no",
        finished_at=timezone.now() + timedelta(seconds=1),
    )


def no_usage(org: Organization) -> None:
    _installed(org)
    CollectionRunFactory(organization=org)


def from_reports(org: Organization) -> None:
    uploader = UserFactory(first_name="Bill")
    ReportImport.objects.create(
        organization=org,
        kind="summarized",
        uploaded_by=uploader,
        verified=True,
        file_name="usage.csv",
        size=10,
        sha256="0" * 64,
        status=ReportImport.Status.DONE,
        finished_at=timezone.now(),
    )
    _usage(org)


def owner_token(org: Organization) -> None:
    OrgAccessToken.objects.create(
        organization=org,
        token="ghp_" + "x" * 36,
        last4="xxxx",
        kind=OrgAccessToken.Kind.CLASSIC,
        github_id=1,
        github_login="olivia",
    )
    CollectionRunFactory(organization=org)
    _usage(org)


STATES: list[Callable[[Organization], None]] = [
    up_to_date,
    not_installed,
    suspended,
    uninstalled,
    missing_permission,
    paused,
    not_enhanced,
    github_failing,
    backfilling,
    refreshing,
    gave_up,
    no_usage,
    from_reports,
    owner_token,
]


def orgs_of(user: User, states, role=Membership.Role.OWNER) -> list[Organization]:
    orgs = []
    for state in states:
        org = OrganizationFactory(login=f"{state.__name__.replace('_', '-')}-{next(_serial)}")
        state(org)
        MembershipFactory(user=user, organization=org, role=role)
        org.refresh_from_db()
        orgs.append(org)
    return orgs


@pytest.mark.parametrize("role", [None, "owner", "billing_manager"])
def test_the_batch_says_of_each_org_what_org_status_says_of_it_alone(role):
    orgs = orgs_of(UserFactory(), STATES)
    batch = org_statuses([(org, role) for org in orgs])
    assert set(batch) == {org.pk for org in orgs}
    for org in orgs:
        alone = org_status(org, role=role)
        assert batch[org.pk] == alone, org.login
        assert batch[org.pk].as_json() == alone.as_json(), org.login
    # The orgs are in the states meant (the comparison covers each rule).
    assert [str(batch[org.pk].state) for org in orgs] == [
        "up_to_date",
        "not_installed",
        "suspended",
        "uninstalled",
        "permissions_missing",
        "paused",
        "not_enhanced",
        "github_failing",
        "collecting_backfill",
        "refreshing",
        "gave_up",
        "no_usage",
        "from_reports",
        "up_to_date",  # read with an owner's token, without the App
    ]


def test_a_known_has_data_is_used_as_org_status_uses_it():
    orgs = orgs_of(UserFactory(), [up_to_date, no_usage])
    told = {org.pk: True for org in orgs}
    batch = org_statuses([(org, "owner") for org in orgs], has_data=told)
    for org in orgs:
        assert batch[org.pk] == org_status(org, role="owner", has_data=True)


def queries_of(client, user: User, url: str) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", ["/orgs/", "/api/orgs/"])
def test_the_lists_read_the_states_in_as_many_queries_for_one_org_as_for_many(client, url):
    one, each, twice = UserFactory(), UserFactory(), UserFactory()
    orgs_of(one, [up_to_date])
    orgs_of(each, STATES)
    orgs_of(twice, STATES + STATES)
    # Some reads are made only when an org needs them (the uploaded reports of an org
    # the App cannot read...): every state at once is the most there is.
    most = queries_of(client, each, url)
    assert queries_of(client, twice, url) == most
    assert queries_of(client, one, url) <= most
