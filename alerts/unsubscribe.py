"""``/alerts/unsubscribe/<token>/``: RFC 8058 one-click unsubscribe, no sign-in.

GET shows what the link turns off and a button; POST turns it off at once (that is what
a mail client sends: ``List-Unsubscribe=One-Click``, without cookies, so the view is
exempt from CSRF: the signed token is its authentication). ``action=resubscribe`` in a
POST turns it back on (the button on the page after unsubscribing).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .mail import subscription_from_token
from .services import subscription_set_active


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    subscription = subscription_from_token(token)
    if subscription is None:
        return render(request, "alerts/unsubscribe.html", {"state": "invalid"}, status=404)
    changed = request.method == "POST"
    if changed:
        active = request.POST.get("action") == "resubscribe"
        subscription = subscription_set_active(subscription=subscription, active=active)
    context = {
        "state": "subscribed" if subscription.active else "unsubscribed",
        "changed": changed,
        "subscription": subscription,
        "channel": subscription.channel,
        "organization": subscription.organization,
    }
    return render(request, "alerts/unsubscribe.html", context)
