"""Signed webhook deliveries to a real receiving HTTP server, validated against x-webhooks."""

from __future__ import annotations

import hashlib
import hmac
import uuid

from tests.ghsim.openapi_check import check_webhook


def delivered(sim, receiver):
    """[(event, action, payload, headers)] received so far, each checked for GitHub's
    headers, valid signatures over the raw body and the x-webhooks schema."""
    sim.control.wait_for_deliveries()
    out = []
    for headers, body in list(receiver.received):
        secret = sim.config.webhook_secret.encode()
        sha256 = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        sha1 = "sha1=" + hmac.new(secret, body, hashlib.sha1).hexdigest()
        assert hmac.compare_digest(headers["X-Hub-Signature-256"], sha256)
        assert hmac.compare_digest(headers["X-Hub-Signature"], sha1)
        assert uuid.UUID(headers["X-GitHub-Delivery"])
        assert headers["X-GitHub-Hook-Installation-Target-Type"] == "integration"
        assert headers["X-GitHub-Hook-Installation-Target-ID"] == str(sim.config.app_id)
        assert headers["X-GitHub-Hook-ID"].isdigit()
        assert headers["User-Agent"].startswith("GitHub-Hookshot/")
        assert headers["Content-Type"] == "application/json"
        import json

        payload = json.loads(body)
        check_webhook(headers["X-GitHub-Event"], payload)
        out.append((headers["X-GitHub-Event"], payload.get("action"), payload, headers))
    return out


def kinds(events) -> list[tuple[str, str]]:
    return [(e, a) for e, a, _, _ in events]


def test_installation_lifecycle(sim, receiver):
    inst = sim.control.install("globex", requester="mia", sender="olivia")
    sim.control.suspend(inst["id"])
    sim.control.unsuspend(inst["id"])
    sim.control.accept_permissions(
        inst["id"],
        {"organization_administration": "read", "members": "read", "organization_plan": "read"},
    )
    sim.control.uninstall(inst["id"])
    events = delivered(sim, receiver)
    assert kinds(events) == [
        ("installation", "created"),
        ("installation", "suspend"),
        ("installation", "unsuspend"),
        ("installation", "new_permissions_accepted"),
        ("installation", "deleted"),
    ]
    created = events[0][2]
    assert created["installation"]["id"] == inst["id"]
    assert created["installation"]["account"]["login"] == "globex"
    assert created["installation"]["account"]["id"] == 7770002
    assert created["installation"]["app_id"] == sim.config.app_id
    assert created["requester"]["login"] == "mia"
    assert created["sender"]["login"] == "olivia"
    assert any(r["name"] == "api" for r in created["repositories"])
    assert events[1][2]["installation"]["suspended_by"]["login"] == "olivia"
    assert events[3][2]["installation"]["permissions"]["organization_plan"] == "read"


def test_rename_sends_installation_target_and_organization_events(sim, receiver):
    sim.control.rename_org("acme-corp", "acme-inc")
    events = delivered(sim, receiver)
    assert kinds(events) == [("installation_target", "renamed"), ("organization", "renamed")]
    target = events[0][2]
    assert target["changes"]["login"]["from"] == "acme-corp"
    assert target["account"]["login"] == "acme-inc"
    assert target["installation"]["id"] == 8880001
    assert events[1][2]["organization"]["login"] == "acme-inc"


def test_authorization_revoked(sim, receiver):
    sim.control.revoke("bill")
    events = delivered(sim, receiver)
    assert kinds(events) == [("github_app_authorization", "revoked")]
    assert events[0][2]["sender"]["login"] == "bill"


def test_membership_changes_reach_the_app_as_organization_events(sim, receiver):
    sim.control.set_membership("acme-corp", "nora", "member", teams=["platform"])
    sim.control.set_membership("acme-corp", "nora", "admin")  # role change: no webhook
    sim.control.set_membership("acme-corp", "charlie", "billing_manager")  # not a member
    sim.control.remove_membership("acme-corp", "nora")
    sim.control.set_membership("globex", "nora", "member")  # App not installed on globex
    events = delivered(sim, receiver)
    assert kinds(events) == [
        ("organization", "member_added"),
        ("membership", "added"),
        ("membership", "removed"),
        ("organization", "member_removed"),
    ]
    added = events[0][2]
    assert added["membership"]["user"]["login"] == "nora"
    assert added["membership"]["role"] == "member"
    assert added["installation"]["id"] == 8880001
    assert events[1][2]["team"]["slug"] == "platform"
    assert events[1][2]["scope"] == "team"


def test_deliveries_are_recorded_and_can_be_redelivered(sim, receiver):
    sim.control.install("globex")
    sim.control.wait_for_deliveries()
    [delivery] = sim.control.deliveries()
    assert delivery["event"] == "installation" and delivery["action"] == "created"
    assert delivery["status_code"] == 200 and delivery["delivered"]
    assert delivery["response_excerpt"] == "ok"
    sim.control.redeliver(delivery["guid"])
    events = delivered(sim, receiver)
    assert len(events) == 2
    assert events[0][3]["X-GitHub-Delivery"] == events[1][3]["X-GitHub-Delivery"]
    assert events[0][2] == events[1][2]
    [again] = sim.control.deliveries()
    assert len(again["attempts"]) == 2 and again["redelivery"]


def test_failed_and_unsent_deliveries(sim, receiver):
    receiver.status = 500
    sim.control.install("globex")
    sim.control.wait_for_deliveries()
    failed = sim.control.deliveries()[-1]
    assert failed["status_code"] == 500 and not failed["delivered"]
    sim.control.set_webhook_url(None)
    sim.control.revoke("mia")
    sim.control.wait_for_deliveries()
    unsent = sim.control.deliveries()[-1]
    assert unsent["event"] == "github_app_authorization"
    assert unsent["status_code"] is None and not unsent["delivered"]
    assert "no webhook URL" in unsent["error"]
    assert unsent["payload"]["sender"]["login"] == "mia"
