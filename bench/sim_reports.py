"""`python -m bench.sim_reports`: how fast the simulator streams GitHub's usage reports.

An org of ``REPORT_BENCH_REPOS`` repositories (default 2,300) x 10 SKUs, every pair used
every day, 40 Copilot seats: its detailed report over the last 30 days has ~1,060,000
rows (~170 MB). Prints rows, megabytes and rows per second of the detailed, summarized
and Copilot reports (through HTTP, from the simulator in its own process), and the
ratio detailed / summarized rows. Needs no database.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date, timedelta

import requests

from bench.common import simulator

REPOS = int(os.environ.get("REPORT_BENCH_REPOS", "2300"))


def fetch(url: str, params: dict[str, str]) -> tuple[int, int, float]:
    """(rows, bytes, seconds) of one streamed report."""
    started = time.perf_counter()
    rows = size = 0
    with requests.get(url, params=params, stream=True, timeout=900) as resp:
        resp.raise_for_status()
        for chunk in resp.iter_content(chunk_size=1 << 16):
            size += len(chunk)
            rows += chunk.count(b"\r\n")
    return rows - 1, size, time.perf_counter() - started


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    with simulator() as (_config, _pem, web_url, control):
        control.create_org(
            "benchcorp",
            repos=REPOS,
            skus_per_repo=10,
            copilot_seats=40,
            created_months_ago=12,
            members={"olivia": "admin"},
        )
        today = date.fromisoformat(control.state()["now"][:10])
        last = today - timedelta(days=1)
        first = last - timedelta(days=29)
        base = f"{web_url}/_sim/orgs/benchcorp/reports"
        # Warm-up: builds the org's plan (not timed).
        fetch(f"{base}/summarized.csv", {"start": str(last), "end": str(last)})
        results = {}
        for kind in ("detailed", "summarized", "copilot"):
            rows, size, seconds = fetch(
                f"{base}/{kind}.csv", {"start": str(first), "end": str(last)}
            )
            results[kind] = rows
            print(
                f"{kind:>10}: {rows:>9,} rows, {size / 1e6:6.1f} MB in {seconds:5.1f} s "
                f"({rows / seconds:,.0f} rows/s, {size / 1e6 / seconds:.1f} MB/s)"
            )
        print(
            f"data: {REPOS} repositories x 10 SKUs + 40 Copilot seats, {first}..{last}; "
            f"detailed / summarized rows = {results['detailed'] / results['summarized']:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
