"""The GitHub App's webhook endpoint: ``POST /github/webhook/``.

Order of work, so that an unauthenticated caller costs next to nothing and GitHub gets
its answer well within its 10 seconds:

1. ``Content-Length`` is checked before anything is read: a body over
   ``WEBHOOK_MAX_BODY_BYTES`` (1 MiB) is refused with 413 unread. GitHub caps payloads at
   25 MB, but the events the App receives are a few KB (the largest of GitHub's examples
   is under 6 KB): an unauthenticated caller must not make us read and hash 25 MB. The
   body is read from the stream, never through ``request.body``, which Django limits to
   ``DATA_UPLOAD_MAX_MEMORY_SIZE`` and would turn into a 400.
2. ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with ``GITHUB_WEBHOOK_SECRET``)
   is compared as bytes in constant time; missing, SHA-1-only (``X-Hub-Signature``),
   non-ASCII or wrong signatures get 401. Nothing is parsed before that.
3. The delivery is stored (``WebhookDelivery``, keyed by ``X-GitHub-Delivery``) and the
   Celery task is queued after commit. A broker that is down is logged, not raised: the
   answer is still 2xx and the sweep (``accounts.webhooks.tasks.sweep_webhook_deliveries``) queues
   the stored delivery once the broker is back.

A redelivery (GitHub's "Redeliver" button re-sends the same delivery GUID) is counted and
acknowledged; it is not processed again, except that one which had FAILED is re-armed.
https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.models import WebhookDelivery
from accounts.webhooks.handlers import is_handled
from accounts.webhooks.tasks import enqueue_delivery

log = logging.getLogger(__name__)

# GitHub: "Payloads are capped at 25 MB. If your event generates a larger payload, a webhook
# will not be fired." Ours are far smaller: the cap is settings.WEBHOOK_MAX_BODY_BYTES.
_READ_CHUNK = 64 * 1024
_DELIVERY_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")
_EVENT = re.compile(r"[a-z0-9_]{1,100}")


def _answer(status: int, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"message": message, **extra}, status=status)


def _content_length(request: HttpRequest) -> int | None:
    # No Content-Length means an empty body to Django (it cannot read chunked bodies).
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    return length if length >= 0 else None


def _read_body(request: HttpRequest, length: int) -> bytes:
    """Read exactly ``length`` bytes (never more) from the request stream."""
    chunks: list[bytes] = []
    remaining = length
    while remaining > 0:
        chunk = request.read(min(_READ_CHUNK, remaining))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def signature_is_valid(body: bytes, header: str | None, secret: str) -> bool:
    """GitHub's ``X-Hub-Signature-256``: ``sha256=`` + hex HMAC-SHA256 of the raw body."""
    if not header or not secret:
        return False
    try:
        received = header.strip().encode("ascii")
    except UnicodeEncodeError:
        # WSGI hands header bytes over as latin-1 text: non-ASCII cannot be a hex digest.
        return False
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(b"sha256=" + digest.encode("ascii"), received)


def _not_json(constant: str) -> Any:
    # Python's json accepts NaN and Infinity, which JSON (and PostgreSQL's jsonb) do not:
    # storing such a payload would fail with a 500.
    raise ValueError(f"{constant} is not valid JSON")


def _without_nul(value: Any) -> Any:
    # PostgreSQL's jsonb refuses U+0000 inside strings; JSON allows it.
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value


def _store(*, delivery_id: str, event: str, payload: dict[str, Any]) -> tuple[str, int]:
    action = payload.get("action")
    action = action[:100] if isinstance(action, str) else ""
    installation = payload.get("installation")
    installation_id = installation.get("id") if isinstance(installation, dict) else None
    handled = is_handled(event, action)
    with transaction.atomic():
        delivery, created = WebhookDelivery.objects.get_or_create(
            delivery_id=delivery_id,
            defaults={
                "event": event,
                "action": action,
                "installation_id": (
                    # An int (not a bool) that fits the bigint column.
                    installation_id
                    if type(installation_id) is int and 0 < installation_id < 2**63
                    else None
                ),
                "payload": payload,
                "state": (
                    WebhookDelivery.State.PENDING if handled else WebhookDelivery.State.IGNORED
                ),
            },
        )
        if created:
            if handled:
                transaction.on_commit(lambda: enqueue_delivery(delivery.pk))
                return "queued", 202
            return "ignored", 200
        WebhookDelivery.objects.filter(pk=delivery.pk).update(redeliveries=F("redeliveries") + 1)
        # A delivery that failed is worth another try when GitHub (or an operator)
        # redelivers it; one still pending is queued again (the claim makes that safe).
        rearmed = WebhookDelivery.objects.filter(
            pk=delivery.pk, state=WebhookDelivery.State.FAILED
        ).update(state=WebhookDelivery.State.PENDING, error="")
        if rearmed or delivery.state == WebhookDelivery.State.PENDING:
            transaction.on_commit(lambda: enqueue_delivery(delivery.pk))
            return "redelivery queued", 202
    return "duplicate", 200


@csrf_exempt
@require_POST
def github_webhook(request: HttpRequest) -> JsonResponse:
    secret = settings.GITHUB_WEBHOOK_SECRET
    if not secret:
        log.error("GITHUB_WEBHOOK_SECRET is not set: every webhook delivery is refused")
        return _answer(503, "Webhook secret not configured.")

    length = _content_length(request)
    if length is None:
        return _answer(400, "Invalid Content-Length.")
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    if length > limit:
        log.info("webhook refused unread: Content-Length %d over %d", length, limit)
        return _answer(
            413, f"Payload over {limit} bytes: billingdash subscribes only to small events."
        )
    body = _read_body(request, length)
    if len(body) != length:
        return _answer(400, "Body shorter than Content-Length.")

    header = request.headers.get("X-Hub-Signature-256")
    if not signature_is_valid(body, header, secret):
        if not header and request.headers.get("X-Hub-Signature"):
            return _answer(401, "X-Hub-Signature (SHA-1) is not accepted; use SHA-256.")
        return _answer(401, "Invalid or missing X-Hub-Signature-256.")

    event = request.headers.get("X-GitHub-Event", "")
    delivery_id = request.headers.get("X-GitHub-Delivery", "")
    if not _EVENT.fullmatch(event):
        return _answer(400, "Missing or invalid X-GitHub-Event.")
    if not _DELIVERY_ID.fullmatch(delivery_id):
        return _answer(400, "Missing or invalid X-GitHub-Delivery.")
    try:
        payload = json.loads(body, parse_constant=_not_json)
    except (ValueError, RecursionError) as error:
        return _answer(400, f"Malformed JSON: {str(error)[:200]}")
    if not isinstance(payload, dict):
        return _answer(400, "The payload is not a JSON object.")
    if b"\\u0000" in body:
        payload = _without_nul(payload)

    status_text, status = _store(delivery_id=delivery_id, event=event, payload=payload)
    return _answer(status, status_text, delivery=delivery_id)
