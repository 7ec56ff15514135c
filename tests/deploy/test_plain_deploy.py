"""A plain deployment, the way Django sites are usually deployed: a fresh database,
``manage.py migrate`` and ``collectstatic`` (no other manage.py step), gunicorn (DEBUG
off, the deployment's own settings), one Celery worker and beat as processes, against
the GitHub simulator over HTTP. The worker and beat start once the database is migrated
(they need no static files), gunicorn once the static files are collected.

olivia signs in through the simulator's login (a `requests.Session` following the
OAuth redirects), installs the App on globex through the wizard and the simulator's
install page, the backfill runs, and the dashboard and the JSON API show the
simulator's own totals to the cent; /healthz sees beat and the worker.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet
from django.conf import settings

from tests import clock
from tests.accounts.flow import forms
from tests.helpers import free_port, github_env, processes, scratch_database, wait_for
from usage import periods
from usage.reporting.formatting import money

# Not in the `dates` set on purpose: it takes ~80 s, and the date logic it crosses (backfill,
# current month) is covered by the collection and dashboard tests that are.
pytestmark = pytest.mark.integration

ROOT = Path(settings.BASE_DIR)
BACKFILL_MONTHS = 3


def manage(*args: str, env: dict[str, str]) -> None:
    """``python manage.py <args>`` as an operator runs it (on this run's clock)."""
    result = subprocess.run(
        clock.command("manage", *args),
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]


def deployment_env(sim, app, base: str, database_url: str, redis_url: str, tmp: Path) -> dict:
    """What an operator sets: production mode, own secrets, the App's credentials."""
    queue = f"deploy-{secrets.token_hex(6)}"  # other runs' workers never see our tasks
    return {
        **github_env(sim, app, GITHUB_SIGNIN_CLIENT="oauth"),
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on the loopback here; behind an HTTPS proxy these stay on.
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_BEAT_SCHEDULE_FILENAME": str(tmp / "celerybeat-schedule"),
        "STATIC_ROOT": str(tmp / "static"),
        "BACKFILL_MONTHS": str(BACKFILL_MONTHS),
        "LOG_LEVEL": "INFO",
    }


def submit(session: requests.Session, page: requests.Response, action: str, **data: str):
    """Press a form's button on `page` (its hidden fields, CSRF token included)."""
    form = next(f for f in forms(page.text) if f["action"].startswith(action))
    target = requests.compat.urljoin(page.url, form["action"])
    return session.post(target, data={**form["fields"], **data}, timeout=30)


def test_migrate_collectstatic_gunicorn_worker_beat_install_collect_show(redis_url, tmp_path):
    from ghsim.config import SimConfig
    from ghsim.testing import SimulatorServer

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = SimConfig.generate(
        webhook_url=f"{base}/github/webhook/",
        setup_url=f"{base}/github/setup/",
        callback_urls=[f"{base}/complete/github-oauth/", f"{base}/complete/github-app/"],
    )
    with (
        SimulatorServer(app[0]) as sim,
        scratch_database("deploy") as database_url,
        processes(tmp_path, ROOT) as started,
    ):
        env = deployment_env(sim, app, base, database_url, redis_url, tmp_path)
        manage("migrate", "--noinput", env=env)
        # The worker and beat need the database only (their hosts or containers often
        # skip collectstatic); the web server needs the collected static files too.
        queue = env["CELERY_TASK_DEFAULT_QUEUE"]
        started.start(
            "worker",
            "celery",
            *("-A", "billingdash", "worker", "-Q", queue, "-n", f"{queue}@%h", "-P", "solo"),
            *("-l", "INFO", "--without-gossip", "--without-mingle"),
            env=env,
        )
        started.start(
            "beat",
            "celery",
            *("-A", "billingdash", "beat", "-l", "INFO"),
            *("-s", env["CELERY_BEAT_SCHEDULE_FILENAME"]),
            env=env,
        )
        manage("collectstatic", "--noinput", env=env)
        started.start(
            "gunicorn",
            "gunicorn",
            "billingdash.wsgi",
            *("-w", "2", "--threads", "4", "-b", f"127.0.0.1:{port}", "--timeout", "120"),
            env=env,
        )

        def answers() -> bool:
            try:
                return requests.get(f"{base}/healthz", timeout=5).status_code == 200
            except requests.RequestException:
                return not started.alive()

        wait_for(answers, timeout=60, what="gunicorn")
        assert started.alive(), started.logs()
        browser = requests.Session()

        # Sign in with GitHub: our sign-in page, the simulator's authorize page, back.
        login = browser.get(f"{base}/login/", timeout=30)
        assert login.status_code == 200, login.text[:500]
        authorize = submit(browser, login, "/login/")
        assert authorize.url.startswith(sim.web_url + "/login/oauth/authorize"), authorize.url
        home = submit(browser, authorize, "/login/oauth/authorize", login="olivia")
        assert home.url == f"{base}/orgs/", (home.url, home.text[:500], started.logs())
        assert "globex" in home.text

        # The wizard sends olivia to GitHub's install page; she presses Install.
        wizard = browser.get(f"{base}/orgs/globex/install/", timeout=30)
        assert wizard.status_code == 200
        links = [unescape(h) for h in re.findall(r'href="([^"]+)"', wizard.text)]
        install_url = next(h for h in links if h.startswith(sim.web_url + "/apps/"))
        page = browser.get(install_url, timeout=30)
        form = forms(page.text)[-1]
        progress_page = browser.post(install_url, data={**form["fields"], "install": "1"})
        assert progress_page.url.startswith(f"{base}/"), progress_page.url
        assert progress_page.status_code == 200, progress_page.text[:500]

        def collected() -> dict | None:
            data = browser.get(f"{base}/orgs/globex/progress.json", timeout=30).json()
            return data if data.get("finished") and data.get("months_total") else None

        progress = wait_for(collected, timeout=90, what=f"the backfill\n{started.logs()}")
        assert progress["months_done"] == progress["months_total"] == BACKFILL_MONTHS
        assert progress["errors"] == 0 and progress["items"] > 0, progress

        # The JSON API and the dashboard against the simulator's own sums.
        today, month = periods.today(), periods.current_month()
        start = periods.add_months(month, 1 - BACKFILL_MONTHS)
        api = browser.get(
            f"{base}/api/orgs/globex/usage",
            params={"start": start.isoformat(), "end": today.isoformat(), "group_by": "day"},
            timeout=30,
        )
        assert api.status_code == 200, api.text[:500]
        truth = sim.control.totals("globex", start.isoformat(), today.isoformat(), "day")
        total = api.json()["total"]
        assert total["items"] == truth["total"]["items"]
        for ours, theirs in (("net_amount", "net"), ("gross_amount", "gross")):
            assert abs(Decimal(total[ours]) - Decimal(truth["total"][theirs])) < Decimal("0.005")
        this_month = sim.control.totals("globex", month.isoformat(), today.isoformat(), "day")
        dashboard = browser.get(f"{base}/orgs/globex/", timeout=30)
        assert dashboard.status_code == 200
        assert money(Decimal(this_month["total"]["net"])) in dashboard.text
        static = re.search(r'href="(/static/css/app\.[0-9a-f]+\.css)"', dashboard.text)
        assert static, "collectstatic's hashed names are served (DEBUG off)"
        assert browser.get(base + static.group(1), timeout=30).status_code == 200
        # Only hashed files are kept (WHITENOISE_KEEP_ONLY_HASHED_FILES): every page names
        # them so, the staff admin's included.
        admin = browser.get(f"{base}/admin/login/", timeout=30).text
        scripts = re.findall(r'(?:href|src)="(/static/[^"]+)"', dashboard.text + admin)
        assert scripts and all(
            browser.get(base + path, timeout=30).status_code == 200 for path in scripts
        ), scripts

        # Beat's heartbeat ran on the worker: /healthz says so, with nothing missing.
        def healthy() -> dict | None:
            body = requests.get(f"{base}/healthz", timeout=10).json()
            return body if body["status"] == "ok" else None

        health = wait_for(healthy, timeout=120, what=f"the heartbeat\n{started.logs()}")
        assert health["database"] == {"ok": True, "ms": health["database"]["ms"]}
        assert started.alive(), started.logs()
