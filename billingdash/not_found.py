"""The site's own 404 page even with DEBUG on.

With ``DEBUG`` on, Django answers a 404 with its technical page, which lists every URL
pattern of the site. The demo runs with DEBUG on, and people clicking around it (who
are not developers) saw that page. This middleware gives them what production shows:
``templates/404.html`` through Django's ``page_not_found``, with the same status.

- A view that raises ``Http404``: caught in ``process_exception``.
- A path no URL pattern matches: Django raises ``Resolver404`` before any middleware
  sees an exception, so the path is resolved here first (the resolver caches; this costs
  microseconds). It sits after ``CommonMiddleware``, whose ``APPEND_SLASH`` redirect
  still turns ``/orgs`` into ``/orgs/``.

``SHOW_DEBUG_404=true`` (with DEBUG on) keeps Django's technical page for developers.
With DEBUG off the middleware does nothing: Django renders ``404.html`` itself.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, get_resolver
from django.views.defaults import page_not_found


def _active() -> bool:
    return settings.DEBUG and not getattr(settings, "SHOW_DEBUG_404", False)


class FriendlyNotFoundMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _active():
            try:
                get_resolver(getattr(request, "urlconf", None)).resolve(request.path_info)
            except Resolver404 as exc:
                return page_not_found(request, Http404(str(exc)))
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if _active() and isinstance(exception, Http404):
            return page_not_found(request, exception)
        return None
