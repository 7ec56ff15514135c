from django.urls import path

from copilot.web.api import api_org_copilot, csv_export
from copilot.web.views import org_copilot

urlpatterns = [
    path("orgs/<str:login>/copilot/", org_copilot, name="org_copilot"),
    path("orgs/<str:login>/copilot/export.csv", csv_export, name="org_copilot_csv"),
    path("api/orgs/<str:login>/copilot", api_org_copilot, name="api_org_copilot"),
]
