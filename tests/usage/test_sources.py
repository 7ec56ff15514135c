"""The source ladder (`usage.collection.sources`) against the simulator over HTTP: when
GitHub refuses installation tokens on the billing endpoints, the owner's own sign-in or a
token an owner added still brings every month, to the cent; each refusal is recorded as
GitHub said it; "not available to this organization" never makes the ladder try a token."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import GitHubToken, Installation, Membership, OrgAccessToken, Organization
from tests.factories import GitHubTokenFactory, MembershipFactory, UserFactory
from tests.helpers import mirror_installed_org
from usage import periods
from usage.collection.collect import org_collect_due
from usage.collection.services import org_backfill_start, run_enqueue
from usage.models import CollectionRun, EndpointAvailability, OrgCollectionState, UsageSummary
from usage.reporting.sources import org_sources

from .conftest import installation_of, usage_calls, wait_settled
from .test_collect_worker import assert_month_matches_simulator

pytestmark = [pytest.mark.dates]
State = CollectionRun.State
REFUSED = "Resource not accessible by integration"


def person(sim, org: Organization, login: str, role: str, *, client: str | None = None):
    """A user of the simulator with `role` in the org, mirrored here; `client` "app" or
    "oauth": their sign-in token, as billingdash stores it."""
    info = sim.control.create_user(login, name=login.title())
    sim.control.set_membership(org.login, login, role)
    user = UserFactory(github_id=info["id"], github_login=login, first_name=login.title())
    ours = {"admin": Membership.Role.OWNER, "billing_manager": Membership.Role.BILLING_MANAGER}
    MembershipFactory(user=user, organization=org, role=ours.get(role, Membership.Role.MEMBER))
    if client is not None:
        issued = sim.control.issue_token(
            login, client, **({"scope": "read:org"} if client == "oauth" else {})
        )
        GitHubTokenFactory(
            user=user,
            client=GitHubToken.Client.APP if client == "app" else GitHubToken.Client.OAUTH,
            access_token=issued["access_token"],
            refresh_token=issued.get("refresh_token") or "",
            expires_at=None,
        )
    return user


def owner_pat(sim, org: Organization, user, **options: Any) -> OrgAccessToken:
    """A classic PAT (admin:org) of `user`, stored as an owner would have added it."""
    issued = sim.control.issue_pat(user.github_login, "classic_pat", scope="admin:org", **options)
    return OrgAccessToken.objects.create(
        organization=org,
        token=issued["token"],
        last4=issued["token"][-4:],
        kind=OrgAccessToken.Kind.CLASSIC,
        github_id=user.github_id,
        github_login=user.github_login,
    )


def collect(org: Organization, period=None) -> CollectionRun:
    period = period or periods.current_month()
    run, _ = run_enqueue(organization=org, period=period, trigger="schedule", send=False)
    org_collect_due(organization_id=org.pk, holder="source-tests")
    run.refresh_from_db()
    return run


def refusals(org: Organization) -> list[dict[str, Any]]:
    return list(OrgCollectionState.objects.get(organization=org).source_refusals)


@pytest.mark.django_db
def test_app_refused_the_owners_sign_in_collects_to_the_cent(gh_in_process):
    sim = gh_in_process
    org = mirror_installed_org(sim, "ladder-signin", repos=3, skus_per_repo=2)
    sim.control.refuse_installation_tokens(org.login)
    person(sim, org, "olivia-l1", "admin", client="app")
    person(sim, org, "bill-l1", "billing_manager", client="app")  # never a rung

    period = periods.current_month()
    run = collect(org, period)

    assert (run.state, run.error) == (State.SUCCEEDED, "")
    assert_month_matches_simulator(sim, org, period)
    org.refresh_from_db()
    assert org.collection_source == "user_token"
    assert org.collection_source_detail == "from Olivia-L1's sign-in"
    [app] = refusals(org)
    assert (app["source"], app["status"], app["message"]) == ("app", 403, REFUSED)
    assert app["permission"] == "organization_administration=read"
    assert "adds a personal access token" in app["unlock"]
    # The App was refused, but another source worked: the installation is left alone.
    assert installation_of(org).state == Installation.State.ACTIVE
    # The billing manager's token was never tried: two usage calls (App, Olivia).
    assert len(usage_calls(sim, org.login)) == 2
    page = org_sources(org)
    assert [r.state for r in page["rungs"]] == ["refused", "used", "missing", "missing"]
    # The summary and budgets were read with the token GitHub accepted, not marked
    # unavailable because of the refused one.
    assert UsageSummary.objects.filter(organization=org).exists()
    assert not EndpointAvailability.objects.filter(organization=org, available=False).exists()


@pytest.mark.django_db
def test_every_source_refused_says_what_github_answered_and_the_next_step(gh_in_process):
    sim = gh_in_process
    org = mirror_installed_org(sim, "ladder-none", repos=2)
    sim.control.refuse_installation_tokens(org.login)
    person(sim, org, "olga-l2", "admin", client="oauth")  # classic OAuth: refused on usage

    run = collect(org)

    assert run.state == State.FAILED
    assert REFUSED in run.error and "Resource not accessible by OAuth app token" in run.error
    assert "adds a personal access token" in run.error
    app, signin = refusals(org)
    assert (app["source"], signin["source"], signin["who"]) == ("app", "user_token", "Olga-L2")
    assert signin["status"] == 403
    org.refresh_from_db()
    assert org.collection_source == ""
    # No source worked: now the installation needs attention, as before the ladder.
    assert installation_of(org).state == Installation.State.NEEDS_ATTENTION
    assert "adds a personal access token" in org_sources(org)["next_step"]


@pytest.mark.django_db
@pytest.mark.parametrize("dialect", ["observed", "documented"])
def test_not_available_to_the_org_is_not_a_token_refusal(gh_in_process, dialect):
    """400/404 "not on the enhanced billing platform": no other token is tried."""
    sim = gh_in_process
    org = mirror_installed_org(
        sim, f"ladder-legacy-{dialect}", enhanced_billing=False, dialect=dialect
    )
    owen = person(sim, org, f"owen-{dialect}", "admin", client="app")
    owner_pat(sim, org, owen)

    run = collect(org)

    assert run.state == State.FAILED
    assert "not on GitHub's enhanced billing platform" in run.error
    assert len(usage_calls(sim, org.login)) == 1  # the App's call only
    org.refresh_from_db()
    assert org.billing_platform == Organization.BillingPlatform.UNAVAILABLE
    assert installation_of(org).state == Installation.State.ACTIVE


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_app_and_sign_in_refused_an_owner_token_backfills_every_month_to_the_cent(
    gh, installed_org, celery_worker, settings
):
    """Real worker, real HTTP: the simulator refuses installation tokens and the owner
    signed in with the classic OAuth App; the token an owner added brings every month."""
    settings.BACKFILL_MONTHS = 3
    org = installed_org("Ladder-Backfill", repos=3, skus_per_repo=2, copilot_seats=2)
    gh.control.refuse_installation_tokens(org.login)
    oscar = person(gh, org, "oscar-l4", "admin", client="oauth")
    token = owner_pat(gh, org, oscar)

    org_backfill_start(organization=org)
    wait_settled(org, 3)

    runs = CollectionRun.objects.filter(organization=org)
    assert [(r.state, r.error) for r in runs] == [(State.SUCCEEDED, "")] * 3
    for period in periods.last_months(3):
        assert_month_matches_simulator(gh, org, period)
    org.refresh_from_db()
    assert (org.collection_source, org.collection_source_detail) == (
        "owner_token",
        "from a token an owner added",
    )
    assert [r["source"] for r in refusals(org)] == ["app", "user_token"]
    # One refusal is enough: the App and the sign-in were asked for the first month only,
    # the other months went straight to the token (3 + 1 + 1 usage calls).
    assert len(usage_calls(gh, org.login)) == 5
    token.refresh_from_db()
    assert token.last_used_at is not None and token.refused_reason == ""
    assert installation_of(org).state == Installation.State.ACTIVE


@pytest.mark.django_db
def test_a_revoked_owner_token_is_recorded_as_refused(gh_in_process):
    sim = gh_in_process
    org = mirror_installed_org(sim, "ladder-revoked", repos=2)
    sim.control.refuse_installation_tokens(org.login)
    rita = person(sim, org, "rita-l5", "admin")
    token = owner_pat(sim, org, rita)
    sim.control.revoke_token(str(token.token))

    run = collect(org)

    assert run.state == State.FAILED
    _app, added = refusals(org)
    assert (added["source"], added["status"]) == ("owner_token", 401)
    assert "Bad credentials" in added["message"]
    token.refresh_from_db()
    assert "Bad credentials" in token.refused_reason


def test_the_sources_in_words():
    from datetime import date

    from usage.collection.sources import reports_words

    assert (
        reports_words({"uploaded_by": "Bill", "last_on": date(2026, 12, 3)})
        == "from usage reports uploaded by Bill, last on 3 Dec"
    )
    assert reports_words({"detail": "from usage reports uploaded by Bill"}).endswith("Bill")


@pytest.mark.django_db
def test_the_source_in_words_on_the_dashboard_overview_and_staff_pages(gh_in_process, client):
    from tests.factories import StaffUserFactory

    sim = gh_in_process
    org = mirror_installed_org(sim, "ladder-words", repos=2)
    sim.control.refuse_installation_tokens(org.login)
    olivia = person(sim, org, "olivia-l6", "admin", client="app")
    assert collect(org).state == State.SUCCEEDED

    client.force_login(olivia)
    dashboard = client.get(f"/orgs/{org.login}/").content.decode()
    assert "figures from Olivia-L6&#x27;s sign-in" in dashboard
    overview = client.get("/orgs/").content.decode()
    # Beside the org's state badge: where its figures come from, linked to the sources.
    assert 'data-source="user_token">from Olivia-L6&#x27;s sign-in</a>' in overview
    sources = client.get(f"/api/orgs/{org.login}/sources").json()
    assert (sources["source"], sources["source_detail"]) == (
        "user_token",
        "from Olivia-L6's sign-in",
    )
    assert [r["state"] for r in sources["rungs"]][:2] == ["refused", "used"]

    client.force_login(StaffUserFactory())
    ops = client.get("/staff/ops/").content.decode()
    assert 'data-source-org="ladder-words"' in ops and REFUSED in ops
    admin = client.get("/admin/accounts/organization/").content.decode()
    assert "from Olivia-L6&#x27;s sign-in" in admin


@pytest.mark.django_db
def test_every_token_refused_with_reports_uploaded_the_reports_are_the_source(
    gh_in_process, monkeypatch
):
    """Rung 4. The imports' selector is wired in at merge; here its stand-in answers."""
    from datetime import date

    import usage.collection.ladder as ladder_module

    sim = gh_in_process
    org = mirror_installed_org(sim, "ladder-reports", repos=2)
    sim.control.refuse_installation_tokens(org.login)
    uploaded = {"uploaded_by": "Bill", "last_on": date(2026, 12, 3)}
    monkeypatch.setattr(ladder_module, "reports_source_of", lambda organization: uploaded)

    run = collect(org)

    assert run.state == State.SKIPPED  # not a failure: the reports stand in
    assert "figures come from usage reports uploaded by Bill, last on 3 Dec" in run.error
    org.refresh_from_db()
    assert (org.collection_source, org.collection_source_detail) == (
        "reports",
        "from usage reports uploaded by Bill, last on 3 Dec",
    )
    [app] = refusals(org)
    assert (app["source"], app["status"]) == ("app", 403)
