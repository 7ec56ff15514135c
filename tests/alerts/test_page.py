"""The page /orgs/<login>/alerts/ as a person uses it (forms with the page's CSRF token):
what it says in each state, every action (channels, test message, rules of each kind,
mute, acknowledge, digests), the webhook secret shown once, and who may open it."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from django.test import Client

from alerts.models import Channel, Digest, FiredAlert, Rule, Subscription
from tests.factories import ChannelFactory
from usage import periods

pytestmark = pytest.mark.django_db

URL = "/orgs/acme-corp/alerts/"


class Browser:
    """A signed-in person: CSRF enforced, the token taken from the page like a browser."""

    def __init__(self, user) -> None:
        self.client = Client(enforce_csrf_checks=True)
        self.client.force_login(user)

    def page(self) -> str:
        response = self.client.get(URL)
        assert response.status_code == 200
        return response.content.decode()

    def post(self, data: dict, follow: bool = True):
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.page()).group(1)
        return self.client.post(URL, {**data, "csrfmiddlewaretoken": token}, follow=follow)


def text(response) -> str:
    return html_lib.unescape(re.sub(r"\s+", " ", response.content.decode()))


@pytest.fixture
def olivia(acme) -> Browser:
    return Browser(acme.people["olivia"])


def test_the_empty_page_says_what_to_do(olivia):
    html = re.sub(r"\s+", " ", olivia.page())
    assert "<h1>Alerts and digests</h1>" in html
    assert (
        "No alert has fired for acme-corp. Add a rule below: alerts fire only from rules." in html
    )
    assert "No rules yet: add one below." in html
    assert "No channels yet: add one below, then send it a test message." in html
    assert "Add a channel first (above): digests go to a channel." in html
    assert "Nothing sent yet." in html
    assert "Demo:" not in html
    # The org has no installation: the page says why nothing can fire.
    assert "only a “data stopped” rule can fire" in html


def test_who_may_open_it(client, acme):
    assert client.get(URL).status_code == 302  # anonymous: to sign in
    for who in ("mia", "charlie"):
        client.force_login(acme.people[who])
        assert client.get(URL).status_code == 404
        assert client.post(URL, {"action": "rule_add", "kind": "data_stopped"}).status_code == 404
    assert not Rule.objects.exists()
    client.force_login(acme.people["bill"])
    assert client.get(URL).status_code == 200


def test_channels_test_messages_and_the_webhook_secret(olivia, local_delivery, receiver):
    answer = olivia.post(
        {"action": "channel_add", "kind": "slack", "url": receiver.url + "/s/T1/abcdefgh"}
    )
    assert "Channel “Slack 127.0.0.1" in text(answer) and "Send test message" in text(answer)
    channel = Channel.objects.get()
    answer = olivia.post({"action": "channel_test", "id": channel.pk})
    assert f"Test message sent to “{channel.name}”: check it arrived." in text(answer)
    assert receiver.messages()[0]["kind"] == "slack"
    # A webhook channel: its secret on the answer to the form, and never again.
    answer = olivia.post(
        {"action": "channel_add", "kind": "webhook", "url": receiver.url + "/hook"}
    )
    secret = Channel.objects.get(kind="webhook").secret
    assert answer.status_code == 200 and secret in answer.content.decode()
    assert "shown this once" in text(answer)
    assert secret not in olivia.page()
    answer = olivia.post({"action": "channel_add", "kind": "slack", "url": "ftp://x"})
    assert "The channel was not added: refused: only https:// URLs are accepted." in text(answer)
    answer = olivia.post({"action": "channel_delete", "id": channel.pk})
    assert not Channel.objects.filter(pk=channel.pk).exists()


def test_a_failed_test_message_says_why_and_what_to_do(olivia, acme, local_delivery, receiver):
    olivia.post({"action": "channel_add", "kind": "teams", "url": receiver.url + "/gone/abcd"})
    receiver.script("/gone/abcd", {"status": 404, "body": "no such flow"})
    answer = olivia.post({"action": "channel_test", "id": Channel.objects.get().pk})
    assert "failed: 127.0.0.1 answered 404: no such flow. Fix the channel" in text(answer)


def test_rules_of_each_kind_from_the_forms(olivia, acme):
    channel = ChannelFactory(organization=acme.org, name="Finance mail")
    forms = [
        {
            "kind": "budget",
            "budget": "",
            "amount": "500",
            "scope": "sku",
            "target": "Actions Linux",
            "thresholds": "80, 100",
        },
        {
            "kind": "projection",
            "budget": "",
            "amount": "",
            "over_last_month_percent": "20",
            "scope": "organization",
            "target": "",
            "min_days": "3",
        },
        {
            "kind": "anomaly",
            "dimension": "sku",
            "min_amount": "25",
            "sensitivity": "4",
            "weeks": "8",
        },
        {"kind": "new_spend", "dimension": "product"},
        {"kind": "data_stopped", "hours": "12"},
    ]
    for form in forms:
        answer = olivia.post({"action": "rule_add", "channels": [channel.pk], **form})
        assert "Rule added:" in text(answer), (form, text(answer)[-2000:])
    assert Rule.objects.count() == 5
    budget = Rule.objects.get(kind="budget")
    assert budget.params == {
        "amount": "500",
        "scope": "sku",
        "target": "actions_linux",  # any spelling, stored as GitHub's identifier
        "thresholds": [80, 100],
    }
    assert list(budget.channels.all()) == [channel]
    html = re.sub(r"\s+", " ", olivia.page())
    assert (
        "Spend this month against a $500 monthly limit on SKU Actions Linux: alert at 80%, 100%."
        in html
    )
    assert "No successful collection for 12 hours." in html
    answer = olivia.post(
        {"action": "rule_add", "kind": "budget", "amount": "lots", "scope": "organization"}
    )
    assert "The rule was not added: amount must be a number, not 'lots'." in text(answer)


def test_mute_acknowledge_and_delete(olivia, acme):
    rule = Rule.objects.create(organization=acme.org, kind="data_stopped", params={"hours": 24})
    alert = FiredAlert.objects.create(
        organization=acme.org,
        rule=rule,
        kind="anomaly",
        period=periods.today(),
        key="k",
        title="Unusual <b>spend</b>",
        message="Actions Linux in <script>x</script>: $182.",
    )
    html = olivia.page()
    assert "Unusual &lt;b&gt;spend&lt;/b&gt;" in html and "<script>x" not in html
    assert "no channel: shown here only" in html
    answer = olivia.post({"action": "rule_mute", "id": rule.pk, "days": "7"})
    assert "Rule muted until" in text(answer) and "muted until" in text(answer)
    answer = olivia.post({"action": "rule_mute", "id": rule.pk, "days": "0"})
    assert "Rule unmuted: its next alerts are sent again." in text(answer)
    answer = olivia.post({"action": "alert_ack", "id": alert.pk})
    assert "Alert acknowledged" in text(answer) and "acknowledged by olivia" in text(answer)
    answer = olivia.post({"action": "rule_delete", "id": rule.pk})
    assert "Rule deleted. The alerts it fired stay listed." in text(answer)
    assert FiredAlert.objects.filter(pk=alert.pk).exists()
    answer = olivia.post({"action": "nonsense"})
    assert "That form is out of date" in text(answer)


def test_digest_subscription_and_send_now(olivia, acme, settings):
    settings.ALERTS_DIGEST_NOW_COOLDOWN_SECONDS = 60
    channel = ChannelFactory(organization=acme.org, name="Finance mail")
    answer = olivia.post(
        {
            "action": "subscription_save",
            "channel": channel.pk,
            "weekly": "on",
            "timezone": "Asia/Kolkata",
        }
    )
    assert "Subscribed: the weekly digest goes to “Finance mail” (Asia/Kolkata)." in text(answer)
    assert "You get the weekly digest on “Finance mail” (Asia/Kolkata)." in text(answer)
    subscription = Subscription.objects.get(user=acme.people["olivia"])
    answer = olivia.post({"action": "subscription_save", "channel": channel.pk, "timezone": "UTC"})
    assert "choose weekly, monthly or both" in text(answer)
    answer = olivia.post({"action": "digest_now", "channel": channel.pk, "kind": "weekly"})
    assert "Digest queued to “Finance mail”: it arrives within a minute." in text(answer)
    assert Digest.objects.get().on_demand
    answer = olivia.post({"action": "digest_now", "channel": channel.pk, "kind": "weekly"})
    assert "No digest was sent: a digest was sent moments ago: try again in" in text(answer)
    answer = olivia.post({"action": "subscription_delete", "id": subscription.pk})
    assert "Subscription deleted" in text(answer)


def test_the_demo_points_at_its_receivers(olivia, settings):
    settings.ALERTS_DEMO_CHAT_URL = "http://127.0.0.1:8030"
    settings.ALERTS_DEMO_MAILBOX_URL = "http://127.0.0.1:8026"
    html = re.sub(r"\s+", " ", olivia.page())
    assert "the chat receiver takes any URL under <code>http://127.0.0.1:8030/</code>" in html
    assert '<a href="http://127.0.0.1:8026/">' in html
