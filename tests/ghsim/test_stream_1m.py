"""An org with 1,000,000 line items in one month is streamed, not built in memory.

The simulator runs as `python -m ghsim` in its own process so its peak memory (VmHWM) can
be read from /proc. No timing assertions: the rate is only printed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from ghsim.config import SimConfig

REPO_ROOT = Path(__file__).resolve().parents[2]
REPOS, SKUS, DAYS = 3334, 10, 30  # 3334 repos x 10 SKUs x 30 days + 2 Copilot items/day


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


@pytest.fixture
def server_process():
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
        SIM_NOW="2026-12-05T12:00:00Z",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "ghsim", "--port", str(port), "--quiet"],
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


def test_one_million_items_are_streamed_with_low_memory(server_process):
    proc, base = server_process
    created = requests.post(
        base + "/_sim/orgs",
        json={
            "login": "megacorp",
            "repos": REPOS,
            "skus_per_repo": SKUS,
            "copilot_seats": 40,
            "created": "2020-01-01",
            "installed": True,
            "members": {"olivia": "admin"},
        },
        timeout=60,
    )
    assert created.status_code == 201, created.text
    token = requests.post(base + "/_sim/tokens", json={"org": "megacorp"}, timeout=10).json()
    url = base + "/api/v3/organizations/megacorp/settings/billing/usage?year=2026&month=11"
    headers = {"Authorization": f"Bearer {token['token']}"}
    # Warm up (builds the org's plan) so the baseline includes it.
    requests.get(url + "&day=1", headers=headers, timeout=60).raise_for_status()
    baseline = memory_kb(proc.pid, "VmRSS")

    started = time.monotonic()
    total = count = 0
    tail = b""
    with requests.get(url, headers=headers, stream=True, timeout=300) as resp:
        assert resp.status_code == 200
        assert "Content-Length" not in resp.headers  # chunked: streamed
        head = b""
        for chunk in resp.iter_content(chunk_size=1 << 16):
            if len(head) < 64:
                head += chunk[:64]
            total += len(chunk)
            window = tail + chunk
            count += window.count(b'{"date":"')
            tail = window[-8:]
    elapsed = time.monotonic() - started
    assert head.startswith(b'{"usageItems":[{"date":"2026-11-01')
    assert tail.endswith(b"}]}")
    assert count == (REPOS * SKUS + 2) * DAYS  # 1,000,260 items
    peak = memory_kb(proc.pid, "VmHWM")
    print(
        f"\n{count} items, {total / 1e6:.0f} MB in {elapsed:.1f}s "
        f"({count / elapsed:,.0f} items/s); server peak RSS {peak / 1024:.0f} MB, "
        f"baseline {baseline / 1024:.0f} MB"
    )
    assert total > 200_000_000
    # A 250 MB body built in memory would at least double that; streaming stays flat.
    assert peak - baseline < 100 * 1024
