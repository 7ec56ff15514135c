"""The App's Setup URL (``/github/setup/``): GitHub's install page, driven with `requests`
as a browser would, sends the browser back; the test client follows that redirect.
Installs that go through: an owner's, with GitHub's webhook before or after the
callback (even mid-callback), an update, and a billing manager's request an owner
approves.

Nothing in the query string is trusted: what the callback checks (the state, then the
installation) is in test_setup_checks.py.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlencode

from accounts.models import AuditEvent, Installation, InstallRequest
from accounts.webhooks.handlers import webhook_delivery_process
from usage.models import CollectionRun, OrgCollectionState

from .conftest import BACKFILL_MONTHS, open_setup, post_sim_webhook, press_install, query
from .setup_flow import app_calls, install_globex, start_state, text, wizard_state


def recorded_delivery(sim, event: str, action: str) -> dict:
    sim.control.wait_for_deliveries()
    return next(d for d in sim.control.deliveries() if (d["event"], d["action"]) == (event, action))


# --- success, and the webhook that arrives too ----------------------------------------------


def test_owner_installs_and_the_backfill_is_queued_once(
    browsers, wgh, wizard_app, ready_signals, django_capture_on_commit_callbacks
):
    olivia = browsers("olivia")
    state = wizard_state(olivia)
    setup_url, installation_id = install_globex(olivia)
    params = query(setup_url)
    assert params["setup_action"] == "install"
    assert params["state"] != state  # each page view signs a new one

    with django_capture_on_commit_callbacks(execute=True):
        answer = open_setup(olivia.client, setup_url)
    assert answer.status_code == 302 and answer["Location"] == "/orgs/globex/install/"
    inst = Installation.objects.get(installation_id=installation_id)
    assert (inst.state, inst.organization.login) == (Installation.State.ACTIVE, "globex")
    assert inst.installed_by.github_login == "olivia"
    assert f"/app/installations/{installation_id}" in app_calls(wgh)  # checked with the JWT
    assert ready_signals == [(installation_id, "created")]
    runs = CollectionRun.objects.filter(organization=inst.organization)
    assert runs.count() == BACKFILL_MONTHS
    assert set(runs.values_list("trigger", flat=True)) == {CollectionRun.Trigger.BACKFILL}
    started = OrgCollectionState.objects.get(organization=inst.organization).backfill_started_at
    added = AuditEvent.objects.get(action="installation.added")
    assert added.actor.github_login == "olivia"
    assert added.details == {
        "installation_id": installation_id,
        "source": "setup",
        "setup_action": "install",
    }

    # The wizard now shows the progress step, with a confirmation.
    page = olivia.client.get(answer["Location"])
    assert "data-progress-url" in page.content.decode()
    assert "billingdash is installed on globex" in text(page)

    # GitHub's installation.created webhook arrives too: no second backfill, no second audit.
    with django_capture_on_commit_callbacks(execute=True):
        delivery = post_sim_webhook(
            olivia.client, wizard_app, recorded_delivery(wgh, "installation", "created")
        )
        assert webhook_delivery_process(delivery_pk=delivery.pk) == "processed"
    assert ready_signals == [(installation_id, "created")]
    assert AuditEvent.objects.filter(action="installation.added").count() == 1
    assert runs.count() == BACKFILL_MONTHS
    assert (
        OrgCollectionState.objects.get(organization=inst.organization).backfill_started_at
        == started
    )


def test_webhook_first_then_the_callback(
    browsers, wgh, wizard_app, ready_signals, django_capture_on_commit_callbacks
):
    olivia = browsers("olivia")
    setup_url, installation_id = install_globex(olivia)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = post_sim_webhook(
            olivia.client, wizard_app, recorded_delivery(wgh, "installation", "created")
        )
        webhook_delivery_process(delivery_pk=delivery.pk)
    with django_capture_on_commit_callbacks(execute=True):
        answer = open_setup(olivia.client, setup_url)
    assert answer["Location"] == "/orgs/globex/install/"
    assert ready_signals == [(installation_id, "created")]
    added = AuditEvent.objects.get(action="installation.added")
    assert added.details["source"] == "webhook"
    inst = Installation.objects.get(installation_id=installation_id)
    assert inst.installed_by.github_login == "olivia"
    assert CollectionRun.objects.filter(organization=inst.organization).count() == BACKFILL_MONTHS


def test_update_of_an_installed_org(browsers, wgh):
    olivia = browsers("olivia")  # sign-in found acme-corp's installation
    # acme-corp is readable already (its wizard shows progress): GitHub's "Configure".
    permissions = f"{wgh.web_url}/apps/{wgh.config.app_slug}/installations/new/permissions?"
    setup_url = press_install(
        olivia, permissions + urlencode({"target_id": 7770001, "state": start_state(olivia)})
    )
    assert query(setup_url)["setup_action"] == "update"
    answer = open_setup(olivia.client, setup_url)
    assert answer["Location"] == "/orgs/acme-corp/install/"
    assert AuditEvent.objects.filter(action="installation.added").count() == 1


# --- setup_action=request ---------------------------------------------------------------------


def test_request_through_github_then_the_owner_approves(
    browsers, wgh, wizard_app, django_capture_on_commit_callbacks
):
    bill = browsers("bill")
    page = bill.client.get("/orgs/globex/install/").content.decode()
    InstallRequest.objects.all().delete()  # the request step records one; see the callback's
    request_url = unescape(re.search(r'<a href="([^"]+)" data-github-request>', page).group(1))
    setup_url = press_install(bill, request_url, button="request")
    params = query(setup_url)
    assert params["setup_action"] == "request" and "installation_id" not in params
    answer = open_setup(bill.client, setup_url)
    assert answer.status_code == 200
    body = text(answer)
    assert "Request sent to the owners" in body and "What happens next" in body
    request = InstallRequest.objects.get()
    assert (request.user.github_login, request.organization.login) == ("bill", "globex")
    assert bill.client.get("/orgs/globex/").status_code == 200
    assert bill.client.get("/api/orgs/").json()[1]["access"] == "needs_install"

    # olivia approves on GitHub; GitHub does not send our state back then: the webhook
    # links the new installation to bill's request.
    olivia = browsers("olivia")
    approve = olivia.github.get(f"{wgh.web_url}/organizations/globex/settings/installations")
    action = re.search(r"action='([^']+/approve)'", approve.text).group(1)
    olivia.github.post(wgh.web_url + action, data={"approve": "1"}, timeout=10)
    created = recorded_delivery(wgh, "installation", "created")
    assert created["payload"]["requester"]["login"] == "bill"
    with django_capture_on_commit_callbacks(execute=True):
        delivery = post_sim_webhook(bill.client, wizard_app, created)
        assert webhook_delivery_process(delivery_pk=delivery.pk) == "processed"
    request.refresh_from_db()
    assert request.fulfilled_at is not None
    assert request.installation.installation_id == created["payload"]["installation"]["id"]
    rows = {row["login"]: row for row in bill.client.get("/api/orgs/").json()}
    assert rows["globex"]["access"] == "app"
    assert "data-progress-url" in bill.client.get("/orgs/globex/install/").content.decode()


# --- the webhook racing the callback ----------------------------------------------------------


def test_the_webhook_creating_the_row_mid_callback(
    browsers, wgh, wizard_app, ready_signals, transactional_db, caplog
):
    """GitHub sends installation.created as it redirects the browser: the worker may
    insert the installation between the callback's locked read (no row yet, nothing to
    lock) and its insert. Reproduced for real: when the callback is about to insert, the
    webhook is processed in another thread (its own connection) and commits first."""
    import threading

    from django.db import connection
    from django.db.models.signals import pre_save

    olivia = browsers("olivia")
    setup_url, installation_id = install_globex(olivia)
    delivery = post_sim_webhook(
        olivia.client, wizard_app, recorded_delivery(wgh, "installation", "created")
    )
    main = threading.current_thread()
    raced: list[str | None] = []

    def webhook_first() -> None:
        try:
            raced.append(webhook_delivery_process(delivery_pk=delivery.pk))
        finally:
            connection.close()

    def before_insert(sender, instance, **kwargs) -> None:
        if threading.current_thread() is main and instance._state.adding and not raced:
            worker = threading.Thread(target=webhook_first)
            worker.start()
            worker.join(30)

    pre_save.connect(before_insert, sender=Installation, dispatch_uid="tests.wizard.race")
    try:
        answer = open_setup(olivia.client, setup_url)
    finally:
        pre_save.disconnect(sender=Installation, dispatch_uid="tests.wizard.race")
    assert raced == ["processed"]
    assert "was created concurrently" in caplog.text  # the insert did collide
    assert answer.status_code == 302 and answer["Location"] == "/orgs/globex/install/"
    inst = Installation.objects.get(installation_id=installation_id)
    assert inst.installed_by.github_login == "olivia" and inst.state == "active"
    assert [r for r in ready_signals if r[0] == installation_id] == [(installation_id, "created")]
    assert AuditEvent.objects.filter(action="installation.added").count() == 1
