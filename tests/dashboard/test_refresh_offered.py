""" "Refresh now" is offered where `OrgStatus.refresh_offered` says so, in every state:
the dashboard's button follows the rule in Python, not one of its own."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory
from usage.reporting.status import org_statuses

from .org_states import STATES, orgs_of

pytestmark = [pytest.mark.django_db]

OFFERED = {
    "up_to_date": True,
    "not_installed": False,
    "suspended": False,
    "uninstalled": False,
    "permissions_missing": False,
    "paused": False,
    "not_enhanced": False,
    "github_failing": False,  # already retried: a refresh would wait for the same retry
    "collecting_backfill": True,
    "refreshing": True,
    "gave_up": True,
    "no_usage": True,
    "from_reports": True,
}


def test_the_dashboard_offers_a_refresh_exactly_where_the_status_does(client):
    user = UserFactory()
    orgs = orgs_of(user, STATES)
    statuses = org_statuses((org, "owner") for org in orgs)
    client.force_login(user)
    for org in orgs:
        status = statuses[org.pk]
        assert status.refresh_offered == OFFERED[str(status.state)], org.login
        html = client.get(f"/orgs/{org.login}/").content.decode()
        assert (">Refresh now</button>" in html) == status.refresh_offered, org.login
        failing = str(status.state) == "github_failing"
        assert ("data-refresh-waits" in html) == failing, org.login
