"""URLs that name an organization outside the path (query string, form field), walked
with every persona against the simulator: only people the access helper lets see the
org get anything org-specific; everyone else gets, byte for byte (CSRF tokens and the
install `state` aside), the page of an organization billingdash does not know, and never
an owner GitHub conceals from them (issue 14, finding 1). The path-based walk is
``tests/accounts/test_isolation.py``; its ``OUTSIDE_PATH`` lists these URLs.
"""

from __future__ import annotations

import pytest

from accounts.models import Organization
from tests.accounts.test_isolation import OUTSIDE_PATH, outside, page_bytes

from .conftest import ORG

pytestmark = pytest.mark.django_db


def test_every_persona_outside_the_path(world, github_settings):
    # olivia owns sec-corp with her membership concealed (the world's default): GitHub
    # shows her only to members and to our installation's token (Members: read).
    installation_id = world.org.installations.get().installation_id
    for who, client in world.clients.items():
        for method, url, data in OUTSIDE_PATH:
            response = outside(
                client, method, url, data, login=ORG, installation_id=installation_id
            )
            where = (who, method, url)
            assert response.status_code < 500, where
            if who == "anonymous":
                assert response.status_code == 302 and "/login/" in response["Location"], where
                continue
            if who in ("olivia", "bill", "mia"):
                # Members of the org may see it: the install link leads to its own wizard
                # step (by the access helper); the Setup URL refuses a missing state.
                if url.startswith("/install/?"):
                    assert response["Location"] == f"/orgs/{ORG}/install/", where
                continue
            # charlie and staff: no trace of sec-corp's record or its concealed owner.
            body = response.content.decode()
            assert ">olivia</a>" not in body, where
            assert str(world.org.github_id) not in body, where
            org_pk = world.org.pk
            Organization.objects.filter(pk=org_pk).update(login="gone-from-billingdash")
            try:
                unknown = outside(
                    client, method, url, data, login=ORG, installation_id=installation_id
                )
            finally:
                Organization.objects.filter(pk=org_pk).update(login=ORG)
            assert unknown.status_code == response.status_code, where
            assert page_bytes(unknown) == page_bytes(response), where
