"""Redis (the Celery broker) stops while people browse: the real stack, i.e. a live HTTP
server, a real worker process, the per-run PostgreSQL test database and the simulator.
The Redis is this test's own (``own_redis``), never the machine's shared one.

While it is down: the dashboard, the overview, the JSON API and the CSV answer 200 from
the database; ``/healthz`` says "degraded"; "refresh now" says the queue is unavailable
(no 500, no cool-down spent); GitHub's webhooks are answered 2xx and stored. When Redis
comes back (empty: no persistence), nothing is lost: the sweepers (beat's, sent here by
hand) get the stored deliveries and a collection whose message Redis lost processed,
and "refresh now" works at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent, Membership, Organization, WebhookDelivery
from accounts.webhooks.tasks import sweep_webhook_deliveries
from billingdash import healthz, heartbeat
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.helpers import celery_broker, mirror_installed_org, wait_for
from tests.usage.conftest import Workers, _github_env, usage_calls, wait_settled
from tests.usage.test_collect_worker import assert_month_matches_simulator
from usage import periods
from usage.collection.locks import lease_is_live
from usage.collection.services import run_enqueue
from usage.collection.tasks import sweep_stale_runs
from usage.models import CollectionRun, OrgCollectionState, UsageItem

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
State = CollectionRun.State
USAGE_PATH = r"/settings/billing/usage$"
UNAVAILABLE = "The task queue is unavailable right now"


@pytest.fixture
def celery_worker_env(simulator, sim_app, own_redis, celery_queue) -> dict[str, str]:
    # The worker's broker is our own Redis, the tasks it sends go to this test's queue,
    # and its sweeper re-sends a queued run after 1 s.
    return {
        **_github_env(simulator, sim_app),
        "CELERY_BROKER_URL": own_redis.url,
        "CELERY_TASK_DEFAULT_QUEUE": celery_queue,
        "COLLECTION_STALE_QUEUED_SECONDS": "1",
    }


@pytest.fixture
def broker(own_redis, celery_queue):
    """This process (and the live server in it) publishes to our own Redis too."""
    with celery_broker(own_redis.url):
        yield own_redis


def signed_post(base: str, secret: str, event: str, payload: dict) -> requests.Response:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": signature,
    }
    return requests.post(f"{base}/github/webhook/", data=body, headers=headers, timeout=30)


def signed_in(live_server, user) -> requests.Session:
    """A browser's session cookie for `user`, used over real HTTP."""
    client = Client()
    client.force_login(user)
    browser = requests.Session()
    browser.cookies.set("sessionid", client.cookies["sessionid"].value)
    return browser


def refresh(browser: requests.Session, base: str, login: str) -> tuple[requests.Response, float]:
    page = browser.get(f"{base}/orgs/{login}/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, page.text[:2000]
    started = time.monotonic()
    response = browser.post(
        f"{base}/orgs/{login}/refresh/",
        data={"csrfmiddlewaretoken": token.group(1)},
        headers={"Referer": f"{base}/orgs/{login}/"},
        timeout=60,
    )
    return response, time.monotonic() - started


def browse(browser: requests.Session, base: str, org: Organization) -> dict[str, requests.Response]:
    month = periods.current_month()
    api = f"{base}/api/orgs/{org.login}/usage?start={month}&end={periods.today()}"
    pages = {
        "dashboard": f"{base}/orgs/{org.login}/",
        "dashboard 12 months": f"{base}/orgs/{org.login}/?range=12m",
        "overview": f"{base}/orgs/",
        "api": f"{api}&group_by=product",
        "csv": f"{base}/orgs/{org.login}/usage.csv",
    }
    return {name: browser.get(url, timeout=30) for name, url in pages.items()}


def test_pages_render_while_redis_is_down_and_nothing_is_lost_when_it_returns(
    github_settings, sim_app, broker, live_server, celery_worker
):
    sim, base, secret = github_settings, live_server.url, sim_app[0].webhook_secret
    org = mirror_installed_org(sim, "outage-org", repos=3, skus_per_repo=3)
    olivia = UserFactory(github_login="olivia")
    mia = UserFactory(github_login="mia")
    MembershipFactory(user=olivia, organization=org, role=Membership.Role.OWNER)
    MembershipFactory(user=mia, organization=org, role=Membership.Role.MEMBER)
    other = OrganizationFactory(login="old-name")
    run, _ = run_enqueue(organization=org, period=periods.current_month(), trigger="backfill")
    wait_settled(org)
    assert CollectionRun.objects.get(pk=run.pk).state == State.SUCCEEDED
    items = UsageItem.objects.filter(organization=org)
    net = items.aggregate(n=Sum("net_amount"))["n"]
    browser = signed_in(live_server, olivia)

    broker.stop()  # --- Redis is down ---------------------------------------------------

    pages = browse(browser, base, org)
    assert {name: r.status_code for name, r in pages.items()} == dict.fromkeys(pages, 200)
    assert 'data-total="net"' in pages["dashboard"].text
    assert org.login in pages["overview"].text
    assert Decimal(pages["api"].json()["total"]["net_amount"]) == net
    assert pages["csv"].text.count("\r\n") == items.count() + 1
    healthz.forget()  # an answer this process kept from an earlier test
    health = browser.get(f"{base}/healthz", timeout=30)
    assert health.status_code == 200
    # No heartbeat has run (no beat here, and none can while Redis is down).
    assert health.json()["status"] == "degraded"

    response, seconds = refresh(browser, base, org.login)
    assert response.status_code == 200 and UNAVAILABLE in response.text
    assert seconds < 10  # a refused connection, not a hang
    assert CollectionRun.objects.filter(organization=org).count() == 1  # nothing queued
    assert not AuditEvent.objects.filter(action="refresh").exists()
    state = OrgCollectionState.objects.filter(organization=org).first()
    assert state is None or state.refresh_requested_at is None  # no cool-down spent

    removed = {
        "action": "member_removed",
        "membership": {"user": {"id": mia.github_id, "login": "mia"}, "role": "member"},
        "organization": {"id": org.github_id, "login": org.login},
        "sender": {"id": olivia.github_id, "login": "olivia"},
    }
    renamed = {
        "action": "renamed",
        "changes": {"login": {"from": "old-name"}},
        "organization": {"id": other.github_id, "login": "new-name"},
        "sender": {"id": olivia.github_id, "login": "olivia"},
    }
    answers = [
        signed_post(base, secret, "organization", removed),
        signed_post(base, secret, "organization", renamed),
    ]
    assert [a.status_code for a in answers] == [202, 202]
    deliveries = WebhookDelivery.objects.all()
    assert [d.state for d in deliveries] == [WebhookDelivery.State.PENDING] * 2

    broker.start()  # --- Redis is back, empty ------------------------------------------

    # A minute later beat's sweep queues the deliveries still pending.
    deliveries.update(received_at=timezone.now() - timedelta(minutes=2))
    sweep_webhook_deliveries.delay()
    wait_for(
        lambda: set(deliveries.values_list("state", flat=True)) == {"processed"},
        timeout=120,
        what=f"the stored deliveries to be processed\n{celery_worker.log()[-3000:]}",
    )
    assert not Membership.objects.filter(user=mia, organization=org).exists()
    assert Organization.objects.get(pk=other.pk).login == "new-name"

    # "Refresh now" works at once (the refused click spent no cool-down).
    response, _ = refresh(browser, base, org.login)
    assert response.status_code == 200 and "Refresh queued" in response.text
    wait_settled(org, 2)
    runs = CollectionRun.objects.filter(organization=org).order_by("pk")
    assert [(r.trigger, r.state) for r in runs] == [
        ("backfill", "succeeded"),
        ("manual", "succeeded"),
    ]
    assert_month_matches_simulator(sim, org, periods.current_month())
    # A heartbeat through the broker that came back: /healthz sees beat and a worker.
    heartbeat.beat.delay(time.time())
    wait_for(lambda: heartbeat.heartbeat_status().worker_ok, what="the heartbeat to run")
    healthz.forget()  # the live server answers from this process: its kept answer
    health = browser.get(f"{base}/healthz", timeout=30).json()
    assert health["status"] == "ok"


@pytest.mark.parametrize("pool", ["solo", "prefork"])
def test_a_collection_whose_message_redis_lost_is_swept_once_it_returns(
    github_settings, broker, celery_queue, celery_worker_env, tmp_path, pool
):
    """An idle worker holds a deferred task (a countdown) when Redis dies: before
    billingdash.celery.Consumer the worker exited there ("Unrecoverable error")."""
    sim = github_settings
    workers = Workers(celery_queue, celery_worker_env, tmp_path)
    try:
        worker = workers.start(pool=pool, concurrency=1)
        org = mirror_installed_org(sim, "deferred-org", repos=2, skus_per_repo=2)
        # GitHub asks us to wait: the run goes back to the queue and its task is re-sent
        # with a countdown; that message now waits in the worker, unacknowledged.
        sim.control.fault(
            "secondary_rate_limit", "deferred-org" + USAGE_PATH, count=1, retry_after=4
        )
        run, _ = run_enqueue(organization=org, period=periods.current_month(), trigger="schedule")
        wait_for(lambda: received(workers) == 2, what="the re-sent task in the worker")
        assert CollectionRun.objects.get(pk=run.pk).state == State.QUEUED

        broker.kill()  # Redis crashes: without persistence the message is gone
        time.sleep(1)
        broker.start()
        reconnected(workers, worker)

        deferred = CollectionRun.objects.get(pk=run.pk)
        wait_for(lambda: timezone.now() >= deferred.not_before, timeout=30, what="the reset")
        sweep_stale_runs.delay()  # beat, every minute
        wait_settled(org, timeout=120)
        run.refresh_from_db()
        assert (run.state, run.error) == (State.SUCCEEDED, ""), workers.logs()
        assert run.attempts == 1  # the deferral was not an attempt
        # Collected exactly once after the deferral, whoever re-sent it.
        assert [c["status"] for c in usage_calls(sim, org.login)] == [403, 200]
        assert_month_matches_simulator(sim, org, periods.current_month())
        assert worker.poll() is None
    finally:
        workers.stop_all()


def test_redis_lost_during_a_collection_interrupts_it_and_the_sweeper_resumes_it(
    github_settings, broker, celery_queue, celery_worker_env, tmp_path
):
    """Prefork, as in production: the broker goes while a pool process collects one org
    and the worker holds another org's deferred task (a countdown). The worker cancels
    the running task (acks_late: it could not be acknowledged any more; its transaction
    rolls back) and reconnects; the sweeper resumes both runs, each collected once."""
    sim = github_settings
    workers = Workers(celery_queue, celery_worker_env, tmp_path)
    try:
        worker = workers.start(pool="prefork", concurrency=1)
        later_org = mirror_installed_org(sim, "later-org", repos=2, skus_per_repo=2)
        sim.control.fault("secondary_rate_limit", "later-org" + USAGE_PATH, count=1, retry_after=5)
        later, _ = run_enqueue(
            organization=later_org, period=periods.current_month(), trigger="manual"
        )
        wait_for(lambda: received(workers) == 2, what="the re-sent task in the worker")
        org = mirror_installed_org(sim, "midrun-org", repos=3, skus_per_repo=3)
        sim.control.fault("latency", "midrun-org" + USAGE_PATH, latency_ms=4000, count=1)
        run, _ = run_enqueue(organization=org, period=periods.current_month(), trigger="manual")
        wait_for(lambda: CollectionRun.objects.get(pk=run.pk).state == State.RUNNING)
        broker.kill()
        time.sleep(1)
        broker.start()
        reconnected(workers, worker)
        wait_for(lambda: "Terminating it instead" in full_log(workers), what="the cancel")
        assert not UsageItem.objects.filter(organization=org).exists()  # nothing half-written

        deferred = CollectionRun.objects.get(pk=later.pk)
        wait_for(lambda: not lease_is_live(organization_id=org.pk), timeout=30)
        wait_for(lambda: timezone.now() >= deferred.not_before, timeout=30)
        sweep_stale_runs.delay()
        for each in (org, later_org):
            wait_settled(each, timeout=120)
            assert_month_matches_simulator(sim, each, periods.current_month())
        run.refresh_from_db()
        later.refresh_from_db()
        assert (run.state, run.attempts, run.error) == (State.SUCCEEDED, 2, "")
        assert (later.state, later.attempts) == (State.SUCCEEDED, 1)
        assert [c["status"] for c in usage_calls(sim, "later-org")] == [403, 200]
    finally:
        workers.stop_all()


def reconnected(workers: Workers, worker) -> None:
    """The worker is connected to the broker again (rather than dead)."""
    wait_for(
        lambda: full_log(workers).count("Connected to redis") >= 2 or worker.poll() is not None,
        timeout=60,
        what="the worker to reconnect",
    )
    assert worker.poll() is None, f"the worker died:\n{full_log(workers)[-4000:]}"


def received(workers: Workers) -> int:
    """collect_org messages the worker has received (a re-sent one waits there)."""
    return len(re.findall(r"collect_org\[[^\]]+\] received", full_log(workers)))


def full_log(workers: Workers) -> str:
    return "".join(path.read_text(errors="replace") for _, path in workers.procs)
