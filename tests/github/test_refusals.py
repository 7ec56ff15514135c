"""Errors as GitHub really sends them on the billing endpoints, through the client over
HTTP: 400 and 404 for an org that cannot use them (the description documents 400, the
real API answers 404), 403 naming the permission it wants, and 410 Gone from the old
billing platform's retired endpoints."""

from __future__ import annotations

import pickle

import pytest

from billingdash import github
from billingdash.github import http
from usage import periods

pytestmark = pytest.mark.django_db

RETIRED = ("actions", "packages", "shared-storage")


@pytest.mark.parametrize("endpoint", RETIRED)
def test_retired_billing_endpoints_are_a_typed_gone_with_a_clear_message(gh, endpoint):
    path = f"/orgs/acme-corp/settings/billing/{endpoint}"
    token = gh.control.installation_token("acme-corp")
    with pytest.raises(github.Gone) as caught:
        http.request_json("GET", path, token=token)
    error = caught.value
    assert error.status == 410
    assert error.github_message == "This endpoint has been moved."
    assert error.documentation_url == "https://gh.io/billing-api-updates-org"
    assert error.replacement == "GET /organizations/{org}/settings/billing/usage"
    assert "retired this billing endpoint of the previous billing platform" in str(error)
    assert "/organizations/{org}/settings/billing/usage" in error.message
    copy = pickle.loads(pickle.dumps(error))  # Celery carries errors between processes
    assert type(copy) is github.Gone and copy.replacement == error.replacement


def test_another_410_is_gone_without_a_replacement(gh):
    gh.control.fault("status", r"^/orgs/acme-corp/old-thing$", status=410, message="Gone away")
    with pytest.raises(github.Gone) as caught:
        http.request_json("GET", "/orgs/acme-corp/old-thing", token=None)
    assert caught.value.replacement is None
    assert caught.value.message == 'GitHub retired this endpoint (410 Gone: "Gone away")'


@pytest.mark.parametrize(("dialect", "status"), [("documented", 400), ("observed", 404)])
def test_an_org_that_cannot_use_the_usage_report_gets_a_400_or_a_404(gh, dialect, status):
    """The description documents 400 for an org without the enhanced platform, the real
    API answers 404: the client raises the matching typed error for each."""
    gh.control.create_org("legacy-co", enhanced_billing=False, dialect=dialect)
    gh.control.install("legacy-co")
    token = gh.control.installation_token("legacy-co")
    month = periods.current_month()
    stream = github.iter_billing_usage(token, "legacy-co", year=month.year, month=month.month)
    with pytest.raises(github.BadRequest if status == 400 else github.NotFound) as caught:
        next(stream)
    assert caught.value.status == status


def test_a_403_names_the_permission_github_wants(gh):
    gh.control.create_org("no-admin-co")
    gh.control.install("no-admin-co", permissions={"members": "read"})
    token = gh.control.installation_token("no-admin-co")
    month = periods.current_month()
    with pytest.raises(github.Forbidden) as caught:
        next(github.iter_billing_usage(token, "no-admin-co", year=month.year, month=month.month))
    assert caught.value.accepted_permissions == [{"organization_administration": "read"}]
    assert caught.value.accepted_permissions_header == "organization_administration=read"
