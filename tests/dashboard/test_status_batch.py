"""`org_statuses`, the batch reader of the lists (`/orgs/`, `/api/orgs/`): for every org
exactly what `org_status` says of it alone, in a number of queries that does not grow
with the number of orgs."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from tests.factories import UserFactory
from usage.reporting.status import org_status, org_statuses

from .org_states import STATES, no_usage, orgs_of, up_to_date

pytestmark = [pytest.mark.django_db]


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
