"""Alerts URLs: the page and the JSON API under the org (``<str:login>``, every view starts
with the access helper; the isolation test walks them) and the sign-in-free unsubscribe
link."""

from django.urls import path

from . import api, api_rules, unsubscribe, views

API = "api/orgs/<str:login>/alerts"

urlpatterns = [
    path("orgs/<str:login>/alerts/", views.org_alerts, name="org_alerts"),
    path(API, api_rules.api_alerts, name="api_alerts"),
    path(
        f"{API}/<int:alert_id>/acknowledge",
        api_rules.api_alert_acknowledge,
        name="api_alert_acknowledge",
    ),
    path(f"{API}/channels", api.api_channels, name="api_alert_channels"),
    path(f"{API}/channels/<int:channel_id>", api.api_channel, name="api_alert_channel"),
    path(
        f"{API}/channels/<int:channel_id>/test",
        api.api_channel_test,
        name="api_alert_channel_test",
    ),
    path(f"{API}/deliveries", api.api_deliveries, name="api_alert_deliveries"),
    path(f"{API}/rules", api_rules.api_rules, name="api_alert_rules"),
    path(f"{API}/rules/<int:rule_id>", api_rules.api_rule, name="api_alert_rule"),
    path(f"{API}/rules/<int:rule_id>/mute", api_rules.api_rule_mute, name="api_alert_rule_mute"),
    path(f"{API}/subscriptions", api_rules.api_subscriptions, name="api_alert_subscriptions"),
    path(
        f"{API}/subscriptions/<int:subscription_id>",
        api_rules.api_subscription,
        name="api_alert_subscription",
    ),
    path(f"{API}/digests", api_rules.api_digest_now, name="api_alert_digests"),
    path("alerts/unsubscribe/<str:token>/", unsubscribe.unsubscribe, name="alerts_unsubscribe"),
]
