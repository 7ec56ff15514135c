"""Importer benchmark: a 1,000,000-row detailed usage report (GitHub's format: BOM, CRLF,
every value quoted, long float texts), imported by `usage.imports` exactly as the Celery
task does (parse, spool per month, COPY into `ReportItem`, the month's `UsageItem` and
rollups rebuilt through `month_replace`), next to a raw ``COPY`` of the same rows into
a bare table, measured in the same run. Prints rows/s, the importer's peak memory (the
process's peak RSS over the import, above what it held before) and data sizes.

The file is written (untimed) by a child process, ~2,000 repositories x 10 SKUs x 30
days x 1-2 users/workflows, from a seed; its rows are as GitHub words them.

    python -m bench.imports [--rows 1000000]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from . import common

SKUS = (
    ("actions", "actions_linux", "minutes", "0.006"),
    ("actions", "actions_linux_4_core", "minutes", "0.012"),
    ("actions", "actions_windows", "minutes", "0.01"),
    ("actions", "actions_macos", "minutes", "0.062"),
    ("actions", "actions_storage", "gigabyte-hours", "0.00033602"),
    ("packages", "packages_storage", "gigabyte-hours", "0.00033602"),
    ("packages", "packages_bandwidth", "gigabytes", "0.5"),
    ("git_lfs", "git_lfs_storage", "gigabyte-hours", "0.0000958904"),
    ("codespaces", "codespaces_compute_d2", "hours", "0.18"),
    ("codespaces", "codespaces_storage", "gigabyte-hours", "0.0000958904"),
)
HEADER = [
    *("date", "product", "sku", "quantity", "unit_type", "applied_cost_per_quantity"),
    *("gross_amount", "discount_amount", "net_amount", "username", "organization"),
    *("repository", "workflow_path", "cost_center_name"),
]
LOGIN = "benchimports"
FIRST = date(2026, 10, 17)  # 30 days straddling two months, as real detailed reports do


def write_report(path: str, rows: int) -> None:
    """The report file (run in a child process: its memory is not the importer's)."""
    rng = random.Random(15)
    users = [f"dev-{i:03d}" for i in range(300)]
    workflows = [".github/workflows/ci.yml", ".github/workflows/release.yml", ""]
    repos = max(1, -(-rows // (30 * len(SKUS) * 2)))  # enough; stops at `rows`
    written = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("\ufeff" + ",".join(f'"{h}"' for h in HEADER) + "\r\n")
        for d in range(30):
            day = (FIRST + timedelta(days=d)).isoformat()
            for r in range(repos):
                for product, sku, unit, price in SKUS:
                    for part in range(2):
                        if written >= rows:
                            return
                        q = rng.randint(1, 400) / (10 if unit != "minutes" else 1)
                        gross = q * float(price)
                        disc = gross if part == 0 and rng.random() < 0.2 else 0.0
                        workflow = workflows[part] if product == "actions" else ""
                        out.write(
                            f'"{day}","{product}","{sku}","{q!r}","{unit}","{price}",'
                            f'"{gross!r}","{disc!r}","{gross - disc!r}",'
                            f'"{rng.choice(users)}","{LOGIN}","service-{r:05d}",'
                            f'"{workflow}",""\r\n'
                        )
                        written += 1


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _size(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        # The items table is partitioned: its size is its partitions'.
        cursor.execute(
            "SELECT COALESCE((SELECT sum(pg_total_relation_size(relid)) "
            "FROM pg_partition_tree(%s::regclass)), pg_total_relation_size(%s))",
            [table, table],
        )
        return int(cursor.fetchone()[0])


def run(rows: int = 1_000_000) -> dict[str, float]:
    common.setup_django()
    from django.db import connection

    from accounts.models import Organization, User
    from usage.imports.kinds import kind_named
    from usage.imports.spool import COLUMNS, ITEM_TABLE, read_report
    from usage.models import DailyUsage, ReportImport, ReportItem, UsageItem

    folder = Path(tempfile.mkdtemp(prefix="bench-imports-"))
    path = str(folder / "detailed.csv")
    started = time.perf_counter()
    code = f"from bench.imports import write_report; write_report({path!r}, {rows})"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=common.ROOT)
    print(f"report written in {time.perf_counter() - started:.0f} s (untimed)")
    size = os.path.getsize(path)

    org, _ = Organization.objects.get_or_create(
        github_id=99_015_015, defaults={"login": LOGIN, "name": "Bench imports"}
    )
    user, _ = User.objects.get_or_create(username="bench-imports")
    for model in (ReportItem, UsageItem, DailyUsage):
        model.objects.filter(organization=org)._raw_delete(using="default")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE usage_reportitem")
        cursor.execute("VACUUM ANALYZE usage_usageitem")
    report_import = ReportImport.objects.create(
        organization=org, kind="detailed", uploaded_by=user, verified=True,
        file_name="detailed.csv", size=size, sha256="0" * 64, path=path,
    )  # fmt: skip

    # The importer, timed: read + spool, then apply (COPY + month rebuild).
    kind = kind_named("detailed")
    assert kind is not None
    before_mb = _peak_mb()
    marks: dict[str, float] = {}

    def progress(percent: int) -> None:
        if percent >= 92 and "read" not in marks:
            marks["read"] = time.perf_counter()
        if percent >= 96 and "copied" not in marks:
            marks["copied"] = time.perf_counter()

    started = time.perf_counter()
    outcome = kind.run(report_import=report_import, path=path, progress=progress)
    elapsed = time.perf_counter() - started
    peak_mb = _peak_mb()
    assert outcome.rows == rows and not outcome.errors, (outcome.rows, outcome.errors[:3])
    read_s = marks.get("read", started) - started
    copy_s = marks.get("copied", started) - marks.get("read", started)

    # A raw COPY of the same rows (already formatted, untimed) into a bare table.
    spool, _ = read_report(report_import, path, lambda _p: None)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_report_raw")
        # The same columns, no key, no index, no constraint: the floor for these rows.
        cursor.execute(f"CREATE TABLE bench_report_raw (LIKE {ITEM_TABLE})")
        cursor.execute("ALTER TABLE bench_report_raw DROP COLUMN id")
    columns = ", ".join(COLUMNS)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for handle in spool.files.values():
            handle.seek(0)
            with cursor.cursor.copy(f"COPY bench_report_raw ({columns}) FROM STDIN") as copy:
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
    raw_s = time.perf_counter() - started
    spool.close()
    result = {
        "rows": rows,
        "file_mb": size / 1e6,
        "import_s": elapsed,
        "read_s": read_s,
        "apply_s": elapsed - read_s,
        "copy_s": copy_s,
        "rows_per_s": rows / elapsed,
        "raw_copy_s": raw_s,
        "raw_rows_per_s": rows / raw_s,
        "peak_mb": peak_mb,
        "before_mb": before_mb,
        "items_mb": _size(ITEM_TABLE) / 1e6,
        "raw_mb": _size("bench_report_raw") / 1e6,
        "usage_items": UsageItem.objects.filter(organization=org).count(),
        "months": len(outcome.months),
    }
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_report_raw")
    os.remove(path)
    folder.rmdir()
    return result


def report(r: dict[str, float]) -> None:
    print("imports: a detailed usage report (GitHub's CSV format) into ReportItem + rollups")
    print(
        f"  data: {r['rows']:,.0f} rows, {r['file_mb']:.0f} MB file, {r['months']:.0f} months; "
        f"usage_reportitem {r['items_mb']:.0f} MB on disk, "
        f"{r['usage_items']:,.0f} summed items rebuilt into usage_usageitem"
    )
    print(
        f"  importer: {r['import_s']:.1f} s = {r['rows_per_s']:,.0f} rows/s "
        f"(read+parse+spool {r['read_s']:.1f} s; apply {r['apply_s']:.1f} s: COPY into "
        f"ReportItem {r['copy_s']:.1f} s, items and rollups rebuilt "
        f"{r['apply_s'] - r['copy_s']:.1f} s)"
    )
    print(
        f"  raw COPY of the same rows into a bare table: {r['raw_copy_s']:.1f} s = "
        f"{r['raw_rows_per_s']:,.0f} rows/s; importer / raw COPY = "
        f"{r['import_s'] / r['raw_copy_s']:.1f}x"
    )
    print(
        f"  peak memory (process RSS): {r['peak_mb']:.0f} MB, "
        f"{r['peak_mb'] - r['before_mb']:.0f} MB above the {r['before_mb']:.0f} MB before"
    )


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    report(run(parser.parse_args().rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
