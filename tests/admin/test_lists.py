"""The admin lists staff work from: search by org login, user login and installation id;
filters by state, role, failing and stale; links between related objects; and a usage
list that never counts a million-row table."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Installation, Membership, Organization
from tests.factories import (
    CollectionRunFactory,
    InstallationFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)
from usage.admin.tables import CappedCountPaginator
from usage.models import CollectionRun, UsageItem

pytestmark = pytest.mark.django_db


def found(client, url: str) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200, url
    return {str(obj) for obj in response.context["cl"].result_list}


@pytest.fixture
def world():
    acme = OrganizationFactory(login="acme-corp")
    globex = OrganizationFactory(login="globex")
    InstallationFactory(organization=acme, installation_id=8880001)
    InstallationFactory(
        organization=globex, installation_id=8880002, state=Installation.State.SUSPENDED
    )
    olivia = UserFactory(github_login="olivia")
    mia = UserFactory(github_login="mia")
    MembershipFactory(user=olivia, organization=acme, role=Membership.Role.OWNER)
    MembershipFactory(user=mia, organization=acme, role=Membership.Role.MEMBER, stale=True)
    MembershipFactory(user=olivia, organization=globex, role=Membership.Role.BILLING_MANAGER)
    Organization.objects.filter(pk=acme.pk).update(last_collected_at=timezone.now())
    CollectionRunFactory(organization=globex, state=CollectionRun.State.FAILED, error="502")
    return acme, globex


def test_search_by_org_login_user_login_and_installation_id(staff_client, world):
    orgs = "/admin/accounts/organization/"
    assert found(staff_client, orgs + "?q=acme") == {"acme-corp"}
    assert found(staff_client, orgs + "?q=8880002") == {"globex"}
    installs = "/admin/accounts/installation/"
    assert found(staff_client, installs + "?q=8880001") == {"installation 8880001 on acme-corp"}
    assert found(staff_client, installs + "?q=globex") == {"installation 8880002 on globex"}
    memberships = "/admin/accounts/membership/"
    assert len(found(staff_client, memberships + "?q=olivia")) == 2
    assert len(found(staff_client, memberships + "?q=globex")) == 1
    assert found(staff_client, "/admin/accounts/user/?q=mia") == {"mia"}
    runs = found(staff_client, "/admin/usage/collectionrun/?q=globex")
    assert len(runs) == 1


def test_filters_state_role_failing_and_stale(staff_client, world):
    assert found(staff_client, "/admin/accounts/installation/?state__exact=suspended") == {
        "installation 8880002 on globex"
    }
    members = "/admin/accounts/membership/"
    assert len(found(staff_client, members + "?role__exact=billing_manager")) == 1
    assert len(found(staff_client, members + "?verified=stale")) == 1
    orgs = "/admin/accounts/organization/"
    assert found(staff_client, orgs + "?failing=yes") == {"globex"}
    assert found(staff_client, orgs + "?failing=no") == {"acme-corp"}
    assert found(staff_client, orgs + "?collected=stale") == {"globex"}
    assert found(staff_client, orgs + "?collected=fresh") == {"acme-corp"}
    runs = "/admin/usage/collectionrun/"
    assert len(found(staff_client, runs + "?failing=unresolved")) == 1
    assert len(found(staff_client, runs + "?state__exact=failed")) == 1


def test_related_objects_link_to_each_other(staff_client, world):
    acme, _ = world
    page = staff_client.get(f"/admin/accounts/organization/{acme.pk}/change/").content.decode()
    for link in (
        f"/admin/usage/collectionrun/?organization__id__exact={acme.pk}",
        f"/admin/accounts/membership/?organization__id__exact={acme.pk}",
        f"/admin/accounts/auditevent/?organization__id__exact={acme.pk}",
        "/admin/usage/usageitem/?q=acme-corp",
    ):
        assert f'href="{link}"' in page, link
        assert staff_client.get(link).status_code == 200
    inst = Installation.objects.get(organization=acme)
    assert f'href="/admin/accounts/installation/{inst.pk}/change/"' in page
    members = staff_client.get("/admin/accounts/membership/").content.decode()
    assert f'href="/admin/accounts/organization/{acme.pk}/change/"' in members


def test_the_usage_list_counts_at_most_the_cap(staff_client, world, monkeypatch):
    acme, _ = world
    monkeypatch.setattr(CappedCountPaginator, "CAP", 5)
    money = {k: Decimal(1) for k in ("gross_amount", "discount_amount", "net_amount")}
    UsageItem.objects.bulk_create(
        UsageItem(
            organization=acme,
            date=timezone.now().date() - timedelta(days=i % 20),
            product="actions",
            sku="Actions Linux",
            unit_type="Minutes",
            quantity=Decimal(1),
            price_per_unit=Decimal(1),
            **money,
        )
        for i in range(40)
    )
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get("/admin/usage/usageitem/")
    assert response.status_code == 200
    assert response.context["cl"].result_count == 6  # "more than 5"
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 6" in sql for sql in counts), counts
    assert staff_client.get("/admin/usage/usageitem/?q=acme-corp").status_code == 200
    assert b"Add usage item" not in response.content


def test_a_capped_count_is_said_as_such_never_as_an_exact_number(staff_client, world, monkeypatch):
    """Issue 13 item 9: "10001 results" for a table of 124,701 rows was a lie. Past the
    cap the list says "more than N" (filtered, or no statistics yet) or "about N
    (estimate)" from PostgreSQL's statistics."""
    acme, _ = world
    monkeypatch.setattr(CappedCountPaginator, "CAP", 5)
    money = {k: Decimal(1) for k in ("gross_amount", "discount_amount", "net_amount")}
    UsageItem.objects.bulk_create(
        UsageItem(
            organization=acme,
            date=timezone.now().date() - timedelta(days=i % 20),
            product="actions",
            sku="actions_linux",
            unit_type="minutes",
            quantity=Decimal(1),
            price_per_unit=Decimal(1),
            **money,
        )
        for i in range(40)
    )
    searched = staff_client.get("/admin/usage/usageitem/?q=acme-corp").content.decode()
    assert "more than 5 results" in searched
    assert "more than 5 usage items" in searched
    assert "6 results" not in searched and "6 usage items" not in searched

    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {UsageItem._meta.db_table}")
    page = staff_client.get("/admin/usage/usageitem/").content.decode()
    assert "about 40 (estimate) usage items" in page
    assert "6 usage items" not in page

    # Under the cap the count is exact, as before.
    monkeypatch.setattr(CappedCountPaginator, "CAP", 1000)
    exact = staff_client.get("/admin/usage/dailyusage/").content.decode()
    assert "0 daily usages" in exact or "daily usage" in exact
    assert "(estimate)" not in exact and "more than" not in exact
