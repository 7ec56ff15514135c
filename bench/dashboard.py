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
again only when its size or months differ, or with ``--reload`` (`dashboard_org.py`); the
measurements are in `dashboard_measure.py`, the goals and the report here.
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc
from decimal import Decimal
from typing import Any

from . import common
from .common import stats, timed
from .dashboard_measure import measure, pandas_vs_api, shared_cache_costs
from .dashboard_org import GITHUB_ID, LOGIN, bench_months, load_org, owner_client


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
    from usage.periods import month_end

    org, loaded = load_org(items, reload)
    small_org = load_org(small, reload, LOGIN + "-small", GITHUB_ID + 1)[0] if small else None
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
    months = bench_months()
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

    measured = measure([org, *([small_org] if small_org is not None else [])], runs, cold_runs)
    results: dict[str, Any] = {"endpoints": measured[0]}
    if small_org is not None:
        results["small"] = measured[1]
        results["small_items"] = UsageItem.objects.filter(organization=small_org).count()
    results["bare"] = stats(timed(bare, runs))
    client = owner_client(org)
    api = f"/api/orgs/{org.login}/usage?start={start}&end={end}&group_by=product"
    total = client.get(api).json()["total"]["net_amount"]
    results["agree"] = Decimal(total) == bare()
    results["pandas"] = pandas_vs_api(org, client, runs)
    client.get(f"/orgs/{org.login}/?range=12m")
    results["shared"] = shared_cache_costs(org, runs)

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
