from django.contrib import admin
from django.urls import include, path

from billingdash.healthz import healthz

handler500 = "billingdash.unavailable.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("github/", include("accounts.github_urls")),
    path("", include("accounts.signin.social_urls", namespace="social")),
    # usage before accounts: usage serves the dashboard and overview URLs.
    path("", include("usage.urls")),
    path("", include("alerts.urls")),
    path("", include("copilot.urls")),
    path("", include("accounts.urls")),
]
