"""``/orgs/<login>/progress.json`` (usage app): the wizard's poll, and who may read it."""

from __future__ import annotations

from django.utils import timezone

from accounts.webhooks.handlers import webhook_delivery_process
from usage.models import CollectionRun

from .conftest import BACKFILL_MONTHS, install_link, open_setup, post_sim_webhook, press_install


def installed_globex(olivia, capture) -> None:
    page = olivia.client.get("/orgs/globex/install/").content.decode()
    setup_url = press_install(olivia, install_link(page, olivia.sim_url))
    with capture(execute=True):
        assert open_setup(olivia.client, setup_url).status_code == 302


def test_progress_json_follows_the_first_collection(
    browsers, wgh, wizard_app, django_capture_on_commit_callbacks
):
    olivia = browsers("olivia")
    installed_globex(olivia, django_capture_on_commit_callbacks)

    data = olivia.client.get("/orgs/globex/progress.json").json()
    assert data["months_total"] == BACKFILL_MONTHS
    assert (data["months_done"], data["items"], data["errors"]) == (0, 0, 0)
    assert data["running"] is True and data["finished"] is False
    assert data["has_data"] is False and data["last_collected_at"] is None
    assert data["dashboard_url"] == "/orgs/globex/"
    assert data["access"] == "app"
    assert data["installation"]["state"] == "active"
    assert data["installation"]["words"] == (
        "Installed on globex: billingdash reads its billing usage."
    )

    # The worker's side, as it records it: every month collected.
    now = timezone.now()
    CollectionRun.objects.filter(organization__login="globex").update(
        state=CollectionRun.State.SUCCEEDED, items=10, started_at=now, finished_at=now
    )
    data = olivia.client.get("/orgs/globex/progress.json").json()
    assert data["months_done"] == BACKFILL_MONTHS and data["items"] == 10 * BACKFILL_MONTHS
    assert data["finished"] is True and data["has_data"] is True
    assert data["last_collected_at"].startswith(str(now.date()))


def test_uninstall_turns_access_off_and_says_why(
    browsers, wgh, wizard_app, django_capture_on_commit_callbacks
):
    olivia, bill = browsers("olivia"), browsers("bill")
    installed_globex(olivia, django_capture_on_commit_callbacks)
    assert bill.client.get("/orgs/globex/progress.json").json()["access"] == "app"

    installation_id = next(
        d["payload"]["installation"]["id"]
        for d in wgh.control.deliveries()
        if d["event"] == "installation" and d["action"] == "created"
    )
    wgh.control.uninstall(installation_id)  # an owner uninstalls on GitHub
    wgh.control.wait_for_deliveries()
    deleted = next(d for d in wgh.control.deliveries() if d["action"] == "deleted")
    delivery = post_sim_webhook(bill.client, wizard_app, deleted)
    assert webhook_delivery_process(delivery_pk=delivery.pk) == "processed"

    data = bill.client.get("/orgs/globex/progress.json").json()
    assert data["access"] == "needs_install"
    assert data["installation"]["state"] == "uninstalled"
    words = data["installation"]["words"]
    assert "uninstalled from globex" in words and "by olivia" in words
    assert "can no longer read its billing" in words
    # The wizard says it too, and the billing manager is back on the request path.
    page = bill.client.get("/orgs/globex/install/").content.decode()
    assert 'data-install-status="uninstalled"' in page and "by olivia" in page
    assert "Ask an owner of globex" in page
    rows = {row["login"]: row for row in bill.client.get("/api/orgs/").json()}
    assert rows["globex"]["access"] == "needs_install"


def test_only_owners_and_billing_managers_may_read_it(browsers, client):
    for persona, status in (("olivia", 200), ("bill", 200), ("mia", 404), ("charlie", 404)):
        browser = browsers(persona)
        for login in ("acme-corp", "ACME-Corp", "no-such-org"):
            expected = 404 if login == "no-such-org" else status
            answer = browser.client.get(f"/orgs/{login}/progress.json")
            assert answer.status_code == expected, (persona, login)
    answer = client.get("/orgs/acme-corp/progress.json")
    assert answer.status_code == 302 and answer["Location"].startswith("/login/?next=")
