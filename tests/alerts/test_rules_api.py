"""The rules, fired-alerts, subscription and digest parts of the alerts JSON API, as a
script would use them (session, CSRF header): what each answers, bad input as a 400 that
says why, and who may: owners and billing managers; members and strangers 404;
anonymous 401."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from alerts.models import Digest, FiredAlert, Rule, Subscription
from tests.factories import ChannelFactory, OrganizationFactory
from usage import periods

pytestmark = pytest.mark.django_db

RULE_KEYS = {
    "id",
    "kind",
    "name",
    "description",
    "channels",
    "enabled",
    "muted_until",
    "created_at",
    "created_by",
}


def fired(acme, rule=None, **fields) -> FiredAlert:
    values = {
        "organization": acme.org,
        "rule": rule,
        "kind": "anomaly",
        "period": periods.today(),
        "key": "sku=Actions Linux",
        "title": "Unusual spend",
        "message": "Actions Linux: $182 on Tue 1 Dec, usual Tuesday $9–$14.",
        **fields,
    }
    return FiredAlert.objects.create(**values)


def test_create_list_show_and_delete_a_rule(api, acme):
    channel = ChannelFactory(organization=acme.org)
    olivia = api("olivia")
    created = olivia.post(
        "/rules",
        {
            "kind": "budget",
            "channels": [channel.pk],
            "amount": "1000",
            "scope": "sku",
            "target": "Actions Linux",
            "thresholds": [90],
            "name": "Linux minutes",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert set(body) == RULE_KEYS | {"amount", "scope", "target", "thresholds"}
    assert (body["kind"], body["channels"], body["thresholds"]) == ("budget", [channel.pk], [90])
    assert body["description"] == (
        "Spend this month against a $1,000 monthly limit on SKU Actions Linux: alert at 90%."
    )
    assert olivia.get("/rules").json() == {"organization": "acme-corp", "rules": [body]}
    assert olivia.get(f"/rules/{body['id']}").json() == body
    assert AuditEvent.objects.filter(action="alerts.rule_create").count() == 1
    assert olivia.delete(f"/rules/{body['id']}").status_code == 204
    assert not Rule.objects.exists()
    assert olivia.get(f"/rules/{body['id']}").status_code == 404


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"kind": "projection", "budget": "github"}, {"budget": "github", "min_days": 3}),
        (
            {
                "kind": "projection",
                "over_last_month_percent": 20,
                "scope": "product",
                "target": "x",
            },
            {"over_last_month_percent": 20, "scope": "product", "target": "x", "min_days": 3},
        ),
        (
            {"kind": "anomaly"},
            {"dimension": "repository", "min_amount": "25", "sensitivity": "4", "weeks": 8},
        ),
        ({"kind": "new_spend", "dimension": "product"}, {"dimension": "product"}),
        ({"kind": "data_stopped"}, {"hours": 24}),
        (
            {"kind": "budget", "amount": 50},
            {
                "amount": "50",
                "scope": "organization",
                "target": "",
                "thresholds": [50, 75, 90, 100],
            },
        ),
    ],
)
def test_every_kind_with_its_defaults(api, acme, data, expected):
    answer = api("bill").post("/rules", data)
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert {k: body[k] for k in expected} == expected
    assert set(body) == RULE_KEYS | set(expected)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "sms"}, "kind must be one of budget, projection, anomaly"),
        ({}, "kind must be one of"),
        ({"kind": "budget"}, "give budget"),
        ({"kind": "budget", "amount": "-5"}, "amount must be a number from 0.01"),
        ({"kind": "budget", "amount": "ten"}, "amount must be a number, not 'ten'"),
        ({"kind": "budget", "amount": "NaN"}, "amount must be a number from"),
        ({"kind": "budget", "amount": "1e30"}, "amount must be a number from"),
        ({"kind": "budget", "amount": 5, "budget": "github"}, "not both"),
        ({"kind": "budget", "budget": "nope"}, "has no GitHub budget 'nope'"),
        ({"kind": "budget", "amount": 5, "scope": "galaxy"}, "scope must be one of"),
        ({"kind": "budget", "amount": 5, "scope": "sku"}, "target is required for the sku"),
        ({"kind": "budget", "amount": 5, "scope": "user", "target": "mona"}, "user data is not"),
        ({"kind": "budget", "amount": 5, "target": "x"}, "organization scope takes no target"),
        ({"kind": "budget", "amount": 5, "thresholds": []}, "thresholds must be a list"),
        ({"kind": "budget", "amount": 5, "thresholds": [0]}, "whole number from 1 to 1000"),
        ({"kind": "budget", "amount": 5, "thresholds": [55.5]}, "whole number from 1 to 1000"),
        ({"kind": "budget", "amount": 5, "hours": 3}, "unknown field(s) for a budget rule: hours"),
        ({"kind": "projection", "amount": 5, "over_last_month_percent": 5}, "not both"),
        ({"kind": "projection", "over_last_month_percent": 0}, "from 1 to 1000"),
        ({"kind": "anomaly", "dimension": "user"}, "user data is not collected yet"),
        ({"kind": "anomaly", "weeks": 2}, "weeks must be a whole number from 3 to 26"),
        ({"kind": "anomaly", "sensitivity": True}, "sensitivity must be a number"),
        ({"kind": "new_spend", "dimension": "repository"}, "dimension must be one of"),
        ({"kind": "data_stopped", "hours": 0}, "hours must be a whole number from 1 to 720"),
        ({"kind": "data_stopped", "channels": "1"}, "channels must be a list"),
        ({"kind": "data_stopped", "channels": [True]}, "channels must be channel ids"),
        ({"kind": "data_stopped", "channels": [999999]}, "acme-corp has no alert channel 999999"),
        ({"kind": "data_stopped", "name": 5}, "name must be a string"),
        ({"kind": "data_stopped", "name": "n" * 101}, "at most 100 characters"),
    ],
)
def test_bad_rules_get_a_400_with_the_reason(api, acme, data, message):
    answer = api("olivia").post("/rules", data)
    assert answer.status_code == 400
    assert message in answer.json()["error"]
    assert not Rule.objects.exists()


def test_another_orgs_channel_cannot_be_named(api, acme):
    theirs = ChannelFactory(organization=OrganizationFactory(login="globex"))
    answer = api("olivia").post("/rules", {"kind": "data_stopped", "channels": [theirs.pk]})
    assert answer.status_code == 400 and not Rule.objects.exists()


def test_fired_alerts_are_listed_acknowledged_and_filtered(api, acme):
    rule = Rule.objects.create(organization=acme.org, kind="anomaly", params={})
    alert = fired(acme, rule)
    old = fired(acme, None, kind="budget", key="own@90", period=periods.current_month())
    olivia = api("olivia")
    listed = olivia.get("").json()
    assert isinstance(listed, list) and [a["id"] for a in listed] == [old.pk, alert.pk]
    assert listed[1] == {
        "id": alert.pk,
        "rule": rule.pk,
        "kind": "anomaly",
        "fired_at": alert.fired_at.isoformat(),
        "period": periods.today().isoformat(),
        "message": alert.message,
        "acknowledged": False,
        "deliveries": [],
    }
    assert listed[0]["period"] == f"{periods.today():%Y-%m}" and listed[0]["rule"] is None
    acked = olivia.post(f"/{alert.pk}/acknowledge")
    assert acked.status_code == 200 and acked.json()["acknowledged"] is True
    assert olivia.post(f"/{alert.pk}/acknowledge").status_code == 200  # twice is harmless
    assert AuditEvent.objects.filter(action="alerts.acknowledge").count() == 1
    assert [a["id"] for a in olivia.get("", acknowledged="false").json()] == [old.pk]
    assert [a["id"] for a in olivia.get("", kind="anomaly").json()] == [alert.pk]
    assert olivia.get("", kind="x").status_code == 400
    assert olivia.get("", acknowledged="maybe").status_code == 400
    assert olivia.post("/999999/acknowledge").status_code == 404


def test_mute_and_unmute(api, acme):
    olivia = api("olivia")
    rule_id = olivia.post("/rules", {"kind": "data_stopped"}).json()["id"]
    muted = olivia.post(f"/rules/{rule_id}/mute", {"days": 7}).json()
    until = Rule.objects.get().muted_until
    assert abs(until - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)
    assert muted["muted_until"] == until.isoformat()
    day = (periods.today() + timedelta(days=3)).isoformat()
    assert (
        olivia.post(f"/rules/{rule_id}/mute", {"until": day})
        .json()["muted_until"]
        .startswith((periods.today() + timedelta(days=4)).isoformat())
    )
    assert olivia.post(f"/rules/{rule_id}/mute", {"days": 0}).json()["muted_until"] is None
    for bad in ({}, {"days": -1}, {"days": 400}, {"until": "soon"}, {"days": 1, "until": day}):
        assert olivia.post(f"/rules/{rule_id}/mute", bad).status_code == 400, bad
    past = (periods.today() - timedelta(days=1)).isoformat()
    assert olivia.post(f"/rules/{rule_id}/mute", {"until": past}).status_code == 400


def test_subscriptions(api, acme):
    channel = ChannelFactory(organization=acme.org)
    bill = api("bill")
    data = {"channel": channel.pk, "weekly": True, "timezone": "America/Los_Angeles"}
    created = bill.post("/subscriptions", data)
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["user"], body["weekly"], body["monthly"], body["timezone"]) == (
        "bill",
        True,
        False,
        "America/Los_Angeles",
    )
    changed = bill.post("/subscriptions", {**data, "monthly": True})
    assert changed.status_code == 200 and changed.json()["id"] == body["id"]
    assert Subscription.objects.filter(user__isnull=False).count() == 1
    assert api("olivia").get("/subscriptions").json()["subscriptions"][0]["user"] == "bill"
    for bad, message in (
        ({"channel": channel.pk, "weekly": True, "timezone": "Mars/Base"}, "IANA time zone"),
        ({"channel": channel.pk}, "choose weekly, monthly or both"),
        ({"weekly": True}, "channel is required"),
        ({"channel": channel.pk, "weekly": "perhaps"}, "weekly must be true or false"),
        ({"channel": channel.pk, "weekly": True, "daily": True}, "unknown field(s): daily"),
    ):
        answer = bill.post("/subscriptions", bad)
        assert answer.status_code == 400 and message in answer.json()["error"], bad
    assert api("olivia").delete(f"/subscriptions/{body['id']}").status_code == 204
    assert not Subscription.objects.filter(user__isnull=False).exists()


def test_send_a_digest_now_and_its_cool_down(api, acme, settings):
    settings.ALERTS_DIGEST_NOW_COOLDOWN_SECONDS = 60
    channel = ChannelFactory(organization=acme.org)
    olivia = api("olivia")
    sent = olivia.post("/digests", {"channel": channel.pk, "kind": "weekly"})
    assert sent.status_code == 201, sent.content
    assert sent.json()["event"] == "digest.weekly"
    digest = Digest.objects.get()
    assert digest.on_demand and digest.period_end - digest.period_start == timedelta(days=6)
    assert digest.period_start.weekday() == 0 and digest.period_end < periods.today()
    again = olivia.post("/digests", {"channel": channel.pk, "kind": "monthly"})
    assert again.status_code == 429 and 0 < int(again["Retry-After"]) <= 60
    assert olivia.post("/digests", {"channel": 12345, "kind": "weekly"}).status_code == 400
    settings.ALERTS_DIGEST_NOW_COOLDOWN_SECONDS = 0
    assert olivia.post("/digests", {"channel": channel.pk, "kind": "daily"}).status_code == 400


def test_members_strangers_and_anonymous(api, acme):
    channel = ChannelFactory(organization=acme.org)
    rule = Rule.objects.create(organization=acme.org, kind="data_stopped", params={"hours": 24})
    alert = fired(acme, rule)
    subscription = Subscription.objects.create(
        organization=acme.org, channel=channel, user=acme.people["olivia"], weekly=True
    )
    calls = [
        ("get", "", None),
        ("get", "/rules", None),
        ("post", "/rules", {"kind": "data_stopped"}),
        ("get", f"/rules/{rule.pk}", None),
        ("post", f"/rules/{rule.pk}/mute", {"days": 1}),
        ("post", f"/{alert.pk}/acknowledge", None),
        ("get", "/subscriptions", None),
        ("post", "/subscriptions", {"channel": channel.pk, "weekly": True}),
        ("get", f"/subscriptions/{subscription.pk}", None),
        ("post", "/digests", {"channel": channel.pk, "kind": "weekly"}),
        ("delete", f"/subscriptions/{subscription.pk}", None),
        ("delete", f"/rules/{rule.pk}", None),
    ]
    for who, expected in (("mia", 404), ("charlie", 404), (None, 401)):
        client = api(who)
        for method, path, data in calls:
            args = (path, data) if method == "post" else (path,)
            answer = getattr(client, method)(*args)
            assert answer.status_code == expected, (who, method, path)
    assert Rule.objects.count() == 1 and Subscription.objects.count() == 1
    assert not Digest.objects.exists() and FiredAlert.objects.get().acknowledged_at is None
    for method, path, data in calls:
        args = (path, data) if method == "post" else (path,)
        assert getattr(api("bill"), method)(*args).status_code in (200, 201, 204), path


def test_writes_need_the_csrf_token(api, acme):
    olivia = api("olivia")
    base = olivia.base
    answer = olivia.client.post(
        base + "/rules", '{"kind": "data_stopped"}', content_type="application/json"
    )
    assert answer.status_code == 403 and not Rule.objects.exists()


def test_the_isolation_walk_covers_the_new_routes():
    from tests.accounts.test_isolation import org_routes

    names = {name for _, name in org_routes()}
    assert {
        "org_alerts",
        "api_alerts",
        "api_alert_acknowledge",
        "api_alert_rules",
        "api_alert_rule",
        "api_alert_rule_mute",
        "api_alert_subscriptions",
        "api_alert_subscription",
        "api_alert_digests",
    } <= names
