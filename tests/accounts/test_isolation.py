"""Tenant isolation: every URL pattern that takes an organization `login`, walked with an
owner, a billing manager, a member, a stranger (charlie) and an anonymous visitor.

New org-scoped views are picked up automatically: they must start with
`accounts.roles.access.get_org_for_billing` (or `get_org_for_member` for pages without
billing, listed in MEMBER_VISIBLE) after `login_required`.
"""

import re
from uuid import UUID

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from accounts.models import Membership, Organization
from tests.factories import (
    ChannelFactory,
    InstallationFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

# URL names that any member of the org may open (they show no billing).
MEMBER_VISIBLE = {"org_install"}

_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_SAMPLES = {"int": "1", "str": "x", "slug": "x", "path": "x", "uuid": str(UUID(int=1))}


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), namespace + (entry.name or ""), entry


def org_routes():
    """(route, name) of every pattern whose route takes a `login`."""
    found = []
    for route, name, entry in _walk(get_resolver().url_patterns):
        if not isinstance(entry.pattern, RoutePattern):
            assert "login" not in entry.pattern.regex.groupindex, (
                f"{route}: use path() with <str:login> so the isolation walk can check it"
            )
            continue
        if any(m["name"] == "login" for m in _PARAM.finditer(route)):
            found.append((route, name))
    return found


def build_url(route: str, login: str) -> str:
    def value(match):
        if match["name"] == "login":
            return login
        return _SAMPLES.get(match["converter"] or "str", "x")

    return "/" + _PARAM.sub(value, route)


def fetch(client, url):
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url)
    return response


def alert_objects_of(org: Organization) -> None:
    """A rule, a fired alert and a digest subscription with id 1, on channel 1."""
    from alerts.models import FiredAlert, Rule, Subscription

    rule = Rule.objects.create(pk=1, organization=org, kind="data_stopped", params={"hours": 24})
    FiredAlert.objects.create(
        pk=1, organization=org, rule=rule, kind=rule.kind, period="2026-01-01", key="k"
    )
    Subscription.objects.create(
        pk=1, organization=org, channel_id=1, user=UserFactory(), weekly=True
    )


def report_import_of(org: Organization) -> None:
    """An imported usage report with id 1 (issue 15), in the org's data."""
    from usage.models import ReportImport

    ReportImport.objects.create(
        pk=1,
        organization=org,
        kind="detailed",
        file_name="r.csv",
        size=1,
        sha256="0" * 64,
        verified=True,
        status="done",
    )


@pytest.fixture
def world(db):
    acme = OrganizationFactory(login="acme-corp", github_id=7770001, name="Acme Corp")
    InstallationFactory(organization=acme)
    # The objects that org URLs name by id (`<int:...>` is walked with 1): acme's own.
    ChannelFactory(pk=1, organization=acme)
    alert_objects_of(acme)
    report_import_of(acme)
    people = {}
    for login, role in (
        ("olivia", Membership.Role.OWNER),
        ("bill", Membership.Role.BILLING_MANAGER),
        ("mia", Membership.Role.MEMBER),
    ):
        user = UserFactory(github_login=login)
        MembershipFactory(user=user, organization=acme, role=role)
        people[login] = user
    people["charlie"] = UserFactory(github_login="charlie")
    # charlie owns another org: being an owner somewhere does not open acme-corp.
    MembershipFactory(user=people["charlie"], organization=OrganizationFactory(login="other"))
    return acme, people


def test_the_walk_finds_the_org_pages():
    names = {name for _, name in org_routes()}
    assert {"org_dashboard", "org_install"} <= names


@pytest.mark.parametrize("who", ["olivia", "bill"])
def test_owner_and_billing_manager_may_open_every_org_page(client, world, who):
    _, people = world
    client.force_login(people[who])
    for route, name in org_routes():
        for login in ("acme-corp", "ACME-Corp"):  # logins are case-insensitive
            response = fetch(client, build_url(route, login))
            assert response.status_code not in (401, 403, 404), (name, login)
            assert response.status_code < 500, (name, login)
            assert "/login/" not in response.get("Location", ""), name


def test_a_member_gets_404_except_on_pages_for_members(client, world):
    _, people = world
    client.force_login(people["mia"])
    for route, name in org_routes():
        response = fetch(client, build_url(route, "acme-corp"))
        if name in MEMBER_VISIBLE:
            assert response.status_code == 200, name
        else:
            assert response.status_code == 404, name


def test_a_stranger_gets_404_everywhere(client, world):
    _, people = world
    client.force_login(people["charlie"])
    for route, name in org_routes():
        for login in ("acme-corp", "no-such-org"):
            response = fetch(client, build_url(route, login))
            assert response.status_code == 404, (name, login)


def test_404_looks_the_same_for_a_real_org_and_a_missing_one(client, world):
    _, people = world
    client.force_login(people["charlie"])
    real = client.get("/orgs/acme-corp/")
    missing = client.get("/orgs/no-such-org/")
    assert real.status_code == missing.status_code == 404
    assert b"acme" not in real.content.lower()

    def page(response):  # without the per-render CSRF token
        return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", response.content)

    assert page(real) == page(missing)


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    for route, name in org_routes():
        url = build_url(route, "acme-corp")
        response = fetch(client, url)
        if url.startswith("/api/"):
            assert response.status_code in (302, 401), name
        else:
            assert response.status_code == 302, name
        if response.status_code == 302:
            assert response["Location"].startswith("/login/?next="), name


def test_a_stale_membership_is_not_enough(client, world):
    """A role verified longer than MEMBERSHIP_TTL_SECONDS ago must be re-checked; a user
    GitHub cannot be asked about (no GitHub account here) gets nothing."""
    acme, _ = world
    staff = UserFactory(github_login="", github_id=None, username="staffer")
    MembershipFactory(user=staff, organization=acme, stale=True)
    client.force_login(staff)
    assert client.get("/orgs/acme-corp/").status_code == 404


# --- URLs that name an organization outside the path ------------------------------------
# (method, URL, form data) with "{login}" where the org goes: the query string of the
# install step (the link a billing manager shares), its form, and GitHub's Setup URL
# (which names an installation, so an org, by id). Add every new one here.
OUTSIDE_PATH = [
    ("get", "/install/?org={login}", None),
    ("post", "/install/", {"org": "{login}"}),
    ("get", "/github/setup/?installation_id={installation_id}&setup_action=install", None),
]
CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')
STATE = re.compile(rb"state=[A-Za-z0-9_\-:.%]+")


def outside(client, method, url, data, *, login, installation_id):
    url = url.format(login=login, installation_id=installation_id)
    if method == "post":
        data = {k: v.format(login=login) for k, v in data.items()}
        response = client.post(url, data)
        if response.status_code == 302 and response["Location"].startswith("/install/"):
            response = client.get(response["Location"])  # where the form leads
        return response
    return client.get(url)


def page_bytes(response) -> bytes:
    """The page without what differs on every render (CSRF tokens, install `state`)."""
    return STATE.sub(b"state=", CSRF.sub(b"", response.content))


def test_the_walk_knows_every_url_that_names_an_org_outside_the_path():
    names = {name for _, name, _ in _walk(get_resolver().url_patterns)}
    assert {"install_start", "github_setup"} <= names


@pytest.mark.parametrize("who", ["charlie", "nobody"])
def test_outside_the_path_a_stranger_gets_the_page_of_an_unknown_org(client, world, who):
    """Whether billingdash knows acme-corp (and who its owners are) never shows: a
    stranger's page for acme-corp is byte for byte the one for an org billingdash does
    not know, before and after acme-corp's rows are gone."""
    acme, people = world
    user = people["charlie"] if who == "charlie" else UserFactory(github_login="nobody")
    client.force_login(user)
    iid = acme.installations.get().installation_id
    for method, url, data in OUTSIDE_PATH:
        seen = outside(client, method, url, data, login="acme-corp", installation_id=iid)
        assert seen.status_code < 500, url
        assert b"7770001" not in seen.content, url  # acme's GitHub id (a deep link)
        acme_id = Organization.objects.get(login="acme-corp").pk
        Organization.objects.filter(pk=acme_id).update(login="renamed-away")
        unknown = outside(client, method, url, data, login="acme-corp", installation_id=iid)
        Organization.objects.filter(pk=acme_id).update(login="acme-corp")
        assert seen.status_code == unknown.status_code, url
        assert page_bytes(seen) == page_bytes(unknown), url


def test_outside_the_path_members_go_to_the_orgs_own_wizard(client, world):
    _, people = world
    for who in ("olivia", "bill", "mia"):
        client.force_login(people[who])
        answer = client.get("/install/?org=ACME-corp")
        assert answer.status_code == 302 and answer["Location"] == "/orgs/acme-corp/install/", who


def test_outside_the_path_anonymous_visitors_are_sent_to_sign_in(client, world):
    acme, _ = world
    iid = acme.installations.get().installation_id
    for method, url, data in OUTSIDE_PATH:
        response = getattr(client, method)(
            url.format(login="acme-corp", installation_id=iid),
            {k: v.format(login="acme-corp") for k, v in (data or {}).items()},
        )
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/?next="), url
