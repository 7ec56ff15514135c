"""Celery settings (the ``CELERY_`` namespace ``billingdash/celery.py`` reads): the broker,
how tasks are acknowledged, limited and retried, and the beat schedule.

Part of the settings: ``billingdash/settings.py`` takes every setting here with
``from .settings_celery import *``. As there, every value comes from the environment and
the README documents each variable.
"""

import time
from pathlib import Path

import environ
from celery.beat import BeatLazyFunc
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
# The longest retry countdown a task may ask for (a rate-limit reset is at most an hour);
# usage.tasks clamps every countdown (rate limit, backoff) to it.
CELERY_MAX_COUNTDOWN_SECONDS = 3600
# With acks_late, Redis redelivers an unacknowledged task after the visibility timeout.
# A task with a countdown sits unacknowledged in a worker until it is due, then runs:
# the timeout must outlast the longest countdown plus the longest task, or work would
# run twice (harmless here, the per-org lease serialises it, but wasteful). The kill
# test lowers it (CELERY_VISIBILITY_TIMEOUT) to see a killed worker's task redelivered.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int(
        "CELERY_VISIBILITY_TIMEOUT",
        default=CELERY_TASK_TIME_LIMIT + CELERY_MAX_COUNTDOWN_SECONDS + 600,
    ),
}
# A worker that loses the broker connection cancels what it runs (acks_late): the
# message is redelivered rather than finished twice.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# Tests give each worker its own queue; the worker's own re-queues go there too.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Zero-setup fallback used by `make demo` when Redis is not reachable: kombu's
    # filesystem transport, a real broker shared by separate worker and web processes.
    _broker_dir = Path(env.str("CELERY_FILESYSTEM_DIR", default=str(BASE_DIR / ".demo" / "broker")))
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(BASE_DIR / ".celerybeat-schedule")
)
# Periodic tasks (celery beat), every app's in this one dict.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # usage: the current month of every collectable org, every hour.
    "usage-hourly-current-month": {
        "task": "usage.tasks.schedule_current_month",
        "schedule": crontab(minute=7),
    },
    # usage: the previous month once a day until the 10th (late adjustments), and
    # orgs not on the enhanced billing platform are asked again once a day.
    "usage-daily-previous-month": {
        "task": "usage.tasks.schedule_previous_month",
        "schedule": crontab(hour=4, minute=17),
    },
    # usage: re-queue runs whose lease expired (worker killed) or whose message
    # was lost; duplicates are harmless (per-org lease, one active run per month).
    "usage-sweep-stale-runs": {
        "task": "usage.tasks.sweep_stale_runs",
        "schedule": 60.0,
    },
    # accounts: queue webhook deliveries still pending a minute after they arrived
    # (the broker was down when GitHub sent them, or a failed attempt put them back).
    "accounts-sweep-webhook-deliveries": {
        "task": "accounts.tasks.sweep_webhook_deliveries",
        "schedule": 60.0,
    },
    # accounts: ask GitHub to redeliver what it could not deliver to us (its delivery log).
    "accounts-recover-webhook-deliveries": {
        "task": "accounts.tasks.recover_webhook_deliveries",
        "schedule": 10 * 60.0,
    },
    # accounts: compare GET /app/installations with what we stored (missed webhooks).
    "accounts-reconcile-installations": {
        "task": "accounts.tasks.reconcile_installations",
        "schedule": 15 * 60.0,
    },
    # ops (issue 7): a heartbeat every minute; `sent_at` is evaluated by beat when it
    # sends (BeatLazyFunc), so the worker that runs it can tell when beat last ticked.
    "usage-ops-heartbeat": {
        "task": "usage.heartbeat.beat",
        "schedule": 60.0,
        "kwargs": {"sent_at": BeatLazyFunc(time.time)},
        # A backlog of heartbeats is pointless; an hour bounds it when no worker runs.
        "options": {"expires": 3600},
    },
    # accounts: delete the data of organizations uninstalled longer than
    # ORG_DATA_RETENTION_DAYS ago; usage: delete usage older than USAGE_RETENTION_MONTHS.
    # Both audited per organization and idempotent (a doubled run finds nothing).
    "accounts-purge-uninstalled-orgs": {
        "task": "accounts.tasks.purge_uninstalled_orgs",
        "schedule": crontab(hour=3, minute=37),
    },
    "usage-purge-old-usage": {
        "task": "usage.tasks.purge_old_usage",
        "schedule": crontab(hour=3, minute=47),
    },
    # alerts: send again the deliveries whose message was lost (broker down when they
    # were queued) or whose worker died mid-send; duplicates are harmless (claimed once).
    "alerts-sweep-deliveries": {
        "task": "alerts.sweep_deliveries",
        "schedule": 60.0,
    },
    # alerts: "data stopped" rules (no successful collection for N hours), hourly.
    "alerts-check-data-stopped": {
        "task": "alerts.check_data_stopped",
        "schedule": crontab(minute=27),
    },
    # alerts: the weekly and monthly digests due now (each subscriber's time zone),
    # hourly; each is sent once per channel and period (a database constraint).
    "alerts-send-digests": {
        "task": "alerts.send_digests",
        "schedule": crontab(minute=3),
    },
}
# Every module that defines tasks (the apps keep their tasks in the package of the part they
# belong to, so autodiscovery's `<app>.tasks` convention does not find them). Task *names*
# are explicit and stable, whatever module defines them.
CELERY_IMPORTS = (
    "billingdash.heartbeat",
    "accounts.admin.actions",
    "accounts.installations.tasks",
    "accounts.webhooks.tasks",
    "usage.collection.collect",
    "usage.collection.tasks",
    "usage.collection.retention",
    "copilot.collection.tasks",
    "usage.imports.tasks",
)

# What `from .settings_celery import *` takes: the settings (upper case), nothing else.
__all__ = [name for name in dir() if name.isupper()]
