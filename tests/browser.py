"""Browser plumbing shared by every real-browser suite (``tests/e2e``, the dashboard, the
install wizard and the staff admin): Playwright for Python driving Debian's Chromium
(``apt-get install chromium``; Playwright's own browser download cannot work here).

- ``chromium`` (session): one headless Chromium for the whole run, started the first time
  a test asks for a tab. Tests do not use it directly: they use ``tabs``.
- ``tabs`` (function): ``tabs.new()`` opens a tab in a fresh browser context (its own
  cookies and storage, as a fresh ``--user-data-dir`` would give) against the
  ``live_server``. Each tab records console errors, page errors, dialogs, failed HTTP
  responses and Content-Security-Policy violations (``securitypolicyviolation`` events,
  reported by an init script, which the page's CSP does not apply to).
- ``pytest_runtest_makereport``: when a test fails, every open tab writes a screenshot
  and its HTML to ``test-artifacts/<test-name>/``.

Under ``CI=true`` a missing Chromium or Playwright is a failure, elsewhere a skip
(`tests.conftest.require_service`).

Why the event-loop juggling: Playwright's sync API runs an asyncio loop in this thread
and, between its calls, leaves that loop *marked as running* (so its dispatcher can
resume it). Django's ORM refuses to run "in an async context" then, and so would any
later test's ``asyncio.run()``. One shared Chromium is worth it (a launch per test costs
a second or more), so the mark is set only while a test has tabs open (`_Driver.activate`)
and cleared as soon as its tabs are closed (`_Driver.park`); tests with tabs run with
``DJANGO_ALLOW_ASYNC_UNSAFE`` (they are single-threaded; the loop does no work of theirs).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
SHOTS = Path("/tmp/shots")

# Reports CSP violations to Python (survives navigations) and keeps them on the page.
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  var text = e.violatedDirective + " " + (e.blockedURI || "inline") + " " +
    e.sourceFile + ":" + e.lineNumber + ":" + e.columnNumber + " " + e.sample;
  window.__csp.push(text);
  if (window.__reportCsp) window.__reportCsp(location.href + " " + text);
});
"""
_TABS = pytest.StashKey[list]()


class _Driver:
    """Playwright, its Chromium, and the loop Playwright runs in this thread."""

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        self.playwright = sync_playwright().start()
        self.loop = asyncio._get_running_loop()
        try:
            self.browser = self._launch()
        except BaseException:
            self.playwright.stop()  # and with it the loop's "running" mark
            raise

    def _launch(self):
        return self.playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )

    def activate(self) -> None:
        asyncio._set_running_loop(self.loop)
        if not self.browser.is_connected():  # it crashed during an earlier test
            self.browser = self._launch()

    def park(self) -> None:
        asyncio._set_running_loop(None)

    def close(self) -> None:
        asyncio._set_running_loop(self.loop)
        try:
            self.browser.close()
        finally:
            self.playwright.stop()
            self.park()


@pytest.fixture(scope="session")
def chromium() -> Iterator[_Driver]:
    """The session's Chromium (use `tabs`, which activates it for the test)."""
    from tests.conftest import require_service

    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        require_service(False, "Playwright for Python (pip install playwright)")
    require_service(Path(CHROMIUM).exists(), f"Chromium at {CHROMIUM} (apt-get install chromium)")
    driver = _Driver()
    driver.park()
    try:
        yield driver
    finally:
        driver.close()


class Tab:
    """One page in a browser context of its own, recording what went wrong."""

    def __init__(self, driver: _Driver, base: str, label: str, **context: Any) -> None:
        options = {"viewport": {"width": 1280, "height": 900}, **context}
        self.context = driver.browser.new_context(**options)
        self.context.add_init_script(WATCH_CSP)
        self.base, self.label = base, label
        self.problems: list[str] = []
        self.http_errors: list[str] = []
        self.context.expose_function("__reportCsp", lambda t: self.problems.append(f"csp: {t}"))
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))
        self.page.on("dialog", self._dialog)
        self.page.on("response", self._response)

    # --- what went wrong --------------------------------------------------------------

    def _console(self, message) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "")
        # A failed request is logged as "Failed to load resource" too: it is in
        # http_errors, checked on its own (with the statuses a test expects).
        if "Failed to load resource" in message.text or url.endswith("favicon.ico"):
            return
        self.problems.append(f"console error: {message.text} ({url})")

    def _dialog(self, dialog) -> None:
        self.problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def _response(self, response) -> None:
        # The browser asks for /favicon.ico on its own; the demo's mailbox and chat
        # receiver have none (billingdash serves one, the simulator's pages say none).
        if response.status >= 400 and not response.url.endswith("favicon.ico"):
            self.http_errors.append(f"{response.status} {response.url}")

    def check_clean(self, *, expected_http: tuple[str, ...] = ()) -> None:
        """No console error, page error, dialog or CSP violation so far; no failed
        response except those whose "<status> <url>" ends with one of `expected_http`."""
        on_page = self._page_csp()
        assert on_page == [], on_page
        assert self.problems == [], self.problems
        unexpected = [e for e in self.http_errors if not e.endswith(expected_http or ("\0",))]
        assert unexpected == [], unexpected

    def _page_csp(self) -> list[str]:
        """The violations the page holds. A page may be navigating when asked (the
        wizard goes on to the dashboard, the dashboard reloads as months arrive): ask
        the page that loads next (its violations reach `problems` through __reportCsp)."""
        from playwright.sync_api import Error as PlaywrightError

        for _ in range(10):
            try:
                return self.page.evaluate("window.__csp || []")
            except PlaywrightError as exc:
                if "context was destroyed" not in str(exc):
                    raise
                self.page.wait_for_load_state()
        return self.page.evaluate("window.__csp || []")

    # --- driving ----------------------------------------------------------------------

    def goto(self, path: str, status: int = 200):
        response = self.page.goto(self.base + path if path.startswith("/") else path)
        assert response is not None and response.status == status, (path, response)
        return response

    def login_as(self, user) -> None:
        """A signed-in session for `user` without the GitHub round trip (for suites
        that are not about signing in)."""
        from django.test import Client

        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        self.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": self.base}]
        )

    def sign_in(self, persona: str) -> None:
        """The real "Sign in with GitHub": our sign-in page, GitHub's (the simulator's)
        account picker, back to the organization list."""
        self.goto("/login/")
        self.page.get_by_role("button", name="Sign in with GitHub").click()
        self.page.locator(f"button[name=login][value={persona}]").click()
        self.page.wait_for_url(f"{self.base}/orgs/")

    def wait_for(self, expression: str, timeout: float = 60, what: str = "") -> Any:
        """Poll a JavaScript expression from here until it is truthy (Playwright's
        ``wait_for_function`` evaluates strings with eval(), which our CSP refuses)."""
        from playwright.sync_api import Error

        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.page.evaluate(expression)
            except Error:  # the page is navigating (or reloading itself): ask again
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or expression}")
            time.sleep(0.1)

    def wait_for_charts(self, timeout: float = 20) -> int:
        """Wait until every chart container was drawn by plotly.js; returns how many."""
        count = self.page.locator("[data-plotly-figure]").count()
        self.wait_for(
            "document.querySelectorAll('[data-plotly-figure][data-drawn=true]').length === "
            f"{count}",
            timeout=timeout,
            what=f"{count} charts",
        )
        return count

    def shot(self, name: str) -> Path:
        """A full-page screenshot in /tmp/shots/ for people to look at."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def dump(self, folder: Path, index: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{index}-{self.label}" if self.label else str(index)
        self.page.screenshot(path=str(folder / f"{stem}.png"), full_page=True)
        (folder / f"{stem}.html").write_text(self.page.content())
        notes = [f"url: {self.page.url}", *self.problems, *self.http_errors]
        (folder / f"{stem}.txt").write_text("\n".join(notes) + "\n")


class Tabs:
    def __init__(self, driver: _Driver, base: str, opened: list[Tab]) -> None:
        self.driver, self.base, self.opened = driver, base, opened

    def new(self, label: str = "", **context: Any) -> Tab:
        """A tab in a fresh context; keyword arguments go to ``browser.new_context``."""
        tab = Tab(self.driver, self.base, label or f"tab{len(self.opened) + 1}", **context)
        self.opened.append(tab)
        return tab


@pytest.fixture
def tabs(chromium: _Driver, live_server, monkeypatch, request) -> Iterator[Tabs]:
    """``tabs.new()``: browser tabs against the live server (see the module docstring)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    opened: list[Tab] = []
    request.node.stash[_TABS] = opened
    chromium.activate()
    try:
        yield Tabs(chromium, live_server.url, opened)
    finally:
        for tab in opened:
            # A crashed page must not hide the test's own failure.
            with contextlib.suppress(Exception):
                tab.context.close()
        opened.clear()
        chromium.park()


@pytest.fixture
def tab(tabs: Tabs) -> Tab:
    return tabs.new()


def _artifact_name(item) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-\[\]]+", "_", item.name)[:150]


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call) -> Iterator[None]:
    """Keep each phase's report on the item (``item.rep_call``); when a phase fails,
    every open tab writes a screenshot, its HTML and what it recorded to
    ``test-artifacts/<test-name>/``."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
    opened = item.stash.get(_TABS, [])
    if report.failed and opened:
        folder = ARTIFACTS / _artifact_name(item)
        for index, tab in enumerate(opened, 1):
            try:
                tab.dump(folder, index)
            except Exception as error:  # keep the test's own failure
                report.sections.append(("browser artifacts", f"tab {index}: {error!r}"))
        report.sections.append(("browser artifacts", str(folder)))


def wait_until(check: Callable[[], Any], what: str, timeout: float = 60, log=None) -> Any:
    """Poll a Python check (the database, the simulator) until it is truthy."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            tail = log()[-4000:] if log is not None else ""
            raise AssertionError(f"timed out waiting for {what}\n{tail}")
        time.sleep(0.1)
    return value
