"""Helpers of the Setup URL tests (test_setup.py, test_setup_checks.py): a browser's
wizard state, GitHub's install page pressed for globex, the App calls the simulator saw.
"""

from __future__ import annotations

import re
from html import unescape

from .conftest import TEST_SETUP_URL, install_link, press_install, query


def text(response) -> str:
    return unescape(re.sub(r"\s+", " ", response.content.decode()))


def wizard_state(browser, org: str = "globex") -> str:
    page = browser.client.get(f"/orgs/{org}/install/")
    return query(install_link(page.content.decode(), browser.sim_url))["state"]


def start_state(browser) -> str:
    """A state from the generic step (``/install/``), which any signed-in user gets."""
    page = browser.client.get("/install/")
    return query(install_link(page.content.decode(), browser.sim_url))["state"]


def app_calls(sim) -> list[str]:
    paths = [r["api_path"] or "" for r in sim.control.requests_log()]
    return [path for path in paths if path.startswith("/app")]


def install_globex(olivia) -> tuple[str, int]:
    """olivia presses Install on GitHub's page for globex; returns the setup URL."""
    setup_url = press_install(
        olivia,
        install_link(olivia.client.get("/orgs/globex/install/").content.decode(), olivia.sim_url),
    )
    assert setup_url.startswith(TEST_SETUP_URL), setup_url
    return setup_url, int(query(setup_url)["installation_id"])
