"""What `python -m bench.load` prints: one table per step (requests/s, median, p99 and
errors per endpoint and in total, whole downloads apart, the CPU each party used), then
the summary of every step and the highest rate that met the goal (0 errors, p99 under
1 s). The figures come from ``bench/locustfile.py`` and `bench.load.run_step`.
"""

from __future__ import annotations

from typing import Any

GOAL_P99_MS = 1000.0


def _row(name: str, s: dict[str, Any]) -> str:
    return (
        f"  {name:42s} {s['n']:6,d} {s['rps']:7.1f} {s['median']:7.0f}ms {s['p99']:7.0f}ms "
        f"{s['errors']:6d}"
    )


def report_step(step: dict[str, Any], cores: int) -> None:
    step["cores"] = cores
    print(
        f"\n-- step: {step['users']} browsing users (no think time) + 1 webhook sender + "
        f"1 year exporter, {step['seconds']:.0f} s --"
    )
    print(f"  {'endpoint':42s} {'reqs':>6s} {'req/s':>7s} {'median':>9s} {'p99':>9s} errors")
    for name, s in step["endpoints"].items():
        print(_row(name, s))
    print(_row("TOTAL", step["total"]))
    for name, s in step["downloads"].items():
        mib = s["bytes"] / max(1, s["n"]) / 2**20
        print(
            f"  {name}: {s['n']} x {mib:.1f} MiB, median {s['median'] / 1000:.1f} s "
            f"({mib / max(0.001, s['median'] / 1000):.0f} MiB/s), errors {s['errors']}"
        )
    pct = {k: 100 * v / step["wall"] for k, v in step["cpu"].items()}
    rest = max(0.0, pct["all"] - pct["gunicorn"] - pct["postgres"] - pct["locust"])
    print(
        f"  CPU ({cores * 100}% = {cores} cores): gunicorn {pct['gunicorn']:.0f}%, PostgreSQL "
        f"(this database) {pct['postgres']:.0f}%, locust {pct['locust']:.0f}%, "
        f"everything else on the machine {rest:.0f}%; load average (1 min) at the end "
        f"{step['load'][0]:.2f}"
    )
    n = max(1, step["total"]["n"])
    server_ms = (step["cpu"]["gunicorn"] + step["cpu"]["postgres"]) / n * 1000
    locust_ms = step["cpu"]["locust"] / n * 1000
    print(
        f"  CPU per request (webhooks and CSVs included): gunicorn + PostgreSQL "
        f"{server_ms:.1f} ms, locust {locust_ms:.1f} ms: the {cores} cores alone would carry "
        f"about {cores * 1000 / max(0.1, server_ms + locust_ms):.0f} requests/s of this mix"
    )
    for line in step["error_samples"]:
        print(f"  error: {line}")
    if step["server_errors"]:
        print(f"  gunicorn log: {step['server_errors']}")


def conclude(steps: list[dict[str, Any]]) -> None:
    print("\n== summary: every request (pages, API, webhooks, CSV first byte) ==")
    print(f"  {'users':>5s} {'req/s':>7s} {'median':>9s} {'p99':>9s} {'errors':>6s}  goal")
    best = None
    for step in steps:
        t = step["total"]
        errors = t["errors"] + sum(d["errors"] for d in step["downloads"].values())
        ok = errors == 0 and t["p99"] < GOAL_P99_MS and not step["server_errors"]
        step["ok"] = ok
        if ok and (best is None or t["rps"] > best["total"]["rps"]):
            best = step
        print(
            f"  {step['users']:5d} {t['rps']:7.1f} {t['median']:7.0f}ms {t['p99']:7.0f}ms "
            f"{errors:6d}  {'met' if ok else 'missed'}"
        )
    missed = [s for s in steps if not s["ok"] and best is not None and s["users"] > best["users"]]
    if best is not None and missed:
        print(
            f"knee: between {best['users']} and {missed[0]['users']} browsing users "
            f"({best['total']['rps']:.0f} -> {missed[0]['total']['rps']:.0f} requests/s; "
            f"p99 {best['total']['p99']:.0f} -> {missed[0]['total']['p99']:.0f} ms)"
        )
    elif best is not None:
        print(f"knee: not reached; every step up to {steps[-1]['users']} users met the goal")
    _projection(steps)
    if best is None:
        print("sustained rate: no step had 0 errors and p99 < 1 s")
        return
    t = best["total"]
    print(
        f"sustained rate: {t['rps']:.0f} requests/s ({best['users']} browsing users; median "
        f"{t['median']:.0f} ms, p99 {t['p99']:.0f} ms, 0 errors): the highest step with 0 "
        "errors and p99 < 1 s"
    )
    print(
        f"goal, >= 100 requests/s with p99 < 1 s and 0 errors: "
        f"{'met' if t['rps'] >= 100 else 'MISSED'} ({t['rps']:.0f} requests/s)"
    )


def _projection(steps: list[dict[str, Any]]) -> None:
    """The server's CPU per second against the requests per second, fitted over the
    steps (least squares): a fixed part (the year CSV, the webhooks) and a part per
    request; what the cores would carry if nothing else ran. An estimate for a busy
    machine, where the measured rate says more about the neighbours than about us."""
    parties = ("gunicorn", "postgres", "locust")
    points = [(s["total"]["rps"], sum(s["cpu"][k] for k in parties) / s["wall"]) for s in steps]
    if len(points) < 3:
        return
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    if var <= 0:
        return
    per_request = sum((x - mean_x) * (y - mean_y) for x, y in points) / var
    fixed = mean_y - per_request * mean_x
    cores = steps[0].get("cores", 2)
    if per_request <= 0:
        print("projection: the steps' CPU does not grow with their rate (too noisy to fit)")
        return
    print(
        f"projection (fit over the steps): {per_request * 1000:.1f} ms of CPU per request "
        f"(gunicorn + PostgreSQL + locust) plus {fixed:.2f} cores of fixed work (the year "
        f"CSV, webhooks): {cores} cores alone would carry about "
        f"{max(0.0, cores - fixed) / per_request:.0f} requests/s of this mix"
    )
