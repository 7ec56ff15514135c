"""Polish a careful user notices (issue 13 item 13): a favicon on every page, also at
/favicon.ico; "Install on another organization" only for people who can install (owners
of some organization), a way to ask an owner for billing managers, nothing for members;
the App's one name on the pages."""

from __future__ import annotations

import re

import pytest

from accounts.models import Membership
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = [pytest.mark.django_db]


def test_a_favicon_on_every_page_and_at_the_sites_root(client, acme, people):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    assert b"".join(icon.streaming_content if icon.streaming else [icon.content])[:4] == (
        b"\x00\x00\x01\x00"
    )
    for path in ("/login/", "/admin/login/"):
        html = client.get(path).content.decode()
        assert '<link rel="icon" href="/favicon.ico"' in html, path
        assert 'favicon.svg" type="image/svg+xml">' in html, path
    client.force_login(people["olivia"])
    assert '<link rel="icon" href="/favicon.ico"' in client.get("/orgs/").content.decode()


@pytest.mark.parametrize(
    ("login", "offer"),
    [("olivia", "install"), ("bill", "ask"), ("mia", None)],
)
def test_install_on_another_organization_only_for_who_can_install(
    client, acme, people, login, offer
):
    client.force_login(people[login])
    html = client.get("/orgs/").content.decode()
    assert ('data-install="install"' in html) == (offer == "install")
    assert ("Install on another organization" in html) == (offer == "install")
    assert ('data-install="ask"' in html) == (offer == "ask")
    if offer is None:
        assert 'href="/install/"' not in html


def test_the_app_has_one_name_on_the_pages(client, acme, people, settings):
    settings.GITHUB_APP_NAME = "Acme Billing"
    zeta = OrganizationFactory(login="zeta")
    MembershipFactory(user=people["olivia"], organization=zeta, role=Membership.Role.OWNER)
    client.force_login(people["olivia"])
    html = client.get("/orgs/zeta/install/").content.decode()
    assert "Acme Billing App" in html and "billingdash App" not in html


def test_the_links_beside_the_org_name_are_spaced_alike(client, acme, people):
    client.force_login(people["olivia"])
    for url in ("/orgs/acme-corp/", "/orgs/acme-corp/copilot/"):
        header = client.get(url).content.decode().split('<p class="muted small">', 1)[1]
        header = header.split("</p>", 1)[0]
        assert len(re.findall(r"</a>\s+·\s+<a", header)) >= 2, url
        assert not re.search(r"</a>·", header), url  # "Alerts· Copilot"
