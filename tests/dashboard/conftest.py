"""Fixtures of the dashboard tests: organizations collected from the simulator over real
HTTP with the collection engineer's own code (`usage.collection.services.run_enqueue` and
`usage.collection.collect.org_collect_due`, in this process), and the personas olivia (owner),
bill (billing manager), mia (member) and charlie (stranger)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache

from accounts.models import Membership, Organization, User
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.helpers import mirror_installation
from usage import periods
from usage.collection.collect import org_collect_due
from usage.collection.services import run_enqueue
from usage.models import CollectionRun

# The simulator's demo personas (ghsim/world.py): GitHub ids, and the role in acme-corp.
PERSONAS = {
    "olivia": (5550001, Membership.Role.OWNER),
    "bill": (5550002, Membership.Role.BILLING_MANAGER),
    "mia": (5550003, Membership.Role.MEMBER),
}
CHARLIE_ID = 5550006


@pytest.fixture
def dash(github_settings, settings, db):
    """The simulator, reset, with Django pointed at it; no installation token cached
    from another test's simulator world; a lease long enough for an in-process run."""
    cache.clear()
    settings.COLLECTION_LEASE_SECONDS = 600
    settings.REFRESH_COOLDOWN_SECONDS = 300
    return github_settings


def persona(login: str) -> User:
    github_id = PERSONAS[login][0] if login in PERSONAS else CHARLIE_ID
    return UserFactory(github_id=github_id, github_login=login, username=f"github-{github_id}")


@pytest.fixture
def people(db) -> dict[str, User]:
    return {login: persona(login) for login in (*PERSONAS, "charlie")}


def join(org: Organization, people: dict[str, User]) -> None:
    for login, (_, role) in PERSONAS.items():
        MembershipFactory(user=people[login], organization=org, role=role)
    # charlie owns an org of his own: being an owner elsewhere opens nothing here.
    other = OrganizationFactory(github_id=8_999_999, login="charlies-org")
    Membership.objects.get_or_create(
        user=people["charlie"],
        organization=other,
        defaults={"role": Membership.Role.OWNER, "state": Membership.State.ACTIVE},
    )


def mirror(sim, login: str, install: bool = True) -> Organization:
    """Our rows for a simulator org (what sign-in and the installation webhook create)."""
    info = next(o for o in sim.control.state()["orgs"] if o["login"].lower() == login.lower())
    org = OrganizationFactory(github_id=info["id"], login=info["login"], name=info["name"])
    installed = [i for i in sim.control.state()["installations"] if i["org_id"] == info["id"]]
    if install and not installed:
        installed = [sim.control.install(login)]
    for inst in installed:
        mirror_installation(org, info, inst)
    return org


def collect(org: Organization, months: Iterable[date], *, expect_success: bool = True) -> None:
    """Collect `months` (and whatever else is due) of `org` from the simulator, in this
    process, with the collection engineer's services."""
    for month in months:
        run_enqueue(organization=org, period=month, trigger="backfill", send=False)
    org_collect_due(organization_id=org.pk, holder="dashboard-tests")
    if expect_success:
        failed = CollectionRun.objects.filter(organization=org, state=CollectionRun.State.FAILED)
        assert [r.error for r in failed] == []
    org.refresh_from_db()


def this_and_last_month() -> list[date]:
    return [periods.current_month(), periods.previous_month()]


@pytest.fixture
def acme(dash, people) -> Organization:
    """acme-corp (App installed in the simulator's demo world), this month and last
    month collected; olivia, bill and mia are members."""
    org = mirror(dash, "acme-corp")
    join(org, people)
    collect(org, this_and_last_month())
    return org


@pytest.fixture
def failing(acme, dash, settings):
    """acme-corp collected, then GitHub answers its usage report with 502: the first
    attempt of a refresh fails and is queued again, for its retry."""
    settings.GITHUB_HTTP_MAX_ATTEMPTS = 1
    settings.COLLECTION_MAX_ATTEMPTS = 3
    dash.control.fault("status", "^/organizations/acme-corp/settings/billing/usage$", status=502)
    run_enqueue(organization=acme, period=periods.current_month(), trigger="manual", send=False)
    org_collect_due(organization_id=acme.pk, holder="status-tests")
    yield acme
    dash.control.clear_faults()


@pytest.fixture
def make_org(dash, people) -> Callable[..., Organization]:
    """make_org("small-co", months=[...], repos=3, ...): a new simulator org, installed,
    mirrored, its months collected, the personas in it."""

    def make(login: str, *, months: Iterable[date] | None = None, **options: Any) -> Organization:
        options.setdefault("created_months_ago", 30)
        dash.control.create_org(login, **options)
        org = mirror(dash, login)
        join(org, people)
        collect(org, this_and_last_month() if months is None else months)
        return org

    return make


def sim_totals(sim, org: Organization, start: date, end: date, group_by: str) -> dict[str, Any]:
    return sim.control.totals(org.login, start.isoformat(), end.isoformat(), group_by)


def dec(value: Any) -> Decimal:
    return Decimal(str(value))


def month_last_day(month: date) -> date:
    return periods.add_months(month, 1) - timedelta(days=1)
