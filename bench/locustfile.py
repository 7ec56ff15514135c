"""The locust scenario of `make load` (``bench/load.py`` prepares the data, the sessions
and gunicorn, then runs this file headless once per step; see there).

Users, all against one org with ~1,000,000 line items over 12 months:

- `BillingUser` (the step's user count): an owner or a billing manager, signed in (a
  real Django session cookie), browsing with no think time: dashboard pages with
  different filters, the overview, the JSON API's ``group_by`` variants and this
  month's CSV export.
- `GitHubWebhooks` (one): GitHub's deliveries at a steady rate, signed with the
  server's ``GITHUB_WEBHOOK_SECRET`` (``X-Hub-Signature-256``), a unique
  ``X-GitHub-Delivery`` each, payloads from GitHub's examples.
- `Exporter` (one): the full 12-month CSV (streamed, ~1,000,000 rows), every
  ``csv_every`` seconds. Its first byte counts as a request like the others; the
  whole download is reported apart (``DOWNLOAD``), with its bytes and rows checked.

Every request's outcome is kept in memory and written as JSON to ``results`` when
locust quits, so bench/load.py computes exact medians and p99s (locust's own CSVs
round response times) and the requests per second inside the step's window.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import random
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from locust import FastHttpUser, constant, constant_pacing, constant_throughput, events, task

CONFIG: dict[str, Any] = (
    json.loads(Path(os.environ["LOAD_CONFIG"]).read_text()) if "LOAD_CONFIG" in os.environ else {}
)
DOWNLOAD = "DOWNLOAD"
# On every dashboard page with data: the net total of the range.
NET = 'data-total="net"'
# name -> [request type, [(finished at, milliseconds, ok)], bytes, first errors]
_samples: dict[str, list[Any]] = {}
_window: dict[str, float] = {}


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, **_kw) -> None:
    entry = _samples.setdefault(name, [request_type, [], 0, []])
    entry[1].append((time.time(), response_time, exception is None))
    entry[2] += response_length or 0
    if exception is not None and len(entry[3]) < 3:
        entry[3].append(str(exception)[:300])


@events.test_start.add_listener
def _started(**_kw) -> None:
    _window["start"] = time.time()


@events.test_stopping.add_listener
def _stopping(**_kw) -> None:
    _window.setdefault("stop", time.time())


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else 0.0


def _stats(samples: list[tuple[float, float, bool]], size: int = 0) -> dict[str, Any]:
    """Count, requests/s inside the step's window, median, p99, max, errors."""
    start, stop = _window["start"], _window.get("stop", time.time())
    times = sorted(s[1] for s in samples)
    return {
        "n": len(samples),
        "rps": sum(start <= s[0] <= stop for s in samples) / max(0.001, stop - start),
        "median": statistics.median(times) if times else 0.0,
        "p99": _percentile(times, 0.99),
        "max": times[-1] if times else 0.0,
        "errors": sum(not s[2] for s in samples),
        "bytes": size,
    }


@events.quitting.add_listener
def _write(**_kw) -> None:
    """The step's figures per endpoint, the total of the requests (whole downloads are
    reported apart) and the first errors, as JSON for bench/load.py."""
    if "results" not in CONFIG or "start" not in _window:
        return
    out: dict[str, Any] = {"endpoints": {}, "downloads": {}, "error_samples": []}
    everything = []
    for name, (kind, samples, size, errors) in sorted(_samples.items()):
        out["downloads" if kind == DOWNLOAD else "endpoints"][name] = _stats(samples, size)
        if kind != DOWNLOAD:
            everything.extend(samples)
        out["error_samples"] += [f"{name}: {e}" for e in errors]
    out["total"] = _stats(everything)
    out["seconds"] = _window.get("stop", time.time()) - _window["start"]
    Path(CONFIG["results"]).write_text(json.dumps(out))


def _session_headers() -> dict[str, str]:
    session = random.choice(CONFIG["sessions"])
    return {"Cookie": f"sessionid={session}"}


class BillingUser(FastHttpUser):
    """An owner or billing manager browsing the org, no think time."""

    wait_time = constant(0)

    def on_start(self) -> None:
        self.headers = _session_headers()
        self.org = CONFIG["org"]

    def _page(self, url: str, name: str, marker: str) -> None:
        with self.client.get(
            url, headers=self.headers, name=name, catch_response=True, allow_redirects=False
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif marker not in (response.text or ""):
                response.failure(f"{marker!r} not in the page")

    @task(20)
    def dashboard_this_month(self) -> None:
        self._page(f"/orgs/{self.org}/", "dashboard: this month", NET)

    @task(8)
    def dashboard_12_months(self) -> None:
        self._page(f"/orgs/{self.org}/?range=12m", "dashboard: 12 months", NET)

    @task(4)
    def dashboard_repository(self) -> None:
        url = f"/orgs/{self.org}/?range=12m&repository={CONFIG['repository']}"
        self._page(url, "dashboard: 12 months, one repository", NET)

    @task(4)
    def dashboard_custom(self) -> None:
        url = (
            f"/orgs/{self.org}/?range=custom&start={CONFIG['custom'][0]}&end={CONFIG['custom'][1]}"
        )
        self._page(url, "dashboard: custom range", NET)

    @task(4)
    def dashboard_product(self) -> None:
        url = f"/orgs/{self.org}/?range=last_month&product=actions&sort=-net"
        self._page(url, "dashboard: last month, actions, sorted", NET)

    @task(10)
    def overview(self) -> None:
        self._page("/orgs/", "overview /orgs/", self.org)

    @task(12)
    def api(self) -> None:
        group_by = random.choice(("day", "product", "sku", "repository"))
        start, end = CONFIG["span"]
        url = f"/api/orgs/{self.org}/usage?start={start}&end={end}&group_by={group_by}"
        with self.client.get(
            url, headers=self.headers, name=f"API group_by={group_by}", catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif "total" not in response.json():
                response.failure("no total in the JSON")

    @task(1)
    def csv_this_month(self) -> None:
        download(self, f"/orgs/{self.org}/usage.csv", "CSV this month", None)


def download(user: FastHttpUser, url: str, name: str, rows_expected: int | None) -> None:
    """A streamed CSV: the first byte is the request's time (what the user waits for
    before the download starts); the whole download is reported apart (``DOWNLOAD``),
    its end and (when known) its row count checked."""
    started = time.perf_counter()
    response = user.client.get(url, headers=user.headers, name=f"{name} (first byte)", stream=True)
    if response.status_code != 200:
        return  # counted as a failure by locust
    size = rows = 0
    last = b""
    error: Exception | None = None
    try:
        while chunk := response.stream.read(1 << 16):
            size += len(chunk)
            rows += chunk.count(b"\n")
            last = chunk
    except Exception as exc:  # a broken stream is an error of the download
        error = exc
    rows -= 1  # the header
    if error is None and not last.endswith(b"\r\n"):
        error = AssertionError("the CSV does not end with a complete row")
    if error is None and rows_expected is not None and rows != rows_expected:
        error = AssertionError(f"{rows} rows, expected {rows_expected}")
    events.request.fire(
        request_type=DOWNLOAD,
        name=f"{name} (whole download)",
        response_time=(time.perf_counter() - started) * 1000,
        response_length=size,
        exception=error,
        context={},
    )


class Exporter(FastHttpUser):
    """The full 12-month CSV, one at a time, every ``csv_every`` seconds."""

    fixed_count = 1
    wait_time = constant_pacing(float(CONFIG.get("csv_every", 30)))

    def on_start(self) -> None:
        self.headers = _session_headers()

    @task
    def export_year(self) -> None:
        if not CONFIG.get("export", True):
            return  # the warm-up step
        start, end = CONFIG["span"]
        url = f"/orgs/{CONFIG['org']}/usage.csv?range=custom&start={start}&end={end}"
        download(self, url, "CSV 12 months", CONFIG["items"])


def _payloads() -> list[tuple[str, bytes]]:
    """(event, body) of GitHub's example deliveries (``webhook__<event>__<action>.json``)."""
    folder = Path(CONFIG.get("examples", ""))
    out = []
    for path in sorted(folder.glob("webhook__*.json")) if folder.is_dir() else []:
        out.append((path.name.split("__")[1], path.read_bytes()))
    if not out:  # no examples on this machine: one realistic delivery of our own
        body = {
            "action": "renamed",
            "changes": {"login": {"from": "octo-old"}},
            "organization": {"id": 38302899, "login": "octo-new"},
            "installation": {"id": 2, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMg=="},
            "sender": {"id": 21031067, "login": "octocat"},
        }
        out.append(("organization", json.dumps(body).encode()))
    return out


class GitHubWebhooks(FastHttpUser):
    """GitHub's deliveries: signed, unique delivery ids, a steady rate."""

    fixed_count = 1
    wait_time = constant_throughput(float(CONFIG.get("webhook_rate", 5)))
    payloads = _payloads() if CONFIG else []

    @task
    def deliver(self) -> None:
        event, body = random.choice(self.payloads)
        secret = CONFIG["webhook_secret"].encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/load",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-GitHub-Hook-ID": "424242",
            "X-Hub-Signature-256": "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest(),
        }
        with self.client.post(
            "/github/webhook/",
            data=body,
            headers=headers,
            name="webhook (signed)",
            catch_response=True,
        ) as response:
            if response.status_code not in (200, 202):
                response.failure(f"HTTP {response.status_code}: {(response.text or '')[:200]}")
