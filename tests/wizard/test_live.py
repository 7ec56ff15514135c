"""End to end with real deliveries: the simulator sends its webhooks to a live server and
a real Celery worker process handles them (and the backfill they start). The billing
manager's access turns on when the owner installs, and off, with the reason, when an
owner uninstalls."""

from __future__ import annotations

import pytest

from accounts.models import Installation, InstallRequest, WebhookDelivery

from .conftest import BACKFILL_MONTHS, install_link, press_install, wait_until

pytestmark = pytest.mark.integration


def deliveries_settled() -> bool:
    return not WebhookDelivery.objects.filter(
        state__in=[WebhookDelivery.State.PENDING, WebhookDelivery.State.PROCESSING]
    ).exists()


def test_billing_manager_access_follows_the_owners_install_and_uninstall(
    browsers, wgh, live_server, celery_worker
):
    wgh.control.set_webhook_url(live_server.url + "/github/webhook/")
    bill = browsers("bill")
    olivia = browsers("olivia")

    # bill asks; nothing can read globex's billing yet.
    page = bill.client.get("/orgs/globex/install/").content.decode()
    assert "Ask an owner of globex" in page
    request = InstallRequest.objects.get(user__github_login="bill")
    assert bill.client.get("/orgs/globex/progress.json").json()["access"] == "needs_install"

    # olivia installs on GitHub's page. She does not even come back through the Setup
    # URL: GitHub's installation.created webhook alone turns bill's access on.
    url = install_link(olivia.client.get("/orgs/globex/install/").content.decode(), wgh.web_url)
    press_install(olivia, url)
    wgh.control.wait_for_deliveries()
    wait_until(
        lambda: InstallRequest.objects.filter(pk=request.pk, fulfilled_at__isnull=False).exists(),
        "the webhook to fulfil bill's request",
        celery_worker,
    )
    request.refresh_from_db()
    installation = Installation.objects.get(organization__login="globex")
    assert request.installation == installation
    assert installation.installed_by.github_login == "olivia"
    rows = {row["login"]: row for row in bill.client.get("/api/orgs/").json()}
    assert rows["globex"]["access"] == "app"
    assert bill.client.get("/orgs/globex/").status_code == 200
    assert "data-progress-url" in bill.client.get("/orgs/globex/install/").content.decode()

    # The worker collects the backfill the webhook started; bill watches it finish.
    progress = wait_until(
        lambda: (p := bill.client.get("/orgs/globex/progress.json").json())["finished"] and p,
        "the first collection",
        celery_worker,
        timeout=120,
    )
    assert progress["months_done"] == progress["months_total"] == BACKFILL_MONTHS
    assert progress["errors"] == 0 and progress["items"] > 0 and progress["has_data"]

    # An owner uninstalls on GitHub: access off, and the reason is shown.
    wgh.control.uninstall(installation.installation_id)
    wgh.control.wait_for_deliveries()
    wait_until(
        lambda: Installation.objects.filter(
            pk=installation.pk, state=Installation.State.DELETED
        ).exists(),
        "installation.deleted",
        celery_worker,
    )
    wait_until(deliveries_settled, "deliveries", celery_worker)
    data = bill.client.get("/orgs/globex/progress.json").json()
    assert data["access"] == "needs_install"
    assert data["installation"]["state"] == "uninstalled"
    assert "by olivia" in data["installation"]["words"]
    page = bill.client.get("/orgs/globex/install/").content.decode()
    assert "was uninstalled from globex" in page
    assert all(d["status_code"] in (200, 202) for d in wgh.control.deliveries())
