"""Sending one delivery over HTTP: Slack and Teams incoming webhooks and the generic
signed webhook, always through the SSRF guard (`alerts.ssrf`), and the `Outcome` every
sender answers (e-mail is in `alerts.mail`).

Written with requests rather than apprise: apprise's plugins call ``requests.post`` on
URLs they rebuild themselves, follow redirects and resolve the host again when they
connect, so its requests cannot be pinned to the address the guard checked.

Errors are written in words by us (never an exception's text, which carries the URL),
then scrubbed of the channel's destination and secret and redacted
(`billingdash.logging.redact`).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, urlsplit

import requests

from billingdash.logging import redact

from . import ssrf
from .messages import Message, json_bytes, slack_payload, teams_payload, webhook_payload
from .models import Channel, Delivery

USER_AGENT = "billingdash-alerts/1"
ERROR_MAX = 2000
EXCERPT_MAX = 200


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to. `retryable`: a network error, a timeout, 5xx, 408 or
    429 (try again later, after `retry_after` seconds when the receiver said so)."""

    ok: bool
    retryable: bool = False
    status_code: int | None = None
    retry_after: float | None = None
    error: str = ""


def scrub(text: str, channel: Channel) -> str:
    """`text` without the channel's destination (or any long part of it) and secret."""
    secrets = {str(channel.destination or ""), str(channel.secret or "")}
    if channel.kind != Channel.Kind.EMAIL and channel.destination:
        parts = urlsplit(str(channel.destination))
        secrets |= {parts.path, parts.query, parts.path + "?" + parts.query}
        secrets |= {segment for segment in parts.path.split("/") if len(segment) >= 8}
        secrets |= {value for _, value in parse_qsl(parts.query) if len(value) >= 8}
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, channel.destination_hint or "***")
    return redact(text)[:ERROR_MAX]


def signature(secret: str, body: bytes) -> str:
    """The X-Billingdash-Signature-256 value: ``sha256=<hex HMAC-SHA256 of the body>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.fromtimestamp(now if now is not None else time.time(), tz=UTC)
    return max(0.0, (when - current).total_seconds())


def _excerpt(body: bytes) -> str:
    text = " ".join(body[: EXCERPT_MAX * 4].decode("utf-8", "replace").split())
    return text[:EXCERPT_MAX]


def _request(channel: Channel, delivery: Delivery, message: Message) -> tuple[bytes, dict]:
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if channel.kind == Channel.Kind.SLACK:
        return json_bytes(slack_payload(message)), headers
    if channel.kind == Channel.Kind.TEAMS:
        return json_bytes(teams_payload(message)), headers
    timestamp = int(time.time())
    delivery_id = str(delivery.delivery_id)
    body = json_bytes(webhook_payload(message, delivery_id=delivery_id, timestamp=timestamp))
    headers |= {
        "X-Billingdash-Event": message.event,
        "X-Billingdash-Delivery": delivery_id,
        "X-Billingdash-Timestamp": str(timestamp),
        "X-Billingdash-Signature-256": signature(str(channel.secret), body),
    }
    return body, headers


def _network_error(error: requests.RequestException, target: ssrf.Target) -> str:
    where = f"{target.hostname} ({target.address})"
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return f"could not connect to {where}: timed out"
    if isinstance(error, requests.exceptions.ReadTimeout):
        return f"{where} did not answer in time (timed out)"
    if isinstance(error, requests.exceptions.SSLError):
        return f"the TLS connection to {where} failed (certificate or protocol)"
    if isinstance(error, requests.exceptions.ConnectionError):
        reason = "connection refused" if "refused" in str(error).lower() else "connection failed"
        return f"could not connect to {where}: {reason}"
    return f"the request to {where} failed ({type(error).__name__})"


def _answer(answer: ssrf.HttpAnswer, target: ssrf.Target) -> Outcome:
    code = answer.status
    if 200 <= code < 300:
        return Outcome(ok=True, status_code=code)
    said = _excerpt(answer.body)
    said = f": {said}" if said else ""
    if 300 <= code < 400:
        return Outcome(
            ok=False,
            status_code=code,
            error=f"{target.hostname} answered {code}, a redirect; billingdash does not follow "
            "redirects: give the final URL",
        )
    retry_after = parse_retry_after(answer.headers.get("Retry-After"))
    if code in (408, 429) or code >= 500:
        return Outcome(
            ok=False,
            retryable=True,
            status_code=code,
            retry_after=retry_after,
            error=f"{target.hostname} answered {code}{said}",
        )
    return Outcome(ok=False, status_code=code, error=f"{target.hostname} answered {code}{said}")


def send_http(channel: Channel, delivery: Delivery, message: Message) -> Outcome:
    """One POST of `message` to a Slack, Teams or generic webhook channel."""
    checked = ssrf.check_url(str(channel.destination))
    if isinstance(checked, ssrf.Refused):
        # "does not resolve" may be a passing DNS failure; every other refusal is final.
        temporary = checked.reason.endswith("does not resolve to an address")
        return Outcome(ok=False, retryable=temporary, error=scrub(str(checked), channel))
    body, headers = _request(channel, delivery, message)
    try:
        answer = ssrf.post(checked, body, headers)
    except requests.RequestException as error:
        words = _network_error(error, checked)
        return Outcome(ok=False, retryable=True, error=scrub(words, channel))
    outcome = _answer(answer, checked)
    return replace(outcome, error=scrub(outcome.error, channel)) if outcome.error else outcome
