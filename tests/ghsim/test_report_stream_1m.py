"""A detailed usage report of more than 1,000,000 rows is streamed, never held in memory.

The simulator runs as `python -m ghsim` in its own process (sharing this run's clock) so
its peak memory (VmHWM) can be read from /proc. No timing assertions: the rate is printed.
"""

from __future__ import annotations

import os
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from ghsim.clock import parse_iso
from ghsim.config import SimConfig
from tests.clock import command
from tests.ghsim.test_stream_1m import REPO_ROOT, free_port, memory_kb

REPOS, SKUS, DAYS = 2300, 10, 30  # ~1.6 detailed rows per usage item


@pytest.fixture
def server_process():
    """`python -m ghsim` on this run's clock (TEST_TODAY moves it too)."""
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc to read the server's memory")
    config, private_key = SimConfig.generate()
    port = free_port()
    env = dict(
        os.environ,
        GITHUB_APP_ID=str(config.app_id),
        GITHUB_APP_SLUG=config.app_slug,
        GITHUB_APP_CLIENT_ID=config.app_client_id,
        GITHUB_APP_CLIENT_SECRET=config.app_client_secret,
        GITHUB_APP_PRIVATE_KEY=private_key,
        GITHUB_WEBHOOK_SECRET=config.webhook_secret,
        SIM_SEED="3",
    )
    proc = subprocess.Popen(
        command("ghsim", "--port", str(port), "--quiet"),
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(base + "/_sim/state", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("python -m ghsim did not start")
    yield proc, base
    proc.terminate()
    proc.wait(timeout=10)


def test_one_million_row_detailed_report_is_streamed(server_process):
    proc, base = server_process
    created = requests.post(
        base + "/_sim/orgs",
        json={
            "login": "megacorp",
            "repos": REPOS,
            "skus_per_repo": SKUS,
            "copilot_seats": 40,
            "created_months_ago": 12,
            "members": {"olivia": "admin"},
        },
        timeout=60,
    )
    assert created.status_code == 201, created.text
    now = parse_iso(requests.get(base + "/_sim/state", timeout=10).json()["now"])
    last = now.date() - timedelta(days=1)
    first = last - timedelta(days=DAYS - 1)
    url = base + "/_sim/orgs/megacorp/reports/detailed.csv"
    # Warm up (builds the org's plan) so the baseline includes it.
    warm = requests.get(url, params={"start": last, "end": last}, timeout=60)
    assert warm.status_code == 200
    baseline = memory_kb(proc.pid, "VmRSS")

    started = time.monotonic()
    total = rows = 0
    head = tail = b""
    with requests.get(url, params={"start": first, "end": last}, stream=True, timeout=600) as resp:
        assert resp.status_code == 200
        assert "Content-Length" not in resp.headers  # chunked: streamed
        for chunk in resp.iter_content(chunk_size=1 << 16):
            if len(head) < 300:
                head += chunk[:300]
            total += len(chunk)
            rows += chunk.count(b"\r\n")
            tail = (tail + chunk)[-400:]
    elapsed = time.monotonic() - started
    rows -= 1  # the header line
    assert head.startswith(b'\xef\xbb\xbf"date","product","sku","quantity"')
    assert f'\r\n"{first}","actions","actions_linux",'.encode() in head
    assert tail.endswith(b'",""\r\n') and f'"{last}"'.encode() in tail
    assert rows >= 1_000_000
    peak = memory_kb(proc.pid, "VmHWM")
    print(
        f"\n{rows:,} detailed rows, {total / 1e6:.0f} MB in {elapsed:.1f}s "
        f"({rows / elapsed:,.0f} rows/s); server peak RSS {peak / 1024:.0f} MB, "
        f"baseline {baseline / 1024:.0f} MB"
    )
    assert total > 150_000_000
    # A 170 MB file built in memory would show; streaming stays flat.
    assert peak - baseline < 100 * 1024
