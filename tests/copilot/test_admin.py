"""Staff see each organization's per-user call budget, what was spent today, and set it."""

from __future__ import annotations

import pytest
from django.test import Client

from copilot.collection.budget import budget_claim, budget_left
from copilot.models import CopilotOrgState
from tests.factories import OrganizationFactory, StaffUserFactory
from usage import periods

pytestmark = [pytest.mark.django_db]


def test_staff_see_and_set_the_budget(settings):
    settings.COPILOT_USER_CALLS_PER_DAY = 3
    org = OrganizationFactory(login="budget-co")
    assert budget_left(organization=org) == 3
    assert [budget_claim(organization=org) for _ in range(4)] == [True, True, True, False]
    client = Client()
    client.force_login(StaffUserFactory(username="ops"))
    listing = client.get("/admin/copilot/copilotorgstate/")
    assert listing.status_code == 200
    assert b"budget-co" in listing.content
    state = CopilotOrgState.objects.get(pk=org.pk)
    assert (state.calls_day, state.calls_used) == (periods.today(), 3)
    change = f"/admin/copilot/copilotorgstate/{org.pk}/change/"
    assert client.get(change).status_code == 200
    answer = client.post(change, {"user_calls_per_day": "5"})
    assert answer.status_code == 302
    assert budget_left(organization=org) == 2
    assert budget_claim(organization=org)
