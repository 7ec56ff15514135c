"""Template context shared by every page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def github_app(request: HttpRequest) -> dict[str, str]:
    """``github_app_name``: the App's one name (``GITHUB_APP_NAME``), which the simulator
    shows on its GitHub pages too."""
    return {"github_app_name": settings.GITHUB_APP_NAME}
