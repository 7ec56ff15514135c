"""What the rule engine hands to delivery (`Message`), and its shape on each channel:
Slack (``text`` + Block Kit blocks), Microsoft Teams (an Adaptive Card as a Workflows
webhook takes it), the generic webhook's JSON (schema ``billingdash.alert/v1``).

Teams: the Office 365 connectors' incoming webhooks (MessageCard) are retired; a
Teams channel now receives webhooks through a Workflows flow ("When a Teams webhook
request is received", or the template "Post to a channel when a webhook request is
received"). That trigger takes a Bot Framework-style message whose ``attachments`` hold
Adaptive Cards (contentType ``application/vnd.microsoft.card.adaptive``) and answers
202 Accepted; MessageCard is not supported there. We send card version 1.4, which Teams
renders everywhere, with plain TextBlocks, a FactSet and an Action.OpenUrl.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

SCHEMA = "billingdash.alert/v1"
SEVERITIES = ("info", "warning", "critical")
SLACK_MAX_FIELDS = 10  # Block Kit: at most 10 fields in a section


@dataclass(frozen=True)
class Message:
    """One alert or digest, channel-neutral. Holds no secrets: it is stored with the
    delivery (for retries) and shown in the deliveries list."""

    event: str  # "test", "budget.threshold", "usage.anomaly", ... (X-Billingdash-Event)
    organization: str  # the org's login
    title: str
    text: str
    severity: str = "info"
    facts: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    url: str = ""  # a billingdash page about it (absolute), optional

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["facts"] = [list(fact) for fact in self.facts]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        facts = tuple((str(k), str(v)) for k, v in data.get("facts") or ())
        return cls(
            event=str(data["event"]),
            organization=str(data["organization"]),
            title=str(data["title"]),
            text=str(data["text"]),
            severity=str(data.get("severity") or "info"),
            facts=facts,
            url=str(data.get("url") or ""),
        )


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn treats &, < and > as markup (links, mentions): escape them.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(message: Message) -> dict[str, Any]:
    """An incoming webhook's JSON: ``text`` is the notification and fallback, ``blocks``
    the layout."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(message.text)[:3000]}},
    ]
    if message.facts:
        fields = [
            {"type": "mrkdwn", "text": f"*{_slack_escape(k)}*\n{_slack_escape(v)}"[:2000]}
            for k, v in message.facts[:SLACK_MAX_FIELDS]
        ]
        blocks.append({"type": "section", "fields": fields})
    context = f"billingdash · {_slack_escape(message.organization)}"
    if message.url:
        context += f" · <{message.url}|Open in billingdash>"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return {"text": f"{message.title}: {message.text}"[:3000], "blocks": blocks}


def teams_payload(message: Message) -> dict[str, Any]:
    """What a Teams Workflows webhook takes: a message with one Adaptive Card."""
    color = {"critical": "Attention", "warning": "Warning"}.get(message.severity, "Default")
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": message.title,
            "size": "Large",
            "weight": "Bolder",
            "color": color,
            "wrap": True,
        },
        {"type": "TextBlock", "text": message.text, "wrap": True},
    ]
    if message.facts:
        body.append(
            {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in message.facts]}
        )
    body.append(
        {
            "type": "TextBlock",
            "text": f"billingdash · {message.organization}",
            "isSubtle": True,
            "size": "Small",
            "wrap": True,
        }
    )
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if message.url:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": "Open in billingdash", "url": message.url}
        ]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def webhook_payload(message: Message, *, delivery_id: str, timestamp: int) -> dict[str, Any]:
    """The generic webhook's body (stable schema ``billingdash.alert/v1``; fields are
    only ever added). `timestamp` is also sent as X-Billingdash-Timestamp: it is inside
    the signed body, so a receiver can refuse old replays."""
    return {
        "schema": SCHEMA,
        "event": message.event,
        "delivery_id": delivery_id,
        "timestamp": timestamp,
        "sent_at": datetime.fromtimestamp(timestamp, tz=UTC).isoformat(),
        "organization": {"login": message.organization},
        "alert": {
            "title": message.title,
            "text": message.text,
            "severity": message.severity,
            "facts": [{"name": k, "value": v} for k, v in message.facts],
            "url": message.url or None,
        },
    }


def json_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
