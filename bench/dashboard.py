"""Dashboard benchmark: one org with ~1,000,000 usage line items over 12 months (this
month and the 11 before), collected from the simulator (a separate process) with the
collection code itself; then the server time of the dashboard page, the overview and
each JSON endpoint (median and p95, Django's full request path in-process: middleware,
session, access check, queries, figures, template), next to a bare
``SELECT sum(net_amount)`` over the same rows, measured in the same run. Also the page's
weight (HTML with the chart data; plotly.js is a cached static file) and the CSV export
of all the rows (streamed; rows/s and the Python memory it peaks at).

    python -m bench.dashboard [--items 1000000] [--runs 30] [--reload]

The org is kept between runs (``bench-dashboard`` in the benchmark database) and loaded
again only when its size or months differ, or with ``--reload``.
"""

from __future__ import annotations

import argparse
import gzip
import math
import statistics
import time
import tracemalloc
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from . import common

LOGIN = "bench-dashboard"
SKUS_PER_REPO = 10
MONTHS = 12
BUDGETS = 5
# Our own GitHub id for the org, so it never collides with another benchmark's orgs in
# the shared benchmark database.
GITHUB_ID = 7_990_001


def _months() -> list[date]:
    from usage import periods

    return periods.last_months(MONTHS)


def _stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered) * 1000, p95 * 1000


def _timed(call: Callable[[], Any], runs: int) -> list[float]:
    for _ in range(3):  # warm caches (plans, templates, connection)
        call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def _load(items: int, reload: bool) -> Any:
    """The benchmark org, collected (again) from the simulator when needed."""
    from django.db.models import Count, Min

    from accounts.models import Organization
    from usage.collection.collect import org_collect_due
    from usage.collection.services import run_enqueue
    from usage.models import CollectionRun, UsageItem

    months = _months()
    existing = Organization.objects.filter(login=LOGIN).first()
    if existing is not None and not reload:
        stored = UsageItem.objects.filter(organization=existing).aggregate(
            n=Count("id"), first=Min("date")
        )
        if stored["n"] >= items * 0.99 and stored["first"] == months[-1]:
            return existing, False
    days = (date.today() - months[-1]).days + 1
    repos = math.ceil(items / (days * SKUS_PER_REPO))
    with common.simulator() as (config, pem, web, control):
        common.apply_settings(common.github_env(config, pem, web))
        info = control.create_org(
            LOGIN,
            id=GITHUB_ID,
            repos=repos,
            skus_per_repo=SKUS_PER_REPO,
            density=1.0,
            created_months_ago=MONTHS + 2,
            copilot_seats=25,
            budgets=BUDGETS,
        )
        org = common.install_org(info, control.install(LOGIN), name="Bench Corp")
        for month in months:
            run_enqueue(organization=org, period=month, trigger="backfill", send=False)
        started = time.perf_counter()
        org_collect_due(organization_id=org.pk, holder="bench-dashboard")
        print(f"(loaded {MONTHS} months in {time.perf_counter() - started:.0f} s)")
        failed = CollectionRun.objects.filter(organization=org).exclude(state="succeeded")
        assert not failed.exists(), list(failed.values_list("error", flat=True))
    return org, True


def run(items: int = 1_000_000, runs: int = 30, reload: bool = False) -> dict[str, Any]:
    common.setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from accounts.models import Membership, User
    from usage.models import DailyUsage, MonthlyRepositoryUsage, UsageItem
    from usage.reporting.filters import month_end

    org, loaded = _load(items, reload)
    started = time.perf_counter()
    # What autovacuum does in production after a bulk load: fresh planner statistics,
    # dead rows of replaced months (and of other benchmarks' orgs) reclaimed.
    common.vacuum("usage_dailyusage", "usage_monthlyrepositoryusage", "usage_usageitem")
    # The rollups are small, but the fan-out benchmark (same database) leaves them
    # mostly empty pages once its 500 orgs are gone, which makes a sequential scan
    # read 100+ MB for a few thousand rows: compact them, as a table that holds only
    # this org would be.
    common.vacuum("usage_dailyusage", "usage_monthlyrepositoryusage", full=True)
    vacuum_s = time.perf_counter() - started
    settings.DEBUG = False  # no query log: what production runs
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.MEMBERSHIP_TTL_SECONDS = 24 * 3600
    user, _ = User.objects.get_or_create(username="bench-dashboard-owner")
    Membership.objects.update_or_create(
        user=user,
        organization=org,
        defaults={"role": "owner", "state": "active", "verified_at": timezone.now()},
    )
    client = Client()
    client.force_login(user)
    months = _months()
    start, end = months[-1], month_end(months[0])
    n_items = UsageItem.objects.filter(organization=org).count()

    def bare() -> Any:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT sum(net_amount) FROM usage_usageitem "
                "WHERE organization_id = %s AND date >= %s AND date <= %s",
                [org.pk, start, end],
            )
            return cursor.fetchone()[0]

    base = f"/orgs/{LOGIN}/"
    api = f"/api/orgs/{LOGIN}/usage?start={start}&end={end}&group_by="
    top_repo = (
        MonthlyRepositoryUsage.objects.filter(organization=org, month=months[0])
        .exclude(repository="")
        .order_by("-net_amount")
        .values_list("repository", flat=True)
        .first()
    )
    partial = (
        f"?range=custom&start={months[1] + timedelta(days=14)}&end={months[0] + timedelta(days=9)}"
    )
    endpoints = {
        "dashboard (this month, default)": base,
        "dashboard (last 12 months)": base + "?range=12m",
        "dashboard (12 months, one repository)": base + f"?range=12m&repository={top_repo}",
        "dashboard (custom, partial months)": base + partial,
        "overview /orgs/": "/orgs/",
        **{
            f"API group_by={g} (12 months)": api + g
            for g in ("day", "product", "sku", "repository")
        },
    }
    results: dict[str, Any] = {"endpoints": {}}
    for name, url in endpoints.items():
        queries: list[str] = []

        def count(execute, sql, params, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        samples = _timed(lambda url=url: client.get(url), runs)
        size = len(response.content)
        results["endpoints"][name] = {
            "stats": _stats(samples),
            "queries": len(queries),
            "bytes": size,
            "gzip": len(gzip.compress(response.content)),
        }
    results["bare"] = _stats(_timed(bare, runs))
    total = client.get(api + "product").json()["total"]["net_amount"]
    results["agree"] = Decimal(total) == bare()

    def export() -> int:
        response = client.get(f"/orgs/{LOGIN}/usage.csv?range=12m")
        return sum(chunk.count(b"\n") for chunk in response.streaming_content) - 1

    started = time.perf_counter()
    rows = export()
    csv_s = time.perf_counter() - started
    tracemalloc.start()  # a second pass for memory (tracemalloc slows Python down)
    export()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    results.update(
        vendor=connection.vendor,
        items=n_items,
        loaded=loaded,
        daily_rows=DailyUsage.objects.filter(organization=org).count(),
        repo_rows=MonthlyRepositoryUsage.objects.filter(organization=org).count(),
        span=(start, end),
        vacuum_s=vacuum_s,
        runs=runs,
        csv=(rows, csv_s, peak / 2**20),
    )
    return results


def report(r: dict[str, Any]) -> None:
    print("== dashboard: one org, 12 months of usage, server time per request ==")
    print(
        f"data: {r['items']:,} line items {r['span'][0]} .. {r['span'][1]}, rollups "
        f"{r['daily_rows']:,} daily + {r['repo_rows']:,} repository-month rows, database "
        f"{r['vendor']}{'' if r['loaded'] else ' (org kept from an earlier run)'}; "
        f"{r['runs']} runs each after 3 warm-ups (VACUUM ANALYZE, and VACUUM FULL of the "
        f"rollups, first: {r['vacuum_s']:.0f} s)"
    )
    bare_median, bare_p95 = r["bare"]
    head = ("request", "median", "p95", "x bare", "queries", "HTML", "gzip")
    print("{:42s} {:>8s} {:>8s} {:>7s} {:>7s} {:>9s} {:>8s}".format(*head))
    for name, e in r["endpoints"].items():
        median, p95 = e["stats"]
        print(
            f"{name:42s} {median:6.1f}ms {p95:6.1f}ms {median / bare_median:6.2f}x "
            f"{e['queries']:7d} {e['bytes'] / 1024:7.1f}KB {e['gzip'] / 1024:6.1f}KB"
        )
    print(f"{'bare SELECT sum(net_amount), same rows':42s} {bare_median:6.1f}ms {bare_p95:6.1f}ms")
    print(f"API total = bare sum, to the last decimal: {'yes' if r['agree'] else 'NO'}")
    rows, seconds, peak = r["csv"]
    print(
        f"CSV export of the 12 months: {rows:,} rows in {seconds:.1f} s "
        f"({rows / seconds:,.0f} rows/s), Python memory peak {peak:.1f} MiB (streamed)"
    )
    default = r["endpoints"]["dashboard (this month, default)"]
    year = r["endpoints"]["dashboard (last 12 months)"]
    for label, e in (("default", default), ("12 months", year)):
        median = e["stats"][0]
        print(
            f"goal, dashboard {label}: median {median:.1f} ms < 100 ms "
            f"{'met' if median < 100 else 'MISSED'}; {median / bare_median:.2f}x bare <= 3x "
            f"{'met' if median <= 3 * bare_median else 'MISSED'}; HTML+chart data "
            f"{e['bytes'] / 1024:.0f} KB < 300 KB {'met' if e['bytes'] < 300 * 1024 else 'MISSED'}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard")
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reload", action="store_true")
    args = parser.parse_args(argv)
    report(run(args.items, args.runs, args.reload))


if __name__ == "__main__":
    main()
