"""URLs under ``/github/``: what GitHub calls (the webhook) and where it sends people back
(the App's Setup URL)."""

from django.urls import path

from accounts.webhooks.endpoint import github_webhook
from accounts.wizard.setup import github_setup

urlpatterns = [
    path("webhook/", github_webhook, name="github_webhook"),
    path("setup/", github_setup, name="github_setup"),
]
