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
import os
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


def _load(
    items: int, reload: bool, login: str = LOGIN, github_id: int = GITHUB_ID
) -> tuple[Any, bool]:
    """The benchmark org, collected (again) from the simulator when needed."""
    from django.db.models import Count, Min

    from accounts.models import Organization
    from usage.collection.collect import org_collect_due
    from usage.collection.services import run_enqueue
    from usage.models import CollectionRun, UsageItem

    months = _months()
    existing = Organization.objects.filter(login=login).first()
    if existing is not None and not reload:
        stored = UsageItem.objects.filter(organization=existing).aggregate(
            n=Count("id"), first=Min("date")
        )
        if items * 0.99 <= stored["n"] <= items * 1.2 and stored["first"] == months[-1]:
            return existing, False
    days = (date.today() - months[-1]).days + 1
    repos = math.ceil(items / (days * SKUS_PER_REPO))
    with common.simulator() as (config, pem, web, control):
        common.apply_settings(common.github_env(config, pem, web))
        info = control.create_org(
            login,
            id=github_id,
            repos=repos,
            skus_per_repo=SKUS_PER_REPO,
            density=1.0,
            created_months_ago=MONTHS + 2,
            copilot_seats=25,
            budgets=BUDGETS,
        )
        org = common.install_org(info, control.install(login), name="Bench Corp")
        for month in months:
            run_enqueue(organization=org, period=month, trigger="backfill", send=False)
        started = time.perf_counter()
        org_collect_due(organization_id=org.pk, holder="bench-dashboard")
        print(f"(loaded {login}: {MONTHS} months in {time.perf_counter() - started:.0f} s)")
        failed = CollectionRun.objects.filter(organization=org).exclude(state="succeeded")
        assert not failed.exists(), list(failed.values_list("error", flat=True))
    return org, True


def _endpoints(org: Any) -> dict[str, str]:
    """The views measured: every dashboard view the issue names, the overview, the API."""
    from usage.models import MonthlyRepositoryUsage
    from usage.reporting.filters import month_end

    months = _months()
    start, end = months[-1], month_end(months[0])
    base = f"/orgs/{org.login}/"
    api = f"/api/orgs/{org.login}/usage?start={start}&end={end}&group_by="
    top = (
        MonthlyRepositoryUsage.objects.filter(organization=org, month=months[0])
        .exclude(repository="")
        .order_by("-net_amount")
        .values_list("repository", "sku")
        .first()
    )
    partial = (
        f"?range=custom&start={months[1] + timedelta(days=14)}&end={months[0] + timedelta(days=9)}"
    )
    return {
        "dashboard: this month (default)": base,
        "dashboard: last month": base + "?range=last_month",
        "dashboard: last 12 months": base + "?range=12m",
        "dashboard: 12 months, product actions": base + "?range=12m&product=actions",
        "dashboard: 12 months, one SKU": base + f"?range=12m&sku={top[1]}",
        "dashboard: 12 months, one repository": base + f"?range=12m&repository={top[0]}",
        "dashboard: custom, partial months": base + partial,
        "overview /orgs/": "/orgs/",
        **{
            f"API group_by={g} (12 months)": api + g
            for g in ("day", "product", "sku", "repository")
        },
    }


def _client(org: Any) -> Any:
    from django.test import Client
    from django.utils import timezone

    from accounts.models import Membership, User

    user, _ = User.objects.get_or_create(username="bench-dashboard-owner")
    Membership.objects.update_or_create(
        user=user,
        organization=org,
        defaults={"role": "owner", "state": "active", "verified_at": timezone.now()},
    )
    client = Client()
    client.force_login(user)
    return client


def _measure(orgs: list[Any], runs: int, cold_runs: int) -> list[dict[str, Any]]:
    """Per org and endpoint: warm median/p95 (the view cached at this data version), and
    the first view after a change (the data version bumped, as a collection does:
    nothing cached; median of `cold_runs`), with its queries and the time they took.
    The orgs' samples are interleaved, so that other work on the machine weighs on
    each org alike (the growth ratio compares them)."""
    from django.db import connection

    from usage.collection.versions import org_data_version_bump

    clients = [_client(org) for org in orgs]
    endpoints = [_endpoints(org) for org in orgs]
    out: list[dict[str, Any]] = [{} for _ in orgs]
    sql: list[float] = []

    def timed_sql(execute, sql_text, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql_text, params, many, context)
        finally:
            sql.append(time.perf_counter() - started)

    def get(i: int, url: str) -> tuple[Any, float]:
        started, cpu = time.perf_counter(), time.process_time()
        response = clients[i].get(url)
        cpu_used[i].append(time.process_time() - cpu)
        return response, time.perf_counter() - started

    for name in endpoints[0]:
        cpu_used: list[list[float]] = [[] for _ in orgs]
        cold: list[list[float]] = [[] for _ in orgs]
        cold_sql: list[list[float]] = [[] for _ in orgs]
        for _ in range(cold_runs):
            for i, org in enumerate(orgs):
                org_data_version_bump(organization=org)
                sql.clear()
                with connection.execute_wrapper(timed_sql):
                    response, seconds = get(i, endpoints[i][name])
                assert response.status_code == 200, (name, response.status_code)
                cold[i].append(seconds)
                cold_sql[i].append(sum(sql))
                out[i][name] = {"cold_queries": len(sql)}
        warm: list[list[float]] = [[] for _ in orgs]
        for i in range(len(orgs)):
            sql.clear()
            with connection.execute_wrapper(timed_sql):
                response, _ = get(i, endpoints[i][name])
            out[i][name].update(
                warm_queries=len(sql),
                bytes=len(response.content),
                gzip=len(gzip.compress(response.content)),
            )
            for _ in range(2):
                get(i, endpoints[i][name])
        for i in range(len(orgs)):
            cpu_used[i].clear()
        for _ in range(runs):
            for i in range(len(orgs)):
                warm[i].append(get(i, endpoints[i][name])[1])
        for i in range(len(orgs)):
            e = out[i][name]
            e.update(
                stats=_stats(warm[i]),
                cold=statistics.median(cold[i]) * 1000,
                cold_sql=statistics.median(cold_sql[i]) * 1000,
                cpu=statistics.median(cpu_used[i]) * 1000,
                queries=(e.pop("cold_queries"), e.pop("warm_queries")),
            )
    return out


def _pandas_vs_api(org: Any, client: Any, runs: int) -> dict[str, Any]:
    """The issue's comparison: product and repository totals of 12 months from the
    JSON API, against pandas reading the exported CSV of the same months and grouping
    (the CSV written to a file first, untimed)."""
    import tempfile

    import pandas as pd

    from usage.reporting.filters import month_end

    months = _months()
    start, end = months[-1], month_end(months[0])
    response = client.get(f"/orgs/{org.login}/usage.csv?start={start}&end={end}")
    out: dict[str, Any] = {"pandas": pd.__version__}
    with tempfile.NamedTemporaryFile(suffix=".csv") as handle:
        for chunk in response.streaming_content:
            handle.write(chunk)
        handle.flush()
        for key, column in (("product", "product"), ("repository", "repository")):
            api = f"/api/orgs/{org.login}/usage?start={start}&end={end}&group_by={key}"
            api_stats = _stats(_timed(lambda api=api: client.get(api), runs))

            def frame(column: str = column) -> Any:
                data = pd.read_csv(handle.name, usecols=[column, "net_amount"])
                return data.groupby(column, dropna=False)["net_amount"].sum()

            pandas_s = statistics.median(_timed(frame, 3))
            out[key] = (api_stats[0], pandas_s * 1000)
    return out


def _shared_cache_costs(org: Any, runs: int) -> dict[str, tuple[float, float, int]]:
    """What the shared tier costs per hit (get) and per build (set), for the largest
    cached view (the 12-month dashboard's entry): the database cache table against Redis
    (``REDIS_URL``, when it answers). The in-process tier answers without either."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    from usage.reporting import cache as view_cache

    snap = view_cache.snapshot(org)
    largest = max(
        (v for k, v in view_cache._local.entries.items() if f":{snap.organization_id}:" in k),
        key=len,
        default=b"x" * 200_000,
    )
    backends: dict[str, Any] = {"database cache table": caches["default"]}
    if os.environ.get("REDIS_URL"):
        backends["Redis"] = RedisCache(os.environ["REDIS_URL"], {})
    out = {}
    for name, backend in backends.items():
        try:
            backend.set("bench-view-probe", largest, 60)
        except Exception as exc:
            print(f"(shared cache {name} unavailable: {exc})")
            continue
        gets = _timed(lambda backend=backend: backend.get("bench-view-probe"), runs)
        sets = _timed(lambda backend=backend: backend.set("bench-view-probe", largest, 60), 10)
        backend.delete("bench-view-probe")
        out[name] = (_stats(gets)[0], _stats(sets)[0], len(largest))
    return out


def run(
    items: int = 1_000_000,
    runs: int = 30,
    reload: bool = False,
    small: int = 100_000,
    cold_runs: int = 5,
) -> dict[str, Any]:
    common.setup_django()
    from django.conf import settings
    from django.db import connection

    from usage.models import DailyUsage, MonthlyRepositoryUsage, UsageItem
    from usage.reporting.filters import month_end

    org, loaded = _load(items, reload)
    small_org = _load(small, reload, LOGIN + "-small", GITHUB_ID + 1)[0] if small else None
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

    measured = _measure([org, *([small_org] if small_org is not None else [])], runs, cold_runs)
    results: dict[str, Any] = {"endpoints": measured[0]}
    if small_org is not None:
        results["small"] = measured[1]
        results["small_items"] = UsageItem.objects.filter(organization=small_org).count()
    results["bare"] = _stats(_timed(bare, runs))
    client = _client(org)
    api = f"/api/orgs/{org.login}/usage?start={start}&end={end}&group_by=product"
    total = client.get(api).json()["total"]["net_amount"]
    results["agree"] = Decimal(total) == bare()
    results["pandas"] = _pandas_vs_api(org, client, runs)
    client.get(f"/orgs/{org.login}/?range=12m")
    results["shared"] = _shared_cache_costs(org, runs)

    def export() -> int:
        response = client.get(f"/orgs/{org.login}/usage.csv?range=12m")
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
        cache=settings.CACHES[getattr(settings, "USAGE_VIEW_CACHE", "default")]["BACKEND"],
        items=n_items,
        loaded=loaded,
        daily_rows=DailyUsage.objects.filter(organization=org).count(),
        repo_rows=MonthlyRepositoryUsage.objects.filter(organization=org).count(),
        span=(start, end),
        vacuum_s=vacuum_s,
        runs=runs,
        cold_runs=cold_runs,
        csv=(rows, csv_s, peak / 2**20),
        load=os.getloadavg(),
    )
    return results


GOAL_WARM_MS = 50.0
GOAL_COLD_MS = 150.0
GOAL_GROWTH = 1.2
GOAL_PANDAS = 30.0


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(r: dict[str, Any]) -> None:
    print("== dashboard: one org, 12 months of usage, server time per request ==")
    print(
        f"data: {r['items']:,} line items {r['span'][0]} .. {r['span'][1]}, rollups "
        f"{r['daily_rows']:,} daily + {r['repo_rows']:,} repository-month rows, database "
        f"{r['vendor']}{'' if r['loaded'] else ' (org kept from an earlier run)'}; shared view "
        f"cache {r['cache'].rsplit('.', 1)[-1]}; {r['runs']} runs each after 3 warm-ups "
        f"(VACUUM ANALYZE, and VACUUM FULL of the rollups, first: {r['vacuum_s']:.0f} s); "
        f"machine load average {r['load'][0]:.2f} {r['load'][1]:.2f} {r['load'][2]:.2f}"
    )
    print(
        f"'after change': the first request after the org's data version was bumped (what a "
        f"collection does), nothing cached; median of {r['cold_runs']}, with its SQL time"
    )
    bare_median, bare_p95 = r["bare"]
    small = r.get("small", {})
    head = ("request", "median", "p95", "CPU", "after change", "(SQL)", "queries", "HTML", "gzip")
    print("{:40s} {:>8s} {:>8s} {:>7s} {:>12s} {:>8s} {:>7s} {:>8s} {:>7s}".format(*head), end="")
    print(f" {'100k median':>11s} {'growth':>6s}" if small else "")
    for name, e in r["endpoints"].items():
        median, p95 = e["stats"]
        line = (
            f"{name:40s} {median:6.1f}ms {p95:6.1f}ms {e['cpu']:5.1f}ms {e['cold']:10.1f}ms "
            f"{e['cold_sql']:6.1f}ms "
            f"{e['queries'][0]:3d}/{e['queries'][1]:<3d} {e['bytes'] / 1024:6.1f}KB "
            f"{e['gzip'] / 1024:5.1f}KB"
        )
        if name in small:
            line += f" {small[name]['stats'][0]:9.1f}ms {median / small[name]['stats'][0]:5.2f}x"
        print(line)
    print(
        "(CPU: this process's CPU time per cached request, median, which other work on the "
        "machine disturbs far less than the wall time; queries: after a change / cached)"
    )
    print(f"{'bare SELECT sum(net_amount), same rows':40s} {bare_median:6.1f}ms {bare_p95:6.1f}ms")
    print(f"API total = bare sum, to the last decimal: {'yes' if r['agree'] else 'NO'}")
    rows, seconds, peak = r["csv"]
    print(
        f"CSV export of the 12 months: {rows:,} rows in {seconds:.1f} s "
        f"({rows / seconds:,.0f} rows/s), Python memory peak {peak:.1f} MiB (streamed)"
    )
    pandas = r["pandas"]
    for key in ("product", "repository"):
        api_ms, pandas_ms = pandas[key]
        print(
            f"{key} totals of 12 months: API {api_ms:.1f} ms, pandas {pandas['pandas']} "
            f"read_csv + groupby over the exported CSV {pandas_ms:.0f} ms: "
            f"{pandas_ms / api_ms:.0f}x (goal >= {GOAL_PANDAS:.0f}x "
            f"{_met(pandas_ms / api_ms >= GOAL_PANDAS)})"
        )
    for name, (get_ms, set_ms, size) in r["shared"].items():
        print(
            f"shared view cache, {name}: get {get_ms:.2f} ms, set {set_ms:.2f} ms for the "
            f"12-month dashboard's entry ({size / 1024:.0f} KB pickled)"
        )
    views = {k: e for k, e in r["endpoints"].items() if k.startswith("dashboard")}
    worst_warm = max(views.items(), key=lambda kv: kv[1]["stats"][0])
    worst_cold = max(views.items(), key=lambda kv: kv[1]["cold"])
    print(
        f"goal, every dashboard view median < {GOAL_WARM_MS:.0f} ms at {r['items']:,} items: "
        f"slowest {worst_warm[0]} {worst_warm[1]['stats'][0]:.1f} ms "
        f"{_met(worst_warm[1]['stats'][0] < GOAL_WARM_MS)}"
    )
    print(
        f"goal, first view after a change < {GOAL_COLD_MS:.0f} ms: slowest {worst_cold[0]} "
        f"{worst_cold[1]['cold']:.1f} ms {_met(worst_cold[1]['cold'] < GOAL_COLD_MS)}"
    )
    if small:
        growth = {k: e["stats"][0] / small[k]["stats"][0] for k, e in views.items() if k in small}
        worst = max(growth.items(), key=lambda kv: kv[1])
        cold = {k: e["cold"] / small[k]["cold"] for k, e in views.items() if k in small}
        worst_c = max(cold.items(), key=lambda kv: kv[1])
        print(
            f"goal, growth {r['small_items']:,} -> {r['items']:,} items <= {GOAL_GROWTH}x "
            f"(medians): largest {worst[0]} {worst[1]:.2f}x {_met(worst[1] <= GOAL_GROWTH)}; "
            f"first view after a change grows {worst_c[1]:.2f}x at most ({worst_c[0]})"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard")
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reload", action="store_true")
    parser.add_argument("--small", type=int, default=100_000, help="growth: 0 to skip")
    parser.add_argument("--cold-runs", type=int, default=5)
    args = parser.parse_args(argv)
    report(run(args.items, args.runs, args.reload, args.small, args.cold_runs))


if __name__ == "__main__":
    main()
