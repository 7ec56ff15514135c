"""The alerts page `/orgs/<login>/alerts/`: fired alerts, rules, channels, digest
subscriptions and deliveries, with forms for everything the JSON API does (the same
services). A POST carries an ``action``; the answer redirects back to the page with a
message (post/redirect/get), except a new webhook channel, whose signing secret is shown
once on the page itself (it is never stored anywhere it could be read again)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.models import Organization
from accounts.roles.access import get_org_for_billing
from usage.models import Budget
from usage.reporting.status import org_status

from . import rules, selectors, services
from .digests import zone_names
from .models import Channel, Rule
from .rule_params import KIND_FIELDS, RuleInvalid, describe

PAGE_ALERTS = 50
PAGE_DELIVERIES = 30
MUTE_CHOICES = (("1", "1 day"), ("7", "7 days"), ("30", "30 days"))


def _url(organization: Organization, anchor: str = "") -> str:
    url = reverse("org_alerts", args=[organization.login])
    return f"{url}#{anchor}" if anchor else url


def _object(
    request: HttpRequest, find: Callable[..., Any], organization: Organization, name: str
) -> Any:
    raw = request.POST.get("id", "")
    if not raw.isdigit() or len(raw) > 18:
        return None
    return find(organization=organization, **{name: int(raw)})


def _channel_add(request: HttpRequest, organization: Organization) -> HttpResponse:
    kind = request.POST.get("kind", "")
    field = "address" if kind == Channel.Kind.EMAIL else "url"
    try:
        channel, secret = services.channel_create(
            organization=organization,
            user=request.user,
            kind=kind,
            destination=request.POST.get(field, ""),
            name=request.POST.get("name", ""),
            request=request,
        )
    except services.ChannelInvalid as error:
        messages.error(request, f"The channel was not added: {error}.")
        return redirect(_url(organization, "channels"))
    if secret:
        context = page_context(request, organization)
        context.update(new_channel=channel, new_secret=secret)
        return render(request, "alerts/page.html", context)
    messages.success(
        request,
        f"Channel “{channel.name}” added. Press “Send test message” to check that it works, "
        "then choose it in a rule or a digest subscription.",
    )
    return redirect(_url(organization, "channels"))


def _channel_test(request: HttpRequest, organization: Organization) -> HttpResponse:
    channel = _object(request, selectors.org_channel, organization, "channel_id")
    if channel is None:
        messages.error(request, "That channel no longer exists.")
    else:
        delivery = services.channel_send_test(channel=channel, user=request.user, request=request)
        if delivery.status == "sent":
            messages.success(request, f"Test message sent to “{channel.name}”: check it arrived.")
        else:
            messages.error(
                request,
                f"The test message to “{channel.name}” failed: {delivery.error}. Fix the "
                "channel (or delete it and add it again) and send another test.",
            )
    return redirect(_url(organization, "channels"))


def _channel_delete(request: HttpRequest, organization: Organization) -> HttpResponse:
    channel = _object(request, selectors.org_channel, organization, "channel_id")
    if channel is not None:
        services.channel_delete(channel=channel, user=request.user, request=request)
        messages.success(request, f"Channel “{channel.name}” deleted.")
    return redirect(_url(organization, "channels"))


def rule_form_data(post: Any) -> dict[str, Any]:
    """The API's JSON from the page's rule form: the kind's own fields, filled ones."""
    kind = post.get("kind", "")
    fields = KIND_FIELDS.get(kind, set())
    data: dict[str, Any] = {"kind": kind, "name": post.get("name", "")}
    data["channels"] = post.getlist("channels")
    for name in fields:
        value = post.get(name, "").strip()
        if value:
            data[name] = value
    # The form always sends a scope: it goes with an own limit (or last month) only.
    if data.get("budget"):
        for name in ("amount", "scope", "target"):
            data.pop(name, None)
    if data.get("scope") == "organization":
        data.pop("target", None)
    return data


def _rule_add(request: HttpRequest, organization: Organization) -> HttpResponse:
    try:
        rule = rules.rule_create(
            organization=organization,
            user=request.user,
            data=rule_form_data(request.POST),
            request=request,
        )
    except RuleInvalid as error:
        messages.error(request, f"The rule was not added: {error}.")
        return redirect(_url(organization, "rules"))
    messages.success(
        request,
        f"Rule added: {describe(rule.kind, rule.params)} It is checked after the next "
        "collection (use “Refresh now” on the dashboard to collect at once).",
    )
    return redirect(_url(organization, "rules"))


def _rule_delete(request: HttpRequest, organization: Organization) -> HttpResponse:
    rule = _object(request, selectors.org_rule, organization, "rule_id")
    if rule is not None:
        rules.rule_delete(rule=rule, user=request.user, request=request)
        messages.success(request, "Rule deleted. The alerts it fired stay listed.")
    return redirect(_url(organization, "rules"))


def _rule_mute(request: HttpRequest, organization: Organization) -> HttpResponse:
    rule = _object(request, selectors.org_rule, organization, "rule_id")
    if rule is None:
        return redirect(_url(organization, "rules"))
    try:
        until = rules.mute_until({"days": request.POST.get("days", "")})
    except RuleInvalid as error:
        messages.error(request, f"The rule was not muted: {error}.")
        return redirect(_url(organization, "rules"))
    rules.rule_mute(rule=rule, user=request.user, until=until, request=request)
    if until is None:
        messages.success(request, "Rule unmuted: its next alerts are sent again.")
    else:
        messages.success(
            request,
            f"Rule muted until {until:%d %b %Y %H:%M} UTC: its alerts are listed here but not "
            "sent, and do not fire again for the same period afterwards.",
        )
    return redirect(_url(organization, "rules"))


def _alert_ack(request: HttpRequest, organization: Organization) -> HttpResponse:
    alert = _object(request, selectors.org_alert, organization, "alert_id")
    if alert is not None:
        rules.alert_acknowledge(alert=alert, user=request.user, request=request)
        messages.success(request, "Alert acknowledged: it no longer counts as open.")
    return redirect(_url(organization, "alerts"))


def _subscription_save(request: HttpRequest, organization: Organization) -> HttpResponse:
    data = {
        "channel": request.POST.get("channel", ""),
        "weekly": request.POST.get("weekly", ""),
        "monthly": request.POST.get("monthly", ""),
        "timezone": request.POST.get("timezone", "").strip(),
    }
    try:
        subscription, _ = rules.subscription_save(
            organization=organization, user=request.user, data=data, request=request
        )
    except RuleInvalid as error:
        messages.error(request, f"The subscription was not saved: {error}.")
        return redirect(_url(organization, "digests"))
    which = " and ".join(
        w for w, on in (("weekly", subscription.weekly), ("monthly", subscription.monthly)) if on
    )
    messages.success(
        request,
        f"Subscribed: the {which} digest goes to “{subscription.channel.name}” "
        f"({subscription.timezone}). Use “Send a digest now” to see one at once.",
    )
    return redirect(_url(organization, "digests"))


def _subscription_delete(request: HttpRequest, organization: Organization) -> HttpResponse:
    subscription = _object(request, selectors.org_subscription, organization, "subscription_id")
    if subscription is not None:
        rules.subscription_delete(subscription=subscription, user=request.user, request=request)
        messages.success(request, "Subscription deleted: no more digests for it.")
    return redirect(_url(organization, "digests"))


def _digest_now(request: HttpRequest, organization: Organization) -> HttpResponse:
    raw = request.POST.get("channel", "")
    channel = None
    if raw.isdigit() and len(raw) <= 18:
        channel = selectors.org_channel(organization=organization, channel_id=int(raw))
    if channel is None:
        messages.error(request, "Choose a channel for the digest.")
        return redirect(_url(organization, "digests"))
    try:
        delivery = rules.digest_request(
            organization=organization,
            channel=channel,
            kind=request.POST.get("kind", ""),
            user=request.user,
            request=request,
        )
    except (RuleInvalid, rules.DigestTooSoon) as error:
        messages.error(request, f"No digest was sent: {error}.")
        return redirect(_url(organization, "digests"))
    if delivery is None:
        messages.error(
            request, f"Nothing was sent: “{channel.name}” is turned off or unsubscribed."
        )
    else:
        messages.success(
            request,
            f"Digest queued to “{channel.name}”: it arrives within a minute. Its delivery is "
            "listed below.",
        )
    return redirect(_url(organization, "deliveries"))


ACTIONS: dict[str, Callable[[HttpRequest, Organization], HttpResponse]] = {
    "channel_add": _channel_add,
    "channel_test": _channel_test,
    "channel_delete": _channel_delete,
    "rule_add": _rule_add,
    "rule_delete": _rule_delete,
    "rule_mute": _rule_mute,
    "alert_ack": _alert_ack,
    "subscription_save": _subscription_save,
    "subscription_delete": _subscription_delete,
    "digest_now": _digest_now,
}


def page_context(request: HttpRequest, organization: Organization) -> dict[str, Any]:
    channels = list(selectors.org_channels(organization=organization))
    for channel in channels:
        channel.subscribed = selectors.channel_subscribed(channel)
    rule_list = list(selectors.org_rules(organization=organization))
    for rule in rule_list:
        rule.description = describe(rule.kind, rule.params)
    subscriptions = list(selectors.org_subscriptions(organization=organization))
    return {
        "organization": organization,
        "status": org_status(organization),
        "alerts": selectors.org_alerts(organization=organization, limit=PAGE_ALERTS),
        "rules": rule_list,
        "channels": channels,
        "channel_kinds": Channel.Kind.choices,
        "rule_kinds": Rule.Kind.choices,
        "budgets": Budget.objects.filter(organization=organization).order_by("github_id"),
        "mine": [s for s in subscriptions if s.user_id == request.user.pk],
        "others": [s for s in subscriptions if s.user_id != request.user.pk],
        "deliveries": selectors.org_deliveries(organization=organization, limit=PAGE_DELIVERIES),
        "timezones": sorted(zone_names()),
        "mute_choices": MUTE_CHOICES,
        "demo_chat_url": settings.ALERTS_DEMO_CHAT_URL,
        "demo_mailbox_url": settings.ALERTS_DEMO_MAILBOX_URL,
        "dashboard_url": reverse("org_dashboard", args=[organization.login]),
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def org_alerts(request: HttpRequest, login: str) -> HttpResponse:
    organization = get_org_for_billing(user=request.user, login=login)
    if request.method == "POST":
        action = ACTIONS.get(request.POST.get("action", ""))
        if action is None:
            messages.error(request, "That form is out of date: reload the page and try again.")
            return redirect(_url(organization))
        return action(request, organization)
    return render(request, "alerts/page.html", page_context(request, organization))
