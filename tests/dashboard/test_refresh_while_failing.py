""" "Refresh now" while GitHub fails: the month is already queued for its retry, so the
button would only wait for it. The page says when we retry instead; after the last
attempt failed, the button is back and tries at once."""

from __future__ import annotations

import pytest
from django.utils import timezone

from usage.models import CollectionRun

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


def test_while_github_fails_the_page_says_when_we_retry_instead_of_refresh(client, failing, people):
    run = CollectionRun.objects.get(organization=failing, trigger="manual")
    retry = timezone.localtime(run.not_before).strftime("%H:%M")
    client.force_login(people["bill"])
    html = client.get("/orgs/acme-corp/").content.decode()
    assert 'data-org-state="github_failing"' in html
    assert ">Refresh now</button>" not in html
    assert f"billingdash asks GitHub again on its own at {retry} UTC: no need to refresh." in html


def test_a_refresh_posted_while_github_fails_says_when_it_runs(client, failing, people):
    run = CollectionRun.objects.get(organization=failing, trigger="manual")
    retry = timezone.localtime(run.not_before).strftime("%H:%M")
    client.force_login(people["olivia"])
    html = client.post("/orgs/acme-corp/refresh/", follow=True).content.decode()
    assert "Refresh queued" not in html
    assert f"billingdash asks GitHub again at {retry} UTC, on its own." in html
    run.refresh_from_db()
    assert run.state == "queued" and run.attempts == 1  # nothing was hurried


def test_after_giving_up_refresh_now_is_offered_and_tries_at_once(client, failing, people):
    CollectionRun.objects.filter(organization=failing, state="queued").update(
        state="failed", finished_at=timezone.now(), error_kind="github_unavailable"
    )
    client.force_login(people["olivia"])
    html = client.get("/orgs/acme-corp/").content.decode()
    assert 'data-org-state="gave_up"' in html
    assert ">Refresh now</button>" in html and "“Refresh now” tries at once" in html
    assert "data-refresh-waits" not in html
