"""Usage pages and APIs. Org-scoped URLs take ``<str:login>`` and start with the access
helper (``accounts.roles.access.get_org_for_billing``); the isolation test walks them all."""

from django.urls import path

from usage.admin.ops import ops
from usage.web.api import api_org_usage
from usage.web.exports import org_usage_csv
from usage.web.progress import org_progress
from usage.web.sources import api_org_source_token, api_org_sources, org_sources_page
from usage.web.views import org_dashboard, org_list, org_refresh

urlpatterns = [
    # The first collection's progress, polled by the install wizard.
    path("orgs/<str:login>/progress.json", org_progress, name="org_progress"),
    # The overview, the dashboard, its CSV and JSON API, and refresh (issue 6).
    path("orgs/", org_list, name="org_list"),
    path("orgs/<str:login>/", org_dashboard, name="org_dashboard"),
    path("orgs/<str:login>/usage.csv", org_usage_csv, name="org_usage_csv"),
    path("orgs/<str:login>/refresh/", org_refresh, name="org_refresh"),
    path("api/orgs/<str:login>/usage", api_org_usage, name="api_org_usage"),
    # Where the numbers come from: the source ladder (issue 15).
    path("orgs/<str:login>/sources/", org_sources_page, name="org_sources"),
    path("api/orgs/<str:login>/sources", api_org_sources, name="api_org_sources"),
    path("api/orgs/<str:login>/sources/token", api_org_source_token, name="api_org_source_token"),
    # The staff operations page (issue 7).
    path("staff/ops/", ops, name="ops"),
]
