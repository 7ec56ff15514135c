"""The alerts JSON API beyond channels (`alerts.api`): rules, fired alerts, digest
subscriptions and "send a digest now". Session-authenticated, CSRF header on writes, every
view starting with the access helper (through `usage.web.json_api.org_or_error`): 401
anonymous, 404 for anyone who may not see the organization's billing.

- ``GET``/``POST /api/orgs/<login>/alerts/rules``: ``{"kind", "channels": [ids], "name"?,
  ...the rule's parameters}`` → 201 with the rule (``alerts.rule_params`` lists them);
  ``GET``/``DELETE .../alerts/rules/<id>``; ``POST .../alerts/rules/<id>/mute`` with
  ``{"days": n}`` or ``{"until": "YYYY-MM-DD"}`` (``{"days": 0}`` unmutes).
- ``GET /api/orgs/<login>/alerts[?kind=&acknowledged=true|false]``: the newest fired
  alerts, ``[{"id", "rule", "kind", "fired_at", "period", "message", "acknowledged",
  "deliveries"}]``; ``POST .../alerts/<id>/acknowledge``.
- ``GET``/``POST .../alerts/subscriptions`` (``{"channel", "weekly", "monthly",
  "timezone"}``: your own digest subscription on that channel, made (201) or changed
  (200)); ``GET``/``DELETE .../alerts/subscriptions/<id>``.
- ``POST .../alerts/digests`` ``{"channel", "kind": "weekly"|"monthly"}``: the last
  complete week or month, now (201 with the delivery; 429 within the cool-down).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from usage.web.json_api import json_body, json_error, org_or_error

from . import rules as services
from . import selectors
from .models import Rule
from .rule_params import RuleInvalid


@never_cache
@ensure_csrf_cookie
@require_http_methods(["GET", "POST"])
def api_rules(request: HttpRequest, login: str) -> JsonResponse:
    organization = org_or_error(request, login)
    if isinstance(organization, JsonResponse):
        return organization
    if request.method == "POST":
        data = json_body(request)
        if isinstance(data, JsonResponse):
            return data
        try:
            rule = services.rule_create(
                organization=organization, user=request.user, data=data, request=request
            )
        except RuleInvalid as error:
            return json_error(str(error))
        rule = selectors.org_rule(organization=organization, rule_id=rule.pk)
        return JsonResponse(selectors.rule_json(rule), status=201)
    rules = selectors.org_rules(organization=organization)
    return JsonResponse(
        {"organization": organization.login, "rules": [selectors.rule_json(r) for r in rules]}
    )


@never_cache
@ensure_csrf_cookie
@require_http_methods(["GET", "DELETE"])
def api_rule(request: HttpRequest, login: str, rule_id: int) -> HttpResponse:
    organization = org_or_error(request, login)
    if isinstance(organization, JsonResponse):
        return organization
    rule = selectors.org_rule(organization=organization, rule_id=rule_id)
    if rule is None:
        return json_error("no such rule", 404)
    if request.method == "DELETE":
        services.rule_delete(rule=rule, user=request.user, request=request)
        return HttpResponse(status=204)
    return JsonResponse(selectors.rule_json(rule))


@never_cache
@require_POST
def api_rule_mute(request: HttpRequest, login: str, rule_id: int) -> JsonResponse:
    organization = org_or_error(request, login)
    if isinstance(organization, JsonResponse):
        return organization
    rule = selectors.org_rule(organization=organization, rule_id=rule_id)
    if rule is None:
        return json_error("no such rule", 404)
    data = json_body(request)
    if isinstance(data, JsonResponse):
        return data
    try:
        until = services.mute_until(data)
    except RuleInvalid as error:
        return json_error(str(error))
    services.rule_mute(rule=rule, user=request.user, until=until, request=request)
    rule = selectors.org_rule(organization=organization, rule_id=rule_id)
    return JsonResponse(selectors.rule_json(rule))


def _acknowledged(request: HttpRequest) -> bool | JsonResponse | None:
    raw = request.GET.get("acknowledged")
    if raw is None or raw == "":
        return None
    if raw not in ("true", "false"):
        return json_error("acknowledged must be true or false")
    return raw == "true"


@never_cache
@ensure_csrf_cookie
@require_GET
def api_alerts(request: HttpRequest, login: str) -> JsonResponse:
    organization = org_or_error(request, login)
    if isinstance(organization, JsonResponse):
        return organization
    kind = request.GET.get("kind") or None
    if kind is not None and kind not in Rule.Kind.values:
        return json_error(f"kind must be one of {', '.join(Rule.Kind.values)}")
    acknowledged = _acknowledged(request)
    if isinstance(acknowledged, JsonResponse):
        return acknowledged
    alerts = selectors.org_alerts(organization=organization, kind=kind, acknowledged=acknowledged)
    return JsonResponse([selectors.alert_json(a) for a in alerts], safe=False)


@never_cache
@require_POST
def api_alert_acknowledge(request: HttpRequest, login: str, alert_id: int) -> JsonResponse:
    organization = org_or_error(request, login)
    if isinstance(organization, JsonResponse):
        return organization
    alert = selectors.org_alert(organization=organization, alert_id=alert_id)
    if alert is None:
        return json_error("no such alert", 404)
    services.alert_acknowledge(alert=alert, user=request.user, request=request)
    return JsonResponse(selectors.alert_json(alert))


@never_cache
@ensure_csrf_cookie
@require_http_methods(["GET", "POST"])
def api_subscriptions(request: HttpRequest, login: str) -> JsonResponse:
    organization = org_or_error(request, login)
    if isinstance(organization, JsonResponse):
        return organization
    if request.method == "POST":
        data = json_body(request)
        if isinstance(data, JsonResponse):
            return data
        unknown = sorted(set(data) - {"channel", "weekly", "monthly", "timezone"})
        if unknown:
            return json_error(
                f"unknown field(s): {', '.join(unknown)}; a subscription takes channel, "
                "weekly, monthly and timezone"
            )
        try:
            subscription, created = services.subscription_save(
                organization=organization, user=request.user, data=data, request=request
            )
        except RuleInvalid as error:
            return json_error(str(error))
        return JsonResponse(
            selectors.subscription_json(subscription), status=201 if created else 200
        )
    subscriptions = selectors.org_subscriptions(organization=organization)
    return JsonResponse(
        {
            "organization": organization.login,
            "subscriptions": [selectors.subscription_json(s) for s in subscriptions],
        }
    )


@never_cache
@ensure_csrf_cookie
@require_http_methods(["GET", "DELETE"])
def api_subscription(request: HttpRequest, login: str, subscription_id: int) -> HttpResponse:
    organization = org_or_error(request, login)
    if isinstance(organization, JsonResponse):
        return organization
    subscription = selectors.org_subscription(
        organization=organization, subscription_id=subscription_id
    )
    if subscription is None:
        return json_error("no such subscription", 404)
    if request.method == "DELETE":
        services.subscription_delete(subscription=subscription, user=request.user, request=request)
        return HttpResponse(status=204)
    return JsonResponse(selectors.subscription_json(subscription))


@never_cache
@require_POST
def api_digest_now(request: HttpRequest, login: str) -> JsonResponse:
    organization = org_or_error(request, login)
    if isinstance(organization, JsonResponse):
        return organization
    data = json_body(request)
    if isinstance(data, JsonResponse):
        return data
    unknown = sorted(set(data) - {"channel", "kind"})
    if unknown:
        return json_error(f"unknown field(s): {', '.join(unknown)}; it takes channel and kind")
    raw = str(data.get("channel", ""))
    channel = None
    if raw.isdigit() and len(raw) <= 18:
        channel = selectors.org_channel(organization=organization, channel_id=int(raw))
    if channel is None:
        return json_error("channel must be the id of one of the organization's channels")
    try:
        delivery = services.digest_request(
            organization=organization,
            channel=channel,
            kind=str(data.get("kind", "")),
            user=request.user,
            request=request,
        )
    except RuleInvalid as error:
        return json_error(str(error))
    except services.DigestTooSoon as error:
        response = json_error(str(error), 429)
        response["Retry-After"] = str(error.seconds_left)
        return response
    if delivery is None:
        return json_error("the channel is turned off or its address unsubscribed: nothing was sent")
    return JsonResponse(selectors.delivery_json(delivery), status=201)
