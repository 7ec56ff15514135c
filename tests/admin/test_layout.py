"""Staff lists fit a 1366 px wide screen (issue 13 item 9): the organization list, with
long names, every filter and the navigation sidebar open, scrolls no page sideways.
Screenshot: /tmp/shots/admin-orgs-1366.png."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.models import Installation, Membership, Organization
from tests.factories import (
    InstallationFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"
# Django's admin puts the table in a box that scrolls sideways on its own: columns hidden
# behind a scroll bar are an overflow too.
TABLE_OVERFLOW = (
    "(b => b.scrollWidth - b.clientWidth)(document.querySelector('#changelist .results'))"
)


def test_the_organization_list_fits_1366_px(tabs, staff_user):
    user = UserFactory(github_login="olivia")
    for n in range(12):
        org = OrganizationFactory(
            login=f"a-rather-long-organization-login-{n:02d}",
            name=f"A Rather Long Organization Display Name Number {n:02d} Incorporated",
            billing_platform=Organization.BillingPlatform.UNAVAILABLE
            if n % 3 == 0
            else Organization.BillingPlatform.ENHANCED,
            last_collected_at=timezone.now() if n % 2 else None,
        )
        InstallationFactory(
            organization=org,
            installation_id=88_800_000 + n,
            state=Installation.State.SUSPENDED if n % 4 == 0 else Installation.State.ACTIVE,
        )
        MembershipFactory(user=user, organization=org, role=Membership.Role.OWNER)

    tab = tabs.new("staff", viewport={"width": 1366, "height": 900})
    tab.login_as(staff_user)
    tab.goto("/admin/accounts/organization/")
    assert tab.page.locator("#result_list tbody tr").count() == 12
    overflow = tab.page.evaluate(OVERFLOW)
    table_overflow = tab.page.evaluate(TABLE_OVERFLOW)
    tab.shot("admin-orgs-1366")
    assert overflow <= 0, f"the page is {overflow} px wider than the window"
    assert table_overflow <= 0, f"the list is {table_overflow} px wider than its box"
    headers = tab.page.inner_text("#result_list thead")
    for column in ("Organization", "Billing platform", "Paused", "Last collected", "App"):
        assert column.lower() in headers.lower(), (column, headers)
    tab.check_clean()
