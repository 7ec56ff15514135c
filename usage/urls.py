"""Usage pages and APIs. Org-scoped URLs take ``<str:login>`` and start with the access
helper (``accounts.roles.access.get_org_for_billing``); the isolation test walks them all."""

from django.urls import path

from usage.admin.ops import ops, ops_workers
from usage.web.api import api_org_usage
from usage.web.exports import org_usage_csv
from usage.web.imports import api_org_import, api_org_imports, org_import, org_imports
from usage.web.orgs_api import api_org_list
from usage.web.progress import org_progress
from usage.web.report_exports import org_report_items_csv
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
    path("api/orgs/", api_org_list, name="api_org_list"),
    path("api/orgs/<str:login>/usage", api_org_usage, name="api_org_usage"),
    # Usage reports imported from files (issue 15).
    path("orgs/<str:login>/imports/", org_imports, name="org_imports"),
    path("orgs/<str:login>/imports/<int:pk>/", org_import, name="org_import"),
    path("api/orgs/<str:login>/imports", api_org_imports, name="api_org_imports"),
    path("api/orgs/<str:login>/imports/<int:pk>", api_org_import, name="api_org_import"),
    path("orgs/<str:login>/report-items.csv", org_report_items_csv, name="org_report_items_csv"),
    # Where the numbers come from: the source ladder (issue 15).
    path("orgs/<str:login>/sources/", org_sources_page, name="org_sources"),
    path("api/orgs/<str:login>/sources", api_org_sources, name="api_org_sources"),
    path("api/orgs/<str:login>/sources/token", api_org_source_token, name="api_org_source_token"),
    # The staff operations page (issue 7).
    path("staff/ops/", ops, name="ops"),
    path("staff/ops/workers.json", ops_workers, name="ops_workers"),
]
