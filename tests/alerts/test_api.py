"""The alerts JSON API: channels created, listed, shown, tested and deleted by owners and
billing managers through a session with Django's CSRF token (as a script would);
everyone else gets 404 (401 anonymously); bad input a 400 that says why; every channel
change in the audit log without the destination."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent
from alerts.models import Channel, Delivery
from tests.factories import ChannelFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

SLACK = "/services/T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstuvwx"


def test_create_a_slack_channel_and_see_it_without_its_url(api, local_delivery, receiver):
    olivia = api("olivia")
    url = receiver.url + SLACK
    created = olivia.post("/channels", {"kind": "slack", "url": url, "name": "  #billing  "})
    assert created.status_code == 201, created.content
    body = created.json()
    assert set(body) == {
        "id",
        "kind",
        "name",
        "destination_hint",
        "enabled",
        "subscribed",
        "created_at",
        "created_by",
    }
    assert (body["kind"], body["name"], body["created_by"]) == ("slack", "#billing", "olivia")
    assert body["destination_hint"] == f"127.0.0.1:{receiver.port}/…/uvwx"
    assert body["subscribed"] is None and body["enabled"] is True
    listed = olivia.get("/channels").json()
    assert listed == {"organization": "acme-corp", "channels": [body]}
    assert olivia.get(f"/channels/{body['id']}").json() == body
    channel = Channel.objects.get()
    assert channel.destination == url and channel.secret == ""
    event = AuditEvent.objects.get(action="alerts.channel_create")
    assert event.actor.github_login == "olivia" and event.organization.login == "acme-corp"
    assert event.details["destination"] == body["destination_hint"]
    assert "abcdefgh" not in str(event.details) + event.target


def test_a_webhook_channel_gets_its_secret_once(api, local_delivery, receiver):
    bill = api("bill")
    created = bill.post("/channels", {"kind": "webhook", "url": receiver.url + "/generic"})
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("bdwhsec_") and len(secret) > 40
    channel_id = created.json()["id"]
    assert Channel.objects.get().secret == secret
    for answer in (bill.get("/channels"), bill.get(f"/channels/{channel_id}")):
        assert secret not in answer.content.decode()
        assert "secret" not in answer.content.decode()
    assert created.json()["name"] == f"Webhook 127.0.0.1:{receiver.port}/…/eric"


def test_email_and_teams_channels(api, local_delivery, receiver):
    olivia = api("olivia")
    email = olivia.post("/channels", {"kind": "email", "address": " Owner.Olivia@Example.com "})
    assert email.status_code == 201
    assert email.json()["destination_hint"] == "O***@Example.com"
    assert email.json()["subscribed"] is True and "secret" not in email.json()
    teams = olivia.post("/channels", {"kind": "teams", "url": receiver.url + "/workflows/x1y2"})
    assert teams.status_code == 201
    assert teams.json()["destination_hint"] == f"127.0.0.1:{receiver.port}/…/x1y2"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "slack", "url": "https://127.0.0.1/hook"}, "refused: 127.0.0.1 is a loopback"),
        ({"kind": "webhook", "url": "http://169.254.169.254/latest"}, "only https://"),
        ({"kind": "teams", "url": "https://[::1]/x"}, "refused: ::1 is a loopback address"),
        ({"kind": "slack", "url": "https://localhost/x"}, "localhost resolves to"),
        ({"kind": "webhook", "url": "https://u:p@example.com/"}, "user name or password"),
        ({"kind": "sms", "url": "https://example.com/"}, "kind must be one of"),
        ({"url": "https://example.com/"}, "kind must be one of"),
        ({"kind": "slack"}, "url is required for a slack channel"),
        ({"kind": "slack", "url": ""}, "url is required"),
        ({"kind": "slack", "url": 5}, "url is required"),
        ({"kind": "email", "url": "https://example.com/"}, "takes 'address', not 'url'"),
        ({"kind": "slack", "address": "a@example.com"}, "takes 'url', not 'address'"),
        ({"kind": "email", "address": "not an address"}, "is not an e-mail address"),
        ({"kind": "email", "address": "a@b.com\nBcc: x@y.com"}, "is not an e-mail address"),
        ({"kind": "email", "address": "a@example.com", "name": ["x"]}, "name must be a string"),
        ({"kind": "email", "address": "a@example.com", "name": "n" * 101}, "at most 100"),
        ({"kind": "email", "address": "a@example.com", "to": "x"}, "unknown field(s): to"),
        ([], "the body must be a JSON object"),
    ],
)
def test_bad_input_gets_a_400_with_the_reason(api, strict, data, message):
    answer = api("olivia").post("/channels", data)
    assert answer.status_code == 400
    assert message in answer.json()["error"]
    assert not Channel.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="alerts.").exists()


def test_a_body_that_is_not_json(api):
    answer = api("olivia").post("/channels", raw=b"kind=slack")
    assert answer.status_code == 400 and answer.json() == {"error": "the body must be JSON"}
    assert api("olivia").post("/channels", raw=b"\xff\xfe").status_code == 400


def test_delete_a_channel(api, acme):
    channel = ChannelFactory(organization=acme.org)
    olivia = api("olivia")
    assert olivia.delete(f"/channels/{channel.pk}").status_code == 204
    assert not Channel.objects.exists()
    assert olivia.delete(f"/channels/{channel.pk}").status_code == 404
    event = AuditEvent.objects.get(action="alerts.channel_delete")
    assert event.details["destination"] == channel.destination_hint
    assert channel.destination not in str(event.details)


def test_another_orgs_channel_is_a_404(api, acme):
    theirs = ChannelFactory(organization=OrganizationFactory(login="globex"))
    olivia = api("olivia")
    assert olivia.get(f"/channels/{theirs.pk}").status_code == 404
    assert olivia.delete(f"/channels/{theirs.pk}").status_code == 404
    assert olivia.post(f"/channels/{theirs.pk}/test").status_code == 404
    assert olivia.get(f"/channels/{2**64}").status_code == 404
    assert olivia.get("/deliveries", channel="x").status_code == 400
    assert Channel.objects.count() == 1 and not Delivery.objects.exists()


def test_the_test_endpoint_answers_with_the_delivery(api, acme, local_delivery, receiver):
    olivia = api("olivia")
    channel_id = olivia.post("/channels", {"kind": "slack", "url": receiver.url + SLACK}).json()[
        "id"
    ]
    answer = olivia.post(f"/channels/{channel_id}/test")
    assert answer.status_code == 201
    delivery = answer.json()
    assert (delivery["status"], delivery["event"], delivery["attempts"]) == ("sent", "test", 1)
    assert delivery["last_status_code"] == 200 and delivery["error"] == ""
    (arrived,) = receiver.messages()
    assert arrived["kind"] == "slack" and "Test message from billingdash" in arrived["raw"]
    listed = olivia.get("/deliveries").json()["deliveries"]
    assert [d["id"] for d in listed] == [delivery["id"]]
    assert olivia.get("/deliveries", channel=channel_id).json()["deliveries"] == listed
    assert olivia.get("/deliveries", channel=channel_id + 1).json()["deliveries"] == []
    assert AuditEvent.objects.filter(action="alerts.channel_test").count() == 1


def test_a_failing_test_says_why(api, acme, local_delivery, receiver):
    olivia = api("olivia")
    created = olivia.post("/channels", {"kind": "teams", "url": receiver.url + "/gone/abcd"})
    receiver.script("/gone/abcd", {"status": 404, "body": "channel not found"})
    delivery = olivia.post(f"/channels/{created.json()['id']}/test").json()
    assert delivery["status"] == "failed" and delivery["last_status_code"] == 404
    assert delivery["error"] == "127.0.0.1 answered 404: channel not found"


# --- who may ------------------------------------------------------------------------------


def test_owners_and_billing_managers_may_others_get_404_anonymous_401(api, acme):
    channel = ChannelFactory(organization=acme.org)
    calls = [
        ("get", "/channels", None),
        ("post", "/channels", {"kind": "email", "address": "x@example.com"}),
        ("get", f"/channels/{channel.pk}", None),
        ("post", f"/channels/{channel.pk}/test", None),
        ("get", "/deliveries", None),
        ("delete", f"/channels/{channel.pk}", None),
    ]
    for who, expected in (("mia", 404), ("charlie", 404), (None, 401)):
        client = api(who)
        for method, path, data in calls:
            args = (path, data) if method == "post" else (path,)
            answer = getattr(client, method)(*args)
            assert answer.status_code == expected, (who, method, path)
            assert answer.json()["error"] in ("no such organization", "authentication required")
    assert Channel.objects.count() == 1 and not Delivery.objects.exists()
    for who in ("olivia", "bill"):
        client = api(who)
        for method, path, data in calls[:-1]:
            args = (path, data) if method == "post" else (path,)
            assert getattr(client, method)(*args).status_code in (200, 201), (who, path)
    assert api("bill").delete(f"/channels/{channel.pk}").status_code == 204


def test_writes_need_the_csrf_token(api, acme):
    olivia = api("olivia")
    data = '{"kind": "email", "address": "x@example.com"}'
    answer = olivia.client.post(olivia.base + "/channels", data, content_type="application/json")
    assert answer.status_code == 403
    channel = ChannelFactory(organization=acme.org)
    assert olivia.client.delete(f"{olivia.base}/channels/{channel.pk}").status_code == 403
    assert olivia.client.post(f"{olivia.base}/channels/{channel.pk}/test").status_code == 403
    assert Channel.objects.count() == 1 and not Delivery.objects.exists()
    # The GETs hand out the cookie the header repeats.
    assert "csrftoken" in olivia.get("/deliveries").cookies
    created = olivia.post("/channels", {"kind": "email", "address": "x@example.com"})
    assert created.status_code == 201


def test_the_channel_limit(api, acme):
    ChannelFactory.create_batch(50, organization=acme.org)
    answer = api("olivia").post("/channels", {"kind": "email", "address": "x@example.com"})
    assert answer.status_code == 400 and "at most 50 alert channels" in answer.json()["error"]


def test_the_isolation_walk_covers_the_alerts_api():
    from tests.accounts.test_isolation import org_routes

    names = {name for _, name in org_routes()}
    assert {
        "api_alert_channels",
        "api_alert_channel",
        "api_alert_channel_test",
        "api_alert_deliveries",
    } <= names
