"""Usage pages and APIs. Org-scoped URLs take ``<str:login>`` and start with the access
helper (``accounts.roles.access.get_org_for_billing``); the isolation test walks them all."""

from django.urls import path

from usage import api, exports, ops, progress, views

urlpatterns = [
    # The first collection's progress, polled by the install wizard.
    path("orgs/<str:login>/progress.json", progress.org_progress, name="org_progress"),
    # The overview, the dashboard, its CSV and JSON API, and refresh (issue 6).
    path("orgs/", views.org_list, name="org_list"),
    path("orgs/<str:login>/", views.org_dashboard, name="org_dashboard"),
    path("orgs/<str:login>/usage.csv", exports.org_usage_csv, name="org_usage_csv"),
    path("orgs/<str:login>/refresh/", views.org_refresh, name="org_refresh"),
    path("api/orgs/<str:login>/usage", api.api_org_usage, name="api_org_usage"),
    # The staff operations page (issue 7).
    path("staff/ops/", ops.ops, name="ops"),
]
