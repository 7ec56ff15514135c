"""github.com's profile pages in the simulator (issue 13 item 13): the ``html_url`` the
API hands out for a user, an organization and a repository answers a page; unknown
logins answer 404; the App has one name, billingdash's own, on the simulator's pages."""

from __future__ import annotations

import requests


def test_html_urls_of_users_orgs_and_repositories_resolve(api, token, sim):
    me = api.get("/user", token("olivia")).json()
    page = requests.get(me["html_url"])
    assert page.status_code == 200 and "olivia" in page.text
    assert "href='/acme-corp'" in page.text  # her organizations link to their pages

    org = api.get("/orgs/acme-corp", token("olivia")).json()
    org_page = requests.get(org["html_url"])
    assert org_page.status_code == 200 and "organization" in org_page.text
    assert "href='/olivia'" in org_page.text  # its people link to theirs
    repo_href = org_page.text.split("href='/acme-corp/", 1)[1].split("'", 1)[0]
    assert requests.get(f"{sim.web_url}/acme-corp/{repo_href}").status_code == 200


def test_unknown_logins_and_github_pages_are_not_profiles(sim):
    assert requests.get(f"{sim.web_url}/no-such-login-here").status_code == 404
    assert requests.get(f"{sim.web_url}/acme-corp/no-such-repo").status_code == 404
    # The API's own 404 stays JSON.
    api_404 = requests.get(f"{sim.web_url}/api/v3")
    assert api_404.status_code == 404
    assert requests.get(f"{sim.web_url}/login").status_code == 200


def test_the_app_has_billingdashs_name_on_the_simulator(sim, config):
    from django.conf import settings

    assert config.app_name == settings.GITHUB_APP_NAME == "billingdash"
    assert config.oauth_app_name == settings.GITHUB_APP_NAME


def test_the_simulator_reads_the_apps_name_from_the_environment(config, private_key):
    from ghsim.config import SimConfig

    env = {
        "GITHUB_APP_ID": "1",
        "GITHUB_APP_CLIENT_ID": "Iv23liabc",
        "GITHUB_APP_CLIENT_SECRET": "s",
        "GITHUB_WEBHOOK_SECRET": "w",
        "GITHUB_APP_PRIVATE_KEY": private_key,
    }
    assert SimConfig.from_env(env).app_name == "billingdash"
    named = SimConfig.from_env({**env, "GITHUB_APP_NAME": "Acme Billing"})
    assert named.app_name == named.oauth_app_name == "Acme Billing"
