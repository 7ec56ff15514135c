"""Organizations in every state `usage.reporting.status` tells apart, made with the
factories (no simulator): `orgs_of(user, STATES)`."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

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
