"""The wizard's pages for each persona, signed in through the simulator (OAuth sign-in,
what the demo uses; the GitHub App sign-in for the "no organization yet" step)."""

from __future__ import annotations

import re
from html import unescape

from django.core import signing

from accounts.installations.install_state import SALT, SESSION_KEY
from accounts.models import InstallRequest, Organization
from accounts.webhooks.handlers import webhook_delivery_process

from .conftest import GLOBEX, csrf_post, install_link, post_sim_webhook, query


def text(response) -> str:
    return unescape(re.sub(r"\s+", " ", response.content.decode()))


def test_owner_gets_the_reason_and_a_button_to_install_on_that_org(browsers, wgh):
    olivia = browsers("olivia")
    page = olivia.client.get("/orgs/globex/install/")
    assert page.status_code == 200
    body = text(page)
    assert "Administration" in body and "read-only" in body
    url = install_link(page.content.decode(), wgh.web_url)
    slug = wgh.config.app_slug
    assert url.startswith(f"{wgh.web_url}/apps/{slug}/installations/new/permissions?")
    params = query(url)
    assert params["target_id"] == str(GLOBEX)
    # The state is ours, signed, for olivia and globex, and remembered in her session.
    payload = signing.TimestampSigner(salt=SALT).unsign_object(params["state"])
    olivia_pk = int(olivia.client.session["_auth_user_id"])
    assert payload["u"] == olivia_pk and payload["o"] == GLOBEX
    assert payload["n"] in olivia.client.session[SESSION_KEY]
    # No inline script or style (CSP script-src 'self'); the script is an external file.
    html = page.content.decode()
    assert "<script>" not in html and "style=" not in html
    assert '<script src="/static/js/wizard.js" defer></script>' in html
    assert not InstallRequest.objects.exists()


def test_owner_of_an_org_with_the_app_goes_to_progress(browsers):
    olivia = browsers("olivia")
    html = olivia.client.get("/orgs/acme-corp/install/").content.decode()
    assert 'data-progress-url="/orgs/acme-corp/progress.json"' in html
    assert 'data-dashboard-url="/orgs/acme-corp/"' in html
    assert "<progress" in html


def test_billing_manager_gets_the_request_path(browsers, wgh):
    bill = browsers("bill")
    page = bill.client.get("/orgs/globex/install/")
    assert page.status_code == 200
    body, html = text(page), page.content.decode()
    assert "Only an organization owner can install" in body
    assert 'id="install-button"' not in html
    # GitHub's own Request, a secondary path (GitHub may not offer it to billing managers).
    assert re.search(
        r'<a href="[^"]+/installations/new/permissions\?[^"]+" data-github-request>', html
    )
    # Owners GitHub lets a billing manager see: the public ones (olivia is public).
    assert 'data-owners-source="public"' in html
    assert ">olivia</a>" in html
    assert "made their membership of globex public" in body
    # The ready-to-send request: our install page for globex, a message, a copy button.
    assert "http://testserver/install/?org=globex" in html
    assert re.search(r"<textarea[^>]*readonly[^>]*>Hi! Could you install", html)
    assert 'data-copy-target="share-message"' in html
    request = InstallRequest.objects.get()
    assert (request.user.github_login, request.organization.login) == ("bill", "globex")
    assert request.fulfilled_at is None
    assert "your access turns on by itself" in body
    # Opening the page again does not ask twice.
    bill.client.get("/orgs/globex/install/")
    assert InstallRequest.objects.count() == 1


def test_owners_are_those_github_shows_the_billing_manager_never_the_apps_view(browsers, wgh):
    """Our installation (Members: read, no Administration) could list every owner, the
    concealed ones too; a billing manager is shown only the owners GitHub shows *them*:
    the public ones (issue 14, finding 1)."""
    from accounts.installations.services import installations_reconcile

    wgh.control.set_membership("globex", "oscar", "admin", public=False)
    wgh.control.install("globex", permissions={"members": "read"})
    installations_reconcile()
    bill = browsers("bill")
    page = bill.client.get("/orgs/globex/install/")
    html = page.content.decode()
    assert 'data-owners-source="public"' in html
    assert ">olivia</a>" in html and ">oscar</a>" not in html
    assert "without the organization permission “Administration: read”" in text(page)


def test_member_has_nothing_to_install(browsers):
    mia = browsers("mia")
    page = mia.client.get("/orgs/globex/install/")
    assert page.status_code == 200
    body = text(page)
    assert "Nothing to install for you" in body
    assert "only to its owners and billing managers" in body
    assert "/apps/" not in page.content.decode()
    assert mia.client.get("/orgs/globex/progress.json").status_code == 404


def test_stranger_gets_404(browsers):
    charlie = browsers("charlie")
    assert charlie.client.get("/orgs/globex/install/").status_code == 404
    assert charlie.client.get("/orgs/globex/progress.json").status_code == 404


def test_no_org_yet_with_the_app_sign_in(browsers, wgh, settings):
    """GitHub App sign-in lists only orgs where the App is installed: nora (in no org)
    gets GitHub's generic install link with a state, and the ask-an-owner path."""
    settings.GITHUB_SIGNIN_CLIENT = "app"
    nora = browsers("nora", "github-app")
    page = nora.client.get("/orgs/")
    assert page.status_code == 200
    html, body = page.content.decode(), text(page)
    url = install_link(html, wgh.web_url)
    assert url.startswith(f"{wgh.web_url}/apps/{wgh.config.app_slug}/installations/new?state=")
    assert "target_id" not in url
    payload = signing.TimestampSigner(salt=SALT).unsign_object(query(url)["state"])
    assert payload["o"] is None
    assert "Only an organization owner can install" in body
    assert "may not show billing managers its own “Request” button" in body
    # The same step has its own URL.
    assert nora.client.get("/install/").status_code == 200

    # Naming an org records the request (by login: we do not know the org yet) and
    # prepares the message.
    answer = csrf_post(nora.client, "/install/", {"org": "globex"})
    assert answer.status_code == 302 and answer["Location"] == "/install/?org=globex"
    request = InstallRequest.objects.get()
    assert (request.account_login, request.organization) == ("globex", None)
    shared = nora.client.get(answer["Location"])
    shared_html = shared.content.decode()
    assert "http://testserver/install/?org=globex" in shared_html
    assert "Hi! Could you install the billingdash GitHub App on globex?" in text(shared)
    assert ">olivia</a>" in shared_html  # public owners
    assert csrf_post(nora.client, "/install/", {"org": "../evil"})["Location"] == "/install/"


def test_the_shared_link_takes_an_owner_to_the_org_wizard(browsers):
    olivia = browsers("olivia")
    answer = olivia.client.get("/install/?org=GLOBEX")
    assert answer.status_code == 302 and answer["Location"] == "/orgs/globex/install/"


def test_the_shared_link_says_nothing_of_an_org_the_user_does_not_see(browsers, wgh, settings):
    """With the GitHub App sign-in an owner of an org without the App does not see it in
    billingdash yet: the shared link leads to GitHub's generic install page (which lists
    the accounts she can install on), exactly as for an org billingdash does not know:
    whether billingdash knows the org is not for people who do not see it."""
    settings.GITHUB_SIGNIN_CLIENT = "app"
    Organization.objects.create(github_id=GLOBEX, login="globex")  # known from bill
    olivia = browsers("olivia", "github-app")
    page = olivia.client.get("/install/?org=globex")
    assert page.status_code == 200
    url = install_link(page.content.decode(), wgh.web_url)
    assert "target_id" not in url and str(GLOBEX) not in page.content.decode()


def test_app_sign_in_billing_manager_sees_the_org_once_an_owner_installs(
    browsers, wgh, wizard_app, settings, django_capture_on_commit_callbacks
):
    """With the GitHub App sign-in a billing manager of an org without the App sees no
    org at all. She names it; when an owner installs, the webhook fulfils her request by
    login and her next visit reads her roles again: the org is there."""
    wgh.control.create_user("bea", "Bea Billing")
    wgh.control.set_membership("globex", "bea", "billing_manager")
    settings.GITHUB_SIGNIN_CLIENT = "app"
    bea = browsers("bea", "github-app")
    assert bea.client.get("/api/orgs/").json() == []
    csrf_post(bea.client, "/install/", {"org": "globex"})
    assert bea.client.get("/install/").status_code == 200  # nothing yet: stays on the step

    wgh.control.install("globex", sender="olivia")
    wgh.control.wait_for_deliveries()
    created = next(d for d in wgh.control.deliveries() if d["action"] == "created")
    with django_capture_on_commit_callbacks(execute=True):
        delivery = post_sim_webhook(bea.client, wizard_app, created)
        webhook_delivery_process(delivery_pk=delivery.pk)
    assert InstallRequest.objects.get(user__github_login="bea").fulfilled_at is not None

    answer = bea.client.get("/install/")
    assert answer.status_code == 302 and answer["Location"] == "/orgs/"
    rows = {row["login"]: row for row in bea.client.get("/api/orgs/").json()}
    assert rows["globex"]["role"] == "billing_manager" and rows["globex"]["access"] == "app"
