"""The dashboard benchmark's measurements: server time of each view (cached and after a
data change, the orgs' samples interleaved), the API against pandas, the shared view
cache's cost per hit and per build."""

from __future__ import annotations

import gzip
import os
import statistics
import time
from typing import Any

from .common import stats, timed
from .dashboard_org import bench_months, endpoint_urls, owner_client


def measure(orgs: list[Any], runs: int, cold_runs: int) -> list[dict[str, Any]]:
    """Per org and endpoint: warm median/p95 (the view cached at this data version), and
    the first view after a change (the data version bumped, as a collection does:
    nothing cached; median of `cold_runs`), with its queries and the time they took.
    The orgs' samples are interleaved, so that other work on the machine weighs on
    each org alike (the growth ratio compares them)."""
    from django.db import connection

    from usage.collection.versions import org_data_version_bump

    clients = [owner_client(org) for org in orgs]
    endpoints = [endpoint_urls(org) for org in orgs]
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
                stats=stats(warm[i]),
                cold=statistics.median(cold[i]) * 1000,
                cold_sql=statistics.median(cold_sql[i]) * 1000,
                cpu=statistics.median(cpu_used[i]) * 1000,
                queries=(e.pop("cold_queries"), e.pop("warm_queries")),
            )
    return out


def pandas_vs_api(org: Any, client: Any, runs: int) -> dict[str, Any]:
    """The issue's comparison: product and repository totals of 12 months from the
    JSON API, against pandas reading the exported CSV of the same months and grouping
    (the CSV written to a file first, untimed)."""
    import tempfile

    import pandas as pd

    from usage.periods import month_end

    months = bench_months()
    start, end = months[-1], month_end(months[0])
    response = client.get(f"/orgs/{org.login}/usage.csv?start={start}&end={end}")
    out: dict[str, Any] = {"pandas": pd.__version__}
    with tempfile.NamedTemporaryFile(suffix=".csv") as handle:
        for chunk in response.streaming_content:
            handle.write(chunk)
        handle.flush()
        for key, column in (("product", "product"), ("repository", "repository")):
            api = f"/api/orgs/{org.login}/usage?start={start}&end={end}&group_by={key}"
            api_stats = stats(timed(lambda api=api: client.get(api), runs))

            def frame(column: str = column) -> Any:
                data = pd.read_csv(handle.name, usecols=[column, "net_amount"])
                return data.groupby(column, dropna=False)["net_amount"].sum()

            pandas_s = statistics.median(timed(frame, 3))
            out[key] = (api_stats[0], pandas_s * 1000)
    return out


def shared_cache_costs(org: Any, runs: int) -> dict[str, tuple[float, float, int]]:
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
        gets = timed(lambda backend=backend: backend.get("bench-view-probe"), runs)
        sets = timed(lambda backend=backend: backend.set("bench-view-probe", largest, 60), 10)
        backend.delete("bench-view-probe")
        out[name] = (stats(gets)[0], stats(sets)[0], len(largest))
    return out
