"""The JSON APIs' one start (`usage.web.json_api`): every session-authenticated API
(usage, sources, Copilot, alerts) answers the same 401 and 404, and the same 400 for a
body that is not a JSON object."""

import json

import pytest

from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

READS = (
    "/api/orgs/acme/usage",
    "/api/orgs/acme/sources",
    "/api/orgs/acme/copilot",
    "/api/orgs/acme/alerts",
)


def test_every_json_api_answers_anonymous_and_outsiders_alike(client):
    org = OrganizationFactory(login="acme")
    MembershipFactory(user=UserFactory(), organization=org)
    for url in READS:
        answer = client.get(url)
        assert (answer.status_code, answer.json()) == (401, {"error": "authentication required"})
    client.force_login(UserFactory())
    for url in READS:
        answer = client.get(url)
        assert (answer.status_code, answer.json()) == (404, {"error": "no such organization"})


def test_writes_refuse_a_body_that_is_not_a_json_object(client):
    owner = UserFactory()
    MembershipFactory(user=owner, organization=OrganizationFactory(login="acme"))
    client.force_login(owner)
    for url in ("/api/orgs/acme/sources/token", "/api/orgs/acme/alerts/channels"):
        for body, message in (
            ("{", "the body must be JSON"),
            ("[]", "the body must be a JSON object"),
        ):
            answer = client.post(url, data=body, content_type="application/json")
            assert (answer.status_code, answer.json()) == (400, {"error": message}), (url, body)
    token = json.dumps({"token": 1})
    url = "/api/orgs/acme/sources/token"
    answer = client.post(url, data=token, content_type="application/json")
    assert answer.json() == {"error": 'the body must be {"token": "<a personal access token>"}'}
