"""`python -m bench` (`make bench`): every benchmark, one after the other.

Needs PostgreSQL (``BENCH_DATABASE_URL``, default a ``billingdash_bench`` database on
127.0.0.1, created and migrated) and Redis (``REDIS_URL``) for the fan-out's workers.
Each benchmark prints its data size and a ratio measured in the same run.
"""

from __future__ import annotations

import sys
import time

from . import copilot, dashboard, fanout, imports, ingest, ops_page


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    started = time.perf_counter()
    ingest.report(ingest.run())
    print()
    fanout.report(fanout.run())
    print()
    dashboard.report(dashboard.run())
    print()
    ops_page.report(ops_page.run())
    print()
    copilot.report(copilot.run())
    print()
    imports.report(imports.run())
    print(f"\nbenchmarks done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
