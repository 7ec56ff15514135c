"""The overview (`/orgs/`): everything the organization list showed (role, access state,
next step), plus month-to-date spend, projection and a 30-day sparkline for the orgs
whose billing the user may see, and their sum; nothing for members or stale roles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Membership
from tests.factories import MembershipFactory, OrganizationFactory
from usage import periods
from usage.reporting.formatting import money

from .conftest import dec, sim_totals

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


def test_members_see_the_list_but_no_spend(client, acme, people):
    client.force_login(people["mia"])
    html = client.get("/orgs/").content.decode()
    assert 'data-org="acme-corp" data-access="no_access"' in html
    assert "Nothing to see: billing is for owners and billing managers" in html
    assert 'data-mtd="acme-corp"' not in html and "Month to date" not in html


def test_owner_sees_spend_next_to_the_org_list(client, acme, people, dash):
    # Another org of olivia's, with nothing installed.
    MembershipFactory(user=people["olivia"], organization=OrganizationFactory(login="zeta"))
    client.force_login(people["olivia"])
    response = client.get("/orgs/")
    html = response.content.decode()
    month = sim_totals(dash, acme, periods.current_month(), periods.today(), "day")
    net = dec(month["total"]["net"])
    assert f'data-mtd="acme-corp">{money(net)}<' in html
    assert 'data-org="zeta" data-access="needs_install"' in html
    assert 'href="/orgs/zeta/install/"' in html  # the next step is still there
    assert 'href="/orgs/acme-corp/"' in html
    assert (
        '<a class="button" href="/install/" data-install="install">Install on another '
        "organization</a>"
    ) in html
    assert response.context["total_mtd"] == net
    assert response.context["total_orgs"] == 1
    assert 'aria-label="Daily net spend of acme-corp, last 30 days"' in html


def test_a_stale_role_shows_no_spend(client, acme, people, settings):
    # GitHub cannot confirm the role now (no token here): the list is as last synced,
    # and no billing is shown for a role older than MEMBERSHIP_TTL_SECONDS.
    Membership.objects.filter(user=people["bill"]).update(
        verified_at=timezone.now() - timedelta(days=1)
    )
    people["bill"].memberships_synced_at = timezone.now()
    people["bill"].save()
    client.force_login(people["bill"])
    html = client.get("/orgs/").content.decode()
    assert 'data-org="acme-corp"' in html
    assert 'data-mtd="acme-corp"' not in html


def test_no_orgs_is_the_wizards_first_step(client, db, people, settings):
    settings.GITHUB_SIGNIN_CLIENT = "oauth"
    client.force_login(people["charlie"])
    Membership.objects.filter(user=people["charlie"]).delete()
    html = client.get("/orgs/").content.decode()
    assert "not a member of any organization" in html
