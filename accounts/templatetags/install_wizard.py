"""``{% github_install_url %}``: GitHub's install page with a fresh signed state, for
templates rendered by views that do not build it themselves (the "no organization
yet" step is rendered from more than one place)."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.installations.install_state import issue
from accounts.models import Organization
from accounts.wizard.views import github_install_url as _github_install_url

register = template.Library()


@register.simple_tag(takes_context=True)
def github_install_url(context: dict[str, Any], organization: Organization | None = None) -> str:
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return ""
    state = issue(request, organization=organization)
    return _github_install_url(state=state, organization=organization)
