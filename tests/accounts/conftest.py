"""Fixtures for the sign-in tests: a browser driving the real flow against the simulator."""

import pytest

from tests.accounts.flow import GitHubBrowser


@pytest.fixture
def oauth_mode(github_settings, settings):
    """Sign-in through the classic OAuth App (what `make demo` uses)."""
    settings.GITHUB_SIGNIN_CLIENT = "oauth"
    return github_settings


@pytest.fixture
def app_mode(github_settings, settings):
    """Sign-in through the GitHub App's own OAuth client (the default)."""
    settings.GITHUB_SIGNIN_CLIENT = "app"
    return github_settings


@pytest.fixture
def browser(github_settings, db):
    return GitHubBrowser(sim_url=github_settings.web_url)


@pytest.fixture
def other_browser(github_settings, db):
    return GitHubBrowser(sim_url=github_settings.web_url)
