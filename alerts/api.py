"""The alerts JSON API, session-authenticated like ``/api/orgs/<login>/usage``:

- ``GET  /api/orgs/<login>/alerts/channels``: the channels (never a destination).
- ``POST /api/orgs/<login>/alerts/channels`` with ``{"kind": "slack"|"teams"|"webhook"|
  "email", "url" (chat and webhook) or "address" (e-mail), "name"?}``: 201 with the
  channel and, for a webhook, its signing ``secret`` (shown this once); 400 with the
  reason (a refused URL, a bad address).
- ``GET``/``DELETE /api/orgs/<login>/alerts/channels/<id>``: one channel; delete: 204.
- ``POST /api/orgs/<login>/alerts/channels/<id>/test``: send a test message now; 201
  with the delivery (its id, status and error).
- ``GET  /api/orgs/<login>/alerts/deliveries[?channel=<id>]``: the newest deliveries.

401 without a session, 404 for anyone who may not see the organization's billing
(owners and billing managers may). Writes need Django's CSRF token in the
``X-CSRFToken`` header: every GET here sets the ``csrftoken`` cookie it comes from.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Organization
from usage.web.json_api import json_body, json_error, org_or_error

from . import selectors, services
from .models import Channel

CREATE_FIELDS = {"kind", "url", "address", "name"}


def _create(request: HttpRequest, organization: Organization) -> JsonResponse:
    data = json_body(request)
    if isinstance(data, JsonResponse):
        return data
    unknown = sorted(set(data) - CREATE_FIELDS)
    if unknown:
        return json_error(
            f"unknown field(s): {', '.join(unknown)}; a channel takes kind, url or "
            "address, and name"
        )
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in Channel.Kind.values:
        return json_error(f"kind must be one of {', '.join(Channel.Kind.values)}")
    wanted, other = ("address", "url") if kind == Channel.Kind.EMAIL else ("url", "address")
    if other in data:
        return json_error(f"a {kind} channel takes {wanted!r}, not {other!r}")
    destination, name = data.get(wanted), data.get("name", "")
    if not isinstance(destination, str) or not destination.strip():
        return json_error(f"{wanted} is required for a {kind} channel (a string)")
    if not isinstance(name, str):
        return json_error("name must be a string")
    try:
        channel, secret = services.channel_create(
            organization=organization,
            user=request.user,
            kind=kind,
            destination=destination,
            name=name,
            request=request,
        )
    except services.ChannelInvalid as error:
        return json_error(str(error))
    body = selectors.channel_json(channel)
    if secret:
        body["secret"] = secret
    return JsonResponse(body, status=201)


@never_cache
@ensure_csrf_cookie
@require_http_methods(["GET", "POST"])
def api_channels(request: HttpRequest, login: str) -> JsonResponse:
    organization = org_or_error(request, login)
    if isinstance(organization, JsonResponse):
        return organization
    if request.method == "POST":
        return _create(request, organization)
    channels = selectors.org_channels(organization=organization)
    return JsonResponse(
        {
            "organization": organization.login,
            "channels": [selectors.channel_json(c) for c in channels],
        }
    )


@never_cache
@ensure_csrf_cookie
@require_http_methods(["GET", "DELETE"])
def api_channel(request: HttpRequest, login: str, channel_id: int) -> HttpResponse:
    organization = org_or_error(request, login)
    if isinstance(organization, JsonResponse):
        return organization
    channel = selectors.org_channel(organization=organization, channel_id=channel_id)
    if channel is None:
        return json_error("no such channel", 404)
    if request.method == "DELETE":
        services.channel_delete(channel=channel, user=request.user, request=request)
        return HttpResponse(status=204)
    return JsonResponse(selectors.channel_json(channel))


@never_cache
@require_POST
def api_channel_test(request: HttpRequest, login: str, channel_id: int) -> JsonResponse:
    organization = org_or_error(request, login)
    if isinstance(organization, JsonResponse):
        return organization
    channel = selectors.org_channel(organization=organization, channel_id=channel_id)
    if channel is None:
        return json_error("no such channel", 404)
    delivery = services.channel_send_test(channel=channel, user=request.user, request=request)
    return JsonResponse(selectors.delivery_json(delivery), status=201)


@never_cache
@ensure_csrf_cookie
@require_GET
def api_deliveries(request: HttpRequest, login: str) -> JsonResponse:
    organization = org_or_error(request, login)
    if isinstance(organization, JsonResponse):
        return organization
    channel_id = None
    if "channel" in request.GET:
        raw = request.GET["channel"]
        if not raw.isdigit() or len(raw) > 18:
            return json_error("channel must be a channel's id (a number)")
        channel_id = int(raw)
    deliveries = selectors.org_deliveries(organization=organization, channel_id=channel_id)
    return JsonResponse(
        {
            "organization": organization.login,
            "deliveries": [selectors.delivery_json(d) for d in deliveries],
        }
    )
