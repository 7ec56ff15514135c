"""Issue 17's "Done when", tried as a new user would, through the real stack: olivia sets a
Slack channel (the chat receiver) and an e-mail channel (the SMTP mailbox) and a 90 %
budget rule on acme-corp through the JSON API; a spend spike is injected in the
simulator; the next collection by a real Celery worker fires exactly one alert, which
arrives in the receiver and by e-mail with its reason; collecting again sends nothing
more; a weekly digest arrives; and the SSRF guard, in production mode, refuses
http://127.0.0.1, http://169.254.169.254 and a host name resolving to a private
address."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest

from alerts.models import Channel, Delivery, Digest, FiredAlert
from alerts.tasks import send_digests
from tests.helpers import github_env, mirror_installation, wait_for
from usage import periods
from usage.collection.services import run_enqueue
from usage.models import CollectionRun

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.dates,
]

SLACK_PATH = "/services/T0ACME/B0BILLING/q1w2e3r4t5y6u7i8"


@pytest.fixture
def celery_worker_env(simulator, sim_app, mailbox_server, chat_receiver_server) -> dict:
    return {
        **github_env(simulator, sim_app),
        "COLLECTION_LEASE_SECONDS": "30",
        "ALERTS_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8,::1/128",
        "ALERTS_ALLOW_HTTP": "true",
        "ALERTS_RETRY_BASE_SECONDS": "0.2",
        "ALERTS_RETRY_MAX_SECONDS": "1",
        "EMAIL_URL": f"smtp://127.0.0.1:{mailbox_server.smtp_port}",
        "DEFAULT_FROM_EMAIL": "billingdash <alerts@billingdash.test>",
        "SITE_URL": "https://billingdash.test",
    }


def installed(acme, sim) -> None:
    """acme-corp's installation as the installation webhook records it."""
    state = sim.control.state()
    info = next(o for o in state["orgs"] if o["login"] == "acme-corp")
    (inst,) = [i for i in state["installations"] if i["org_id"] == info["id"]]
    mirror_installation(acme.org, info, inst)


def month_net(sim, sku: str) -> Decimal:
    today = periods.today()
    totals = sim.control.totals(
        "acme-corp", periods.current_month().isoformat(), today.isoformat(), "sku"
    )
    return sum((Decimal(g["net"]) for g in totals["groups"] if g["key"] == sku), Decimal(0))


def spike_candidate(sim) -> tuple[str, Decimal, Decimal]:
    """A SKU used today whose month net a 20x spike of today raises (GitHub's included
    quotas absorb some SKUs' spikes): its name, and the month's net without and with it."""
    today = periods.today().isoformat()
    groups = sim.control.totals("acme-corp", today, today, "sku")["groups"]
    for group in sorted(groups, key=lambda g: -Decimal(g["net"])):
        before = month_net(sim, group["key"])
        sim.control.add_spike("acme-corp", today, group["key"], 20)
        after = month_net(sim, group["key"])
        sim.control.clear_spikes("acme-corp")
        if after > before * Decimal("1.3"):
            return group["key"], before, after
    raise AssertionError(f"no SKU of acme-corp's {today} grows with a spike: {groups}")


def collect(acme, worker, evaluations: int, *, months: int = 1) -> None:
    """Queue this month (and the `months - 1` before it) as "refresh now" does; wait for
    the worker's collection and for its `evaluations`-th rule evaluation to finish (one
    per month collected)."""
    runs = [
        run_enqueue(organization=acme.org, period=period, trigger="manual")
        for period in periods.last_months(months)
    ]
    assert all(created for _, created in runs)
    wait_for(
        lambda: all(CollectionRun.objects.get(pk=r.pk).state == "succeeded" for r, _ in runs),
        timeout=120,
        what=f"the collection to succeed: {worker.log()[-3000:]}",
    )
    done = re.compile(r"Task alerts\.evaluate_org\[[^\]]+\] succeeded")
    wait_for(
        lambda: len(done.findall(worker.log())) >= evaluations,
        timeout=60,
        what=f"evaluation {evaluations}: {worker.log()[-3000:]}",
    )


def settled(alert: FiredAlert) -> bool:
    return not Delivery.objects.filter(alert=alert).exclude(status__in=Delivery.FINAL).exists()


def test_done_when(acme, api, gh, receiver, mailbox, local_delivery, celery_worker, settings):
    installed(acme, gh)
    olivia = api("olivia")
    slack = olivia.post("/channels", {"kind": "slack", "url": receiver.url + SLACK_PATH})
    assert slack.status_code == 201, slack.content
    email = olivia.post("/channels", {"kind": "email", "address": "olivia@acme.example"})
    assert email.status_code == 201, email.content
    channels = [slack.json()["id"], email.json()["id"]]

    # A limit the spike pushes past 90 % but this month so far does not reach.
    sku, before, after = spike_candidate(gh)
    limit = ((before + after) / 2 / Decimal("0.9")).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert before < limit * Decimal("0.9") <= after
    rule = olivia.post(
        "/rules",
        {
            "kind": "budget",
            "channels": channels,
            "amount": str(limit),
            "scope": "sku",
            "target": sku,
            "thresholds": [90],
        },
    )
    assert rule.status_code == 201, rule.content

    collect(acme, celery_worker, evaluations=2, months=2)
    assert not FiredAlert.objects.exists()

    gh.control.add_spike("acme-corp", periods.today().isoformat(), sku, 20)
    collect(acme, celery_worker, evaluations=3)
    (alert,) = FiredAlert.objects.all()
    assert alert.key == "own@90" and alert.message.startswith(f"SKU {sku}: $")
    wait_for(lambda: settled(alert), timeout=60, what="the deliveries")
    deliveries = Delivery.objects.filter(alert=alert)
    assert sorted(d.status for d in deliveries) == ["sent", "sent"], celery_worker.log()[-3000:]
    (posted,) = receiver.messages()
    assert posted["kind"] == "slack" and alert.message.split(" (")[0] in posted["json"]["text"]
    assert "past the 90% threshold" in posted["json"]["text"]
    (mail,) = mailbox.messages()
    assert mail["rcpt_tos"] == ["olivia@acme.example"]
    assert "past the 90% threshold" in mail["text"] and alert.title in mail["subject"]

    # Collection reruns: nothing fires or is sent again.
    collect(acme, celery_worker, evaluations=4)
    assert FiredAlert.objects.count() == 1 and Delivery.objects.count() == 2
    assert len(receiver.messages()) == 1 and len(mailbox.messages()) == 1
    listed = olivia.get("").json()
    assert [(a["id"], a["acknowledged"], len(a["deliveries"])) for a in listed] == [
        (alert.pk, False, 2)
    ]

    # A weekly digest, due on Monday morning in olivia's time zone.
    tz = ZoneInfo("Europe/Berlin")
    subscribed = olivia.post(
        "/subscriptions", {"channel": channels[1], "weekly": True, "timezone": "Europe/Berlin"}
    )
    assert subscribed.status_code == 201
    now = datetime.now(UTC).astimezone(tz)
    monday = datetime.combine(now.date() - timedelta(days=now.weekday()), time(7, 30), tzinfo=tz)
    if monday > now:
        monday -= timedelta(days=7)
    send_digests.delay(monday.isoformat())
    wait_for(lambda: len(mailbox.messages()) == 2, timeout=60, what="the weekly digest")
    digest_mail = mailbox.messages()[1]
    assert "Weekly digest for acme-corp" in digest_mail["subject"]
    assert "acme-corp spent $" in digest_mail["text"]
    assert "the week before" in digest_mail["text"] and "not collected" not in digest_mail["text"]
    assert Digest.objects.get().kind == "weekly"
    send_digests.delay(monday.isoformat())  # the same Monday again: nothing more
    collect(acme, celery_worker, evaluations=5)
    assert len(mailbox.messages()) == 2


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/hook", "only https:// URLs are accepted"),
        ("https://127.0.0.1/hook", "127.0.0.1 is a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "only https:// URLs are accepted"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("https://localhost/hook", "localhost resolves to"),
    ],
)
def test_the_ssrf_guard_in_production_mode(api, acme, strict, url, reason):
    strict.DEBUG = False
    answer = api("olivia").post("/channels", {"kind": "slack", "url": url})
    assert answer.status_code == 400 and reason in answer.json()["error"]
    assert not Channel.objects.exists()
