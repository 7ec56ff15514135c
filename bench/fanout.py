"""Fan-out benchmark: 500 installed orgs of realistic size refreshed by 2 worker processes
through Redis, against the simulator: wall time per refresh and GitHub API calls per org.

Refresh 1 is cold (an installation token per org, plus the summary and the budgets);
refresh 2 is the next hour's (token cached, extras not due: one call per month); refresh
3 comes after the tokens expired (one token + one call).

    python -m bench.fanout [--orgs 500] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from . import common

REPOS, SKUS_PER_REPO, SEATS = 12, 5, 10


def _start_workers(count: int, queue: str, env: dict[str, str], log_dir: str):
    """`count` solo worker processes on `queue`; waits until each says it is ready."""
    procs = []
    for i in range(count):
        path = os.path.join(log_dir, f"fanout-worker-{i}.log")
        log = open(path, "w")  # noqa: SIM115
        cmd = [
            *(sys.executable, "-m", "celery", "-A", "billingdash", "worker", "-P", "solo"),
            *("-Q", queue, "-n", f"bench{i}-{queue}@%h", "-l", "INFO"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
        ]
        proc = subprocess.Popen(cmd, cwd=common.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        procs.append((proc, log, path))
    deadline = time.monotonic() + 120
    for proc, _, path in procs:
        while " ready." not in Path(path).read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"a worker did not start:\n{Path(path).read_text()[-3000:]}")
            time.sleep(0.2)
    return procs


def _wait_done(runs, procs, timeout: float = 1800) -> None:
    deadline = time.monotonic() + timeout
    while runs.filter(state__in=("queued", "running")).exists():
        for proc, _, path in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"a worker died:\n{Path(path).read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError("the refresh did not finish in time")
        time.sleep(0.2)


def _kind(entry: dict[str, Any]) -> str:
    path = entry.get("api_path") or ""
    if path.endswith("/access_tokens"):
        return "token"
    if path.endswith("/billing/usage"):
        return "usage"
    if path.endswith("/usage/summary"):
        return "summary"
    if path.endswith("/billing/budgets"):
        return "budgets"
    return "other"


def run(orgs: int = 500, workers: int = 2) -> dict[str, Any]:
    common.setup_django()
    from django.core.cache import cache

    from accounts.models import Installation, Organization
    from billingdash.celery import app
    from usage.collection.services import schedule_current_month
    from usage.models import CollectionRun

    queue = f"bench-fanout-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    results: dict[str, Any] = {"orgs": orgs, "workers": workers, "refreshes": []}
    with common.simulator() as (config, pem, web, control):
        gh_env = common.github_env(config, pem, web)
        common.apply_settings(gh_env)
        Organization.objects.filter(login__startswith="fan-").delete()
        cache.clear()  # no installation token from an earlier run's simulator
        created = []
        for i in range(orgs):
            info = control.create_org(
                f"fan-{i:03d}",
                repos=REPOS,
                skus_per_repo=SKUS_PER_REPO,
                copilot_seats=SEATS,
                budgets=2,
                installed=True,
            )
            created.append(info)
        # Simulator ids restart with every simulator: drop what an earlier run left.
        Organization.objects.filter(github_id__in=[i["id"] for i in created]).delete()
        for info in created:
            org = Organization.objects.create(github_id=info["id"], login=info["login"])
            Installation.objects.update_or_create(
                installation_id=info["installation_id"],
                defaults={
                    "organization": org,
                    "account_id": info["id"],
                    "account_login": info["login"],
                    "permissions": {"organization_administration": "read", "members": "read"},
                    "state": Installation.State.ACTIVE,
                },
            )
        env = {
            **os.environ,
            **gh_env,
            "DATABASE_URL": os.environ["DATABASE_URL"],  # the benchmark's own database
            "CELERY_BROKER_URL": app.conf.broker_url,
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "LOG_LEVEL": "WARNING",
        }
        log_dir = os.environ.get("BENCH_LOG_DIR", "/tmp")
        procs = _start_workers(workers, queue, env, log_dir)
        try:
            for label in ("cold (tokens + summary + budgets)", "next hour", "tokens expired"):
                if label == "tokens expired":
                    cache.clear()  # what an hour does to the cached installation tokens
                since = max((r["seq"] for r in control.requests_log()), default=0)
                first_id = CollectionRun.objects.order_by("-pk").values_list("pk", flat=True)
                floor = first_id.first() or 0
                started = time.perf_counter()
                queued = schedule_current_month()
                runs = CollectionRun.objects.filter(pk__gt=floor)
                _wait_done(runs, procs)
                wall = time.perf_counter() - started
                states = Counter(runs.values_list("state", flat=True))
                calls = Counter(_kind(r) for r in control.requests_log(since))
                items = sum(runs.values_list("items", flat=True))
                results["refreshes"].append(
                    {
                        "label": label,
                        "queued": queued,
                        "wall_s": wall,
                        "states": dict(states),
                        "calls": dict(calls),
                        "items": items,
                    }
                )
        finally:
            for proc, log, _ in procs:
                proc.terminate()
                proc.wait(30)
                log.close()
            app.conf.task_default_queue = "celery"
        Organization.objects.filter(login__startswith="fan-").delete()
    return results


def report(r: dict[str, Any]) -> None:
    orgs = r["orgs"]
    print(f"== fan-out: {orgs} installed orgs refreshed by {r['workers']} worker processes ==")
    first = r["refreshes"][0]
    print(
        f"data: {orgs} orgs x {REPOS} repositories x {SKUS_PER_REPO} SKUs + Copilot, "
        f"{first['items']:,} line items per refresh of the current month"
    )
    for ref in r["refreshes"]:
        calls = ref["calls"]
        total = sum(v for k, v in calls.items() if k != "other")
        per_org = ", ".join(
            f"{k} {calls.get(k, 0) / orgs:.2f}" for k in ("usage", "token", "summary", "budgets")
        )
        print(
            f"refresh {ref['label']:34s}: wall {ref['wall_s']:6.1f} s  "
            f"({orgs / ref['wall_s']:5.1f} orgs/s, {ref['items'] / ref['wall_s']:9,.0f} items/s)"
            f"  calls/org {total / orgs:.2f} ({per_org})  runs {ref['states']}"
        )
    hourly = r["refreshes"][1] if len(r["refreshes"]) > 1 else first
    per_worker = orgs / hourly["wall_s"] / r["workers"] * 3600
    items = hourly["items"] / orgs
    print(
        f"capacity: {per_worker:,.0f} orgs of ~{items:,.0f} items collected per worker per hour "
        f"(the hourly refresh above, on {os.cpu_count()} cores shared with the simulator and "
        f"PostgreSQL; load average {os.getloadavg()[0]:.2f})"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout")
    parser.add_argument("--orgs", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    report(run(args.orgs, args.workers))


if __name__ == "__main__":
    main()
