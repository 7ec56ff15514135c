"""Every staff action, through the admin as staff click it, carried out by a real
Celery worker against the simulator over HTTP: collect now, backfill (with its form),
collect a failed month again, pause and resume, re-sync memberships of a user and of an
organization, re-check an installation, reprocess a failed webhook delivery. Each one
appends an audit event and says what it queued."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from accounts.models import (
    AuditEvent,
    Installation,
    Membership,
    Organization,
    User,
    WebhookDelivery,
)
from accounts.tokens import github_token_store
from accounts.webhooks.handlers import STALE
from tests.factories import (
    CollectionRunFactory,
    InstallationFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
    WebhookDeliveryFactory,
)
from tests.helpers import wait_for
from usage import periods
from usage.collection.services import run_enqueue, schedule_current_month
from usage.models import CollectionRun

from .conftest import messages_of, run_action

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
State = CollectionRun.State
TERMINAL = (State.SUCCEEDED, State.FAILED, State.SKIPPED)
OLIVIA, MIA, ACME, ACME_INSTALLATION = 5550001, 5550003, 7770001, 8880001


def settled(org: Organization, count: int) -> bool:
    runs = CollectionRun.objects.filter(organization=org)
    return runs.count() >= count and not runs.exclude(state__in=TERMINAL).exists()


def audited(action: str, **filters) -> AuditEvent:
    return AuditEvent.objects.get(action=f"staff.{action}", **filters)


def test_collect_now_queues_the_current_month_for_a_worker(
    staff_client, staff_user, installed_org, celery_worker
):
    org = installed_org("acme-collect")
    response = run_action(staff_client, Organization, "collect_now", [org])
    assert response.status_code == 302
    (message,) = messages_of(response)
    assert f"acme-collect: {periods.current_month():%Y-%m} queued (1 new run(s))" in message
    assert "A worker collects it now." in message
    wait_for(lambda: settled(org, 1), what="the run")
    run = CollectionRun.objects.get(organization=org)
    assert (run.state, run.trigger, run.error) == (State.SUCCEEDED, "admin", "")
    assert run.items > 0
    org.refresh_from_db()
    assert org.last_collected_at is not None
    event = audited("collect_now", organization=org)
    assert event.actor == staff_user and event.details["runs"] == [run.pk]
    assert event.details["sent"] is True


def test_collect_now_is_not_held_by_the_refresh_cool_down_or_a_backoff(
    staff_client, installed_org, celery_worker
):
    org = installed_org("acme-again")
    run_action(staff_client, Organization, "collect_now", [org])
    wait_for(lambda: settled(org, 1), what="the first run")
    # A run waiting out a backoff (far away) is made due at once.
    CollectionRunFactory(
        organization=org,
        period=periods.previous_month(),
        state=State.QUEUED,
        started_at=None,
        finished_at=None,
        not_before=datetime(2999, 1, 1, tzinfo=UTC),
        error="attempt 1 failed",
    )
    response = run_action(staff_client, Organization, "collect_now", [org])
    assert "1 waiting run(s) made due now" in messages_of(response)[0]
    wait_for(lambda: settled(org, 3), what="both runs")
    assert set(CollectionRun.objects.values_list("state", flat=True)) == {State.SUCCEEDED}


def test_backfill_asks_how_many_months_then_queues_them(
    staff_client, staff_user, installed_org, celery_worker
):
    org = installed_org("acme-backfill", created_months_ago=12)
    form = run_action(staff_client, Organization, "backfill", [org])
    assert form.status_code == 200
    page = form.content.decode()
    assert "Queue the backfill" in page and 'name="months"' in page and "acme-backfill" in page
    data = {"action": "backfill", "apply": "1", "_selected_action": [org.pk], "select_across": 0}
    refused = staff_client.post("/admin/accounts/organization/", {**data, "months": 30})
    assert refused.status_code == 200  # the form again
    assert "less than or equal to 24" in refused.content.decode()
    assert not CollectionRun.objects.exists()
    response = staff_client.post("/admin/accounts/organization/", {**data, "months": 3})
    assert response.status_code == 302
    assert "3 new run(s)" in messages_of(response)[0]
    wait_for(lambda: settled(org, 3), what="three months")
    runs = CollectionRun.objects.filter(organization=org)
    assert sorted(runs.values_list("period", flat=True), reverse=True) == periods.last_months(3)
    assert set(runs.values_list("state", flat=True)) == {State.SUCCEEDED}
    event = audited("backfill", organization=org)
    assert event.details["months_asked"] == 3 and len(event.details["runs"]) == 3


def test_a_failed_month_is_collected_again_from_the_runs_list(
    staff_client, installed_org, celery_worker
):
    org = installed_org("acme-retry")
    failed = CollectionRunFactory(organization=org, state=State.FAILED, error="gave up: 502")
    response = run_action(staff_client, CollectionRun, "collect_again", [failed])
    assert response.status_code == 302
    wait_for(lambda: settled(org, 2), what="the new run")
    again = CollectionRun.objects.exclude(pk=failed.pk).get(organization=org)
    assert again.state == State.SUCCEEDED and again.period == failed.period
    assert audited("collect_again", organization=org).details["runs"] == [again.pk]


def test_pause_and_resume_collection(staff_client, installed_org, celery_worker):
    org = installed_org("acme-pause")
    other = installed_org("acme-busy")
    # A run queued before the pause, not sent yet.
    queued, _ = run_enqueue(
        organization=org, period=periods.current_month(), trigger="schedule", send=False
    )
    response = run_action(staff_client, Organization, "pause_collection", [org])
    assert "Changed: acme-pause." in messages_of(response)[0]
    org.refresh_from_db()
    assert org.collection_paused
    assert audited("collection_paused", organization=org)
    # The schedule skips it; collect now refuses it; the worker skips its queued run.
    assert schedule_current_month() == 1  # acme-busy only
    refused = run_action(staff_client, Organization, "collect_now", [org])
    assert "nothing queued, collection is paused" in messages_of(refused)[0]
    from usage.collection.collect import collect_org

    collect_org.delay(org.pk)
    wait_for(lambda: settled(other, 1), what="acme-busy")
    wait_for(
        lambda: CollectionRun.objects.get(pk=queued.pk).state == State.SKIPPED,
        what="the paused org's run to be skipped",
    )
    response = run_action(staff_client, Organization, "resume_collection", [org])
    assert "resumed" in messages_of(response)[0]
    org.refresh_from_db()
    assert not org.collection_paused
    assert audited("collection_resumed", organization=org)
    assert schedule_current_month() == 2  # acme-pause is scheduled again, acme-busy too
    wait_for(lambda: settled(org, 2), what="the resumed org's run")
    assert CollectionRun.objects.filter(organization=org, state=State.SUCCEEDED).exists()


@pytest.fixture
def acme_people(gh):
    """acme-corp as the simulator's demo world has it (installed), olivia with a real
    token from the simulator, mia with none; both with wrong, stale roles here."""
    acme = OrganizationFactory(github_id=ACME, login="acme-corp")
    InstallationFactory(organization=acme, installation_id=ACME_INSTALLATION)
    olivia = UserFactory(github_id=OLIVIA, github_login="olivia")
    issued = gh.control.issue_token("olivia", client="app")
    github_token_store(user=olivia, client="app", token_response=issued)
    mia = UserFactory(github_id=MIA, github_login="mia")
    for user in (olivia, mia):
        MembershipFactory(user=user, organization=acme, role=Membership.Role.MEMBER, stale=True)
    return acme, olivia, mia


def test_resync_memberships_of_a_user(staff_client, acme_people, celery_worker):
    acme, olivia, _ = acme_people
    response = run_action(staff_client, User, "resync_memberships", [olivia])
    assert "olivia: re-sync of their GitHub roles queued." in messages_of(response)
    membership = Membership.objects.get(user=olivia, organization=acme)
    wait_for(
        lambda: Membership.objects.get(pk=membership.pk).role == Membership.Role.OWNER,
        what="olivia's role from GitHub",
    )
    assert audited("memberships_resync", target="user olivia").actor is not None


def test_resync_memberships_of_an_org(staff_client, acme_people, celery_worker):
    acme, olivia, mia = acme_people
    response = run_action(staff_client, Organization, "resync_memberships", [acme])
    assert "acme-corp: re-sync queued" in messages_of(response)[0]
    wait_for(
        lambda: Membership.objects.get(user=olivia, organization=acme).role == "owner",
        what="olivia re-synced",
    )
    # mia has no token here: her membership is stale, re-checked on her next visit.
    assert Membership.objects.get(user=mia, organization=acme).verified_at == STALE
    assert audited("memberships_resync", organization=acme)


def test_recheck_an_installation_that_needs_attention(staff_client, installed_org, celery_worker):
    org = installed_org("acme-recheck")
    inst = Installation.objects.get(organization=org)
    Installation.objects.filter(pk=inst.pk).update(
        state=Installation.State.NEEDS_ATTENTION, state_reason="GitHub refused the token (403)"
    )
    response = run_action(staff_client, Installation, "recheck", [inst])
    assert "re-check with GitHub queued" in messages_of(response)[0]
    wait_for(
        lambda: Installation.objects.get(pk=inst.pk).state == Installation.State.ACTIVE,
        what="the installation to be active again",
    )
    assert Installation.objects.get(pk=inst.pk).state_reason == ""
    assert audited("installation_recheck", organization=org)


def test_reprocess_a_failed_webhook_delivery(staff_client, celery_worker):
    org = OrganizationFactory(github_id=ACME, login="acme-corp")
    failed = WebhookDeliveryFactory(
        event="organization",
        action="renamed",
        state=WebhookDelivery.State.FAILED,
        attempts=3,
        error="OperationalError: the database was restarting",
        payload={"action": "renamed", "organization": {"id": ACME, "login": "acme-renamed"}},
    )
    done = WebhookDeliveryFactory(state=WebhookDelivery.State.PROCESSED)
    response = run_action(staff_client, WebhookDelivery, "reprocess", [failed, done])
    lines = messages_of(response)
    assert any("queued for processing again" in line for line in lines)
    assert any("not reprocessed, it is processed" in line for line in lines)
    wait_for(
        lambda: WebhookDelivery.objects.get(pk=failed.pk).state == WebhookDelivery.State.PROCESSED,
        what="the delivery to be processed",
    )
    org.refresh_from_db()
    assert org.login == "acme-renamed"
    event = audited("webhook_reprocess")
    assert event.details["previous_error"].startswith("OperationalError")
    # Reprocessing it again is refused (it is processed): redeliver-safe.
    again = run_action(staff_client, WebhookDelivery, "reprocess", [failed])
    assert "not reprocessed" in messages_of(again)[0]


def test_sign_out_everywhere(staff_client):
    olivia = UserFactory(github_login="olivia")
    run_action(staff_client, User, "sign_out_everywhere", [olivia])
    olivia.refresh_from_db()
    assert olivia.sessions_revoked_at is not None
    assert audited("signout_everywhere", target="user olivia")


def test_action_buttons_on_a_change_page_come_back_to_it(staff_client, installed_org):
    org = installed_org("acme-buttons")
    url = f"/admin/accounts/organization/{org.pk}/change/"
    page = staff_client.get(url).content.decode()
    for action in ("collect_now", "backfill", "pause_collection", "resync_memberships"):
        assert f'data-action="{action}"' in page
    response = staff_client.post(
        "/admin/accounts/organization/",
        {"action": "pause_collection", "_selected_action": org.pk, "next": url},
    )
    assert response.status_code == 302 and response["Location"] == url
    # Never to another site.
    response = staff_client.post(
        "/admin/accounts/organization/",
        {"action": "resume_collection", "_selected_action": org.pk, "next": "https://evil.test/"},
    )
    assert response["Location"] == "/admin/accounts/organization/"
