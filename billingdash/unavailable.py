"""A database that is down or not migrated gives a "temporarily unavailable" page (503),
never a traceback.

A standard deploy that skipped a step, or a database that went away, surfaces in a view
as a `DatabaseError`. The page must not need the database itself (no user, no session),
so it is rendered from its own template without the site's context processors.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.db import DatabaseError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

DOWN = "Our database is not answering right now."
NOT_READY = "Our database is not fully set up yet (an update is still being applied)."


def reason_for(exc: DatabaseError) -> str:
    """Plain words for what went wrong: unreachable, or a table that is missing."""
    return DOWN if isinstance(exc, OperationalError) and not _missing_table(exc) else NOT_READY


def _missing_table(exc: DatabaseError) -> bool:
    text = str(exc).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


def unavailable_response(reason: str) -> HttpResponse:
    body = render_to_string("503.html", {"reason": reason})
    response = HttpResponse(body, status=503)
    response["Retry-After"] = "60"
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Turns a `DatabaseError` raised by a view into the 503 page (and a log line)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, DatabaseError):
            return self._answer(request, exc)
        return None

    @staticmethod
    def _answer(request: HttpRequest, exc: DatabaseError) -> HttpResponse:
        logger.error("database unavailable for %s %s", request.method, request.path, exc_info=exc)
        return unavailable_response(reason_for(exc))


def server_error(request: HttpRequest) -> HttpResponse:
    """`handler500`: the 503 page when the error came from the database (for example a
    session table missing, seen by middleware outside any view), else the 500 page."""
    exc = sys.exc_info()[1]
    if isinstance(exc, DatabaseError):
        return unavailable_response(reason_for(exc))
    return HttpResponse(render_to_string("500.html"), status=500)
