"""PostgreSQL restarts in the middle of a collection. A cluster of this test alone
(``pg_cluster``: initdb, ``pg_ctl restart -m fast``), a real worker process on it, the
simulator answering slowly so the restart lands while the month's transaction is open
(its old rows already deleted, the new ones not yet written).

The attempt fails cleanly: the transaction is rolled back by the restart, so the month
keeps its previous rows and rollups (never half a month); the worker process survives
and its lease expires; pages render again at once. The retry (beat's stale-run sweep)
resumes the run, which succeeds on its second attempt with exactly GitHub's figures.
"""

from __future__ import annotations

import contextlib

import pytest
import requests
from django.db import connection
from django.test import Client

from accounts.models import Membership
from tests.factories import MembershipFactory, UserFactory
from tests.helpers import mirror_installed_org, wait_for
from tests.usage.conftest import Workers, _github_env, usage_calls, wait_settled
from tests.usage.test_collect_worker import assert_month_matches_simulator
from usage import periods
from usage.collection.locks import lease_is_live
from usage.collection.services import run_enqueue
from usage.collection.tasks import sweep_stale_runs
from usage.models import CollectionRun, DailyUsage, MonthlyRepositoryUsage, UsageItem

from .conftest import default_database_at, gunicorn_on

pytestmark = pytest.mark.integration
State = CollectionRun.State
USAGE_PATH = r"/settings/billing/usage$"


def month_rows(org) -> tuple[list, list, list]:
    def rows(model):
        fields = [f.name for f in model._meta.fields if f.name != "id"]
        return sorted(model.objects.filter(organization=org).values_list(*fields))

    return rows(UsageItem), rows(DailyUsage), rows(MonthlyRepositoryUsage)


def open_transactions() -> list[tuple[str, str]]:
    """(state, query) of other sessions in a transaction for over half a second: the
    month being replaced (its DELETE done, its COPY waiting for GitHub's rows)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT state, left(query, 60) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND xact_start < now() - interval '500 milliseconds'"
        )
        return cursor.fetchall()


def test_a_postgres_restart_mid_collection_fails_it_cleanly_and_the_retry_succeeds(
    github_settings, simulator, sim_app, pg_cluster, celery_queue, django_db_blocker, tmp_path
):
    sim = github_settings
    env = {**_github_env(simulator, sim_app), "CELERY_TASK_DEFAULT_QUEUE": celery_queue}
    workers = Workers(celery_queue, env, tmp_path)
    with contextlib.ExitStack() as stack:
        stack.callback(workers.stop_all)
        stack.enter_context(default_database_at(pg_cluster, django_db_blocker))
        org = mirror_installed_org(sim, "restart-org", repos=4, skus_per_repo=4)
        olivia = UserFactory(github_login="olivia")
        MembershipFactory(user=olivia, organization=org, role=Membership.Role.OWNER)
        client = Client()
        client.force_login(olivia)
        browser = requests.Session()  # a browser, signed in, on a real server
        browser.cookies.set("sessionid", client.cookies["sessionid"].value)
        web = stack.enter_context(gunicorn_on(pg_cluster.url, tmp_path))
        dashboard = f"{web}/orgs/{org.login}/"
        worker = workers.start(DATABASE_URL=pg_cluster.url)

        first, _ = run_enqueue(organization=org, period=periods.current_month(), trigger="backfill")
        wait_settled(org)
        assert CollectionRun.objects.get(pk=first.pk).state == State.SUCCEEDED
        before = month_rows(org)
        assert before[0]
        assert browser.get(dashboard, timeout=30).status_code == 200  # its connection opens

        # GitHub answers slowly; the worker has opened the month's transaction and
        # deleted the old rows when PostgreSQL restarts.
        sim.control.fault("latency", USAGE_PATH, latency_ms=6000, count=1)
        run, _ = run_enqueue(organization=org, period=periods.current_month(), trigger="schedule")
        wait_for(lambda: CollectionRun.objects.get(pk=run.pk).state == State.RUNNING)
        wait_for(open_transactions, timeout=10, what="the month's open transaction")
        pg_cluster.restart()
        connection.close()  # this test's own session ended too (it only observes)

        # The attempt fails: its COPY finds the connection gone (AdminShutdown, a
        # DatabaseError: the task raises, leaving the run to its lease and the sweeper,
        # not an "internal error" that fails it for good); the process lives on.
        wait_for(
            lambda: "raised unexpected: OperationalError" in full_log(workers),
            timeout=60,
            what="the interrupted task to fail",
        )
        assert worker.poll() is None, workers.logs()
        # Pages render again at once: the server's persistent connection died with the
        # restart, and Django's health check replaces it before the next request.
        page = browser.get(dashboard, timeout=30)
        assert page.status_code == 200 and 'data-total="net"' in page.text
        # Nothing of the interrupted attempt was kept: the previous month, whole.
        assert month_rows(org) == before
        interrupted = CollectionRun.objects.get(pk=run.pk)
        assert (interrupted.state, interrupted.attempts) == (State.RUNNING, 1)

        # Beat's sweep (every minute) re-sends the run once its lease has expired.
        wait_for(lambda: not lease_is_live(organization_id=org.pk), timeout=30)
        sweep_stale_runs.delay()
        wait_settled(org, timeout=120)
        run.refresh_from_db()
        assert (run.state, run.attempts, run.error) == (State.SUCCEEDED, 2, "")
        assert_month_matches_simulator(sim, org, periods.current_month())
        assert len(usage_calls(sim, org.login)) == 3  # first run, interrupted, retry
        assert CollectionRun.objects.filter(organization=org).count() == 2


def full_log(workers: Workers) -> str:
    return "".join(path.read_text(errors="replace") for _, path in workers.procs)
