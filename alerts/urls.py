"""Alerts URLs: the JSON API under the org (``<str:login>``, every view starts with the
access helper; the isolation test walks them) and the sign-in-free unsubscribe link."""

from django.urls import path

from . import api, unsubscribe

urlpatterns = [
    path("api/orgs/<str:login>/alerts/channels", api.api_channels, name="api_alert_channels"),
    path(
        "api/orgs/<str:login>/alerts/channels/<int:channel_id>",
        api.api_channel,
        name="api_alert_channel",
    ),
    path(
        "api/orgs/<str:login>/alerts/channels/<int:channel_id>/test",
        api.api_channel_test,
        name="api_alert_channel_test",
    ),
    path("api/orgs/<str:login>/alerts/deliveries", api.api_deliveries, name="api_alert_deliveries"),
    path("alerts/unsubscribe/<str:token>/", unsubscribe.unsubscribe, name="alerts_unsubscribe"),
]
