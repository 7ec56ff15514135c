"""What the App's Setup URL (``/github/setup/``) checks before it trusts a callback:
nothing in the query string is. The state (signed, expiring, single-use, bound to the
user and the session) and then the installation (App JWT, the user's ownership, the
Administration permission) are checked; installs that go through are in test_setup.py.
"""

from __future__ import annotations

import time
from urllib.parse import quote

from django.core import signing

from accounts.installations.install_state import SALT
from accounts.models import AuditEvent, Installation, Membership
from usage.models import CollectionRun

from .conftest import ACME_INSTALLATION, GLOBEX, open_setup, query
from .setup_flow import app_calls, install_globex, start_state, text, wizard_state


def setup(client, **params):
    return client.get("/github/setup/", params)


# --- the state --------------------------------------------------------------------------------


def test_forged_states_are_refused_before_asking_github(browsers, wgh):
    olivia = browsers("olivia")
    good = wizard_state(olivia)
    wgh.control.clear_requests()
    other_key = signing.TimestampSigner(key="not-our-secret-key" * 3, salt=SALT)
    forged = [
        None,
        "",
        "x",
        good[:-2] + ("AA" if not good.endswith("AA") else "BB"),  # altered signature
        other_key.sign_object({"n": "abc", "u": 1, "o": GLOBEX}),  # signed by someone else
        signing.TimestampSigner(salt="other").sign_object({"n": "a", "u": 1, "o": None}),
    ]
    for state in forged:
        params = {"installation_id": ACME_INSTALLATION, "setup_action": "install"}
        if state is not None:
            params["state"] = state
        answer = setup(olivia.client, **params)
        assert answer.status_code == 400, state
        assert "We could not confirm this install link" in text(answer)
    assert app_calls(wgh) == []  # the query string alone never reaches GitHub
    assert not AuditEvent.objects.filter(action="installation.added").exists()


def test_a_replayed_state_is_refused(browsers, wgh):
    olivia = browsers("olivia")
    setup_url, _ = install_globex(olivia)
    assert open_setup(olivia.client, setup_url).status_code == 302
    again = open_setup(olivia.client, setup_url)
    assert again.status_code == 400
    assert "already used" in text(again)
    assert AuditEvent.objects.filter(action="installation.added").count() == 1


def test_another_users_state_is_refused(browsers, wgh):
    olivia, bill = browsers("olivia"), browsers("bill")
    bills_state = start_state(bill)
    setup_url, installation_id = install_globex(olivia)
    params = {**query(setup_url), "state": bills_state}
    answer = setup(olivia.client, **params)
    assert answer.status_code == 400
    assert "started by someone else" in text(answer)
    # And olivia's own state in bill's browser: refused too (before the ownership check).
    answer = open_setup(bill.client, setup_url)
    assert answer.status_code == 400 and "started by someone else" in text(answer)
    assert not Installation.objects.filter(installation_id=installation_id).exists()


def test_a_state_from_another_session_of_the_same_user_is_refused(browsers, wgh):
    first, second = browsers("olivia"), browsers("olivia")
    setup_url, _ = install_globex(first)
    answer = open_setup(second.client, setup_url)
    assert answer.status_code == 400 and "another browser or session" in text(answer)


def test_an_expired_state_is_refused(browsers, wgh, settings):
    olivia = browsers("olivia")
    setup_url, _ = install_globex(olivia)
    payload = signing.TimestampSigner(salt=SALT).unsign_object(query(setup_url)["state"])

    class Then(signing.TimestampSigner):
        def timestamp(self) -> str:  # signed two hours ago
            return signing.b62_encode(int(time.time()) - 2 * 3600)

    old = Then(salt=SALT).sign_object(payload)
    answer = setup(olivia.client, **{**query(setup_url), "state": old})
    assert answer.status_code == 400 and "has expired" in text(answer)


def test_an_anonymous_visitor_signs_in_and_comes_back(browsers, wgh):
    olivia = browsers("olivia")
    setup_url, _ = install_globex(olivia)
    olivia.client.logout()  # the session ended (expired) while she was on GitHub
    path = "/github/setup/?" + setup_url.split("?", 1)[1]
    answer = olivia.client.get(path)
    assert answer.status_code == 302
    assert answer["Location"] == "/login/?next=" + quote(path, safe="/")
    back = olivia.sign_in("olivia", next_url=path)
    assert back["Location"] == path
    # The state belonged to the old session: refused, with what to do next.
    page = olivia.client.get(path)
    assert page.status_code == 400
    assert "GitHub also tells billingdash about it directly" in text(page)


# --- the installation -------------------------------------------------------------------------


def test_installation_on_an_org_the_user_does_not_own(browsers, wgh):
    bill = browsers("bill")  # billing manager of acme-corp, not an owner
    answer = setup(
        bill.client,
        installation_id=ACME_INSTALLATION,
        setup_action="install",
        state=start_state(bill),
    )
    assert answer.status_code == 403
    body = text(answer)
    assert "Not an organization you own" in body and "acme" not in body.lower()
    inst = Installation.objects.get(installation_id=ACME_INSTALLATION)  # found at sign-in
    assert inst.installed_by is None
    assert not AuditEvent.objects.filter(action="installation.added").exists()

    # olivia does not belong to initech at all: GitHub answers 404 for her membership.
    initech = wgh.control.install("initech")["id"]
    olivia = browsers("olivia")
    answer = setup(
        olivia.client, installation_id=initech, setup_action="install", state=start_state(olivia)
    )
    assert answer.status_code == 403
    assert not Installation.objects.filter(installation_id=initech).exists()


def test_a_stale_owner_role_is_read_again_from_github(browsers, wgh):
    """Our records say owner, but not recently; GitHub now says member: refused."""
    olivia = browsers("olivia")
    setup_url, installation_id = install_globex(olivia)
    wgh.control.set_membership("globex", "olivia", "member")
    Membership.objects.filter(user__github_login="olivia").update(
        verified_at=Membership.objects.get(
            user__github_login="olivia", organization__login="globex"
        ).verified_at.replace(year=2000)
    )
    answer = open_setup(olivia.client, setup_url)
    assert answer.status_code == 403
    assert not Installation.objects.filter(installation_id=installation_id).exists()


def test_unknown_installation_and_bad_parameters(browsers, wgh):
    olivia = browsers("olivia")
    answer = setup(
        olivia.client, installation_id=999, setup_action="install", state=start_state(olivia)
    )
    assert answer.status_code == 404 and "GitHub does not know this installation" in text(answer)
    answer = setup(
        olivia.client, installation_id="abc", setup_action="install", state=start_state(olivia)
    )
    assert answer.status_code == 400
    answer = setup(
        olivia.client, installation_id=1, setup_action="delete", state=start_state(olivia)
    )
    assert answer.status_code == 400


def test_missing_permission_says_which_and_where_to_grant_it(
    browsers, wgh, ready_signals, django_capture_on_commit_callbacks
):
    olivia = browsers("olivia")
    state = wizard_state(olivia)
    installation_id = wgh.control.install("globex", permissions={"members": "read"})["id"]
    with django_capture_on_commit_callbacks(execute=True):
        answer = setup(
            olivia.client, installation_id=installation_id, setup_action="install", state=state
        )
    assert answer.status_code == 200
    body, html = text(answer), answer.content.decode()
    assert "a permission is missing" in body
    assert "Administration: read" in body and "organization_administration: read" in body
    settings_url = f"{wgh.web_url}/organizations/globex/settings/installations/{installation_id}"
    assert f'href="{settings_url}"' in html
    inst = Installation.objects.get(installation_id=installation_id)
    assert inst.state == Installation.State.MISSING_PERMISSION
    assert inst.installed_by.github_login == "olivia"
    assert ready_signals == []
    assert not CollectionRun.objects.exists()
    # The wizard (owner) sends her to the same settings page.
    wizard = olivia.client.get("/orgs/globex/install/").content.decode()
    assert f'href="{settings_url}"' in wizard
