"""“Refresh now”: a CSRF-protected POST with a cool-down (REFRESH_COOLDOWN_SECONDS),
messages for the cool-down and for a broker that is down, audited. The task is sent on
commit; these tests run in a transaction that never commits, and on a queue of their
own (`celery_queue`), so no worker anywhere picks anything up."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import AuditEvent, Installation
from usage import periods
from usage.models import CollectionRun

pytestmark = [pytest.mark.django_db, pytest.mark.dates]

URL = "/orgs/acme-corp/refresh/"


def csrf_client(user) -> tuple[Client, str]:
    """A browser-like client (CSRF checks on) and the token of the dashboard's form."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    html = client.get("/orgs/acme-corp/?range=last_month&product=copilot").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert token and 'action="/orgs/acme-corp/refresh/"' in html
    return client, token.group(1)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_refresh_queues_this_month_then_cools_down(acme, people, celery_queue, settings):
    settings.REFRESH_COOLDOWN_SECONDS = 300
    client, token = csrf_client(people["bill"])
    data = {"csrfmiddlewaretoken": token, "return_query": "range=last_month&product=copilot"}
    response = client.post(URL, data)
    assert response.status_code == 302
    assert response["Location"] == "/orgs/acme-corp/?range=last_month&product=copilot"
    run = CollectionRun.objects.get(organization=acme, trigger="manual")
    assert (run.period, run.state) == (periods.current_month(), "queued")
    event = AuditEvent.objects.get(action="refresh")
    assert (event.actor, event.organization, event.details["run"]) == (people["bill"], acme, run.pk)
    page = client.get(response["Location"])
    assert any("Refresh queued" in m for m in messages_of(page))
    assert "available again in" in page.content.decode()

    again = client.post(URL, data, follow=True)
    [message] = messages_of(again)
    seconds = int(re.search(r"try again in (\d+) second", message).group(1))
    assert 290 <= seconds <= 300
    assert AuditEvent.objects.filter(action="refresh").count() == 1


def test_refresh_needs_the_csrf_token_and_a_post(acme, people):
    client, _ = csrf_client(people["olivia"])
    assert client.post(URL).status_code == 403
    assert client.get(URL).status_code == 405
    assert not CollectionRun.objects.filter(trigger="manual").exists()


def test_members_and_strangers_get_404(client, acme, people):
    for who in ("mia", "charlie"):
        client.force_login(people[who])
        assert client.post(URL).status_code == 404


def test_a_broker_that_is_down_is_said_plainly(acme, people, closed_port):
    from billingdash.celery import app

    client, token = csrf_client(people["olivia"])
    saved = app.conf.broker_url
    app.conf.broker_url = f"redis://127.0.0.1:{closed_port}/0"
    try:
        response = client.post(URL, {"csrfmiddlewaretoken": token}, follow=True)
    finally:
        app.conf.broker_url = saved
    assert any("task queue is unavailable" in m for m in messages_of(response))
    assert not CollectionRun.objects.filter(trigger="manual").exists()


def test_an_org_that_cannot_be_collected(acme, people):
    Installation.objects.filter(organization=acme).update(state=Installation.State.SUSPENDED)
    client = Client()
    client.force_login(people["olivia"])
    response = client.post(URL, follow=True)
    assert any("cannot be collected right now" in m for m in messages_of(response))
