"""Where a `next` parameter may lead: a path on this site, nothing else."""

from __future__ import annotations

import unicodedata

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest | None, value: object) -> str:
    """`value` if it is a path on this site, else "". Refuses other hosts
    (``https://evil.example``, ``//evil.example``, ``/\\evil.example``), other schemes
    (``javascript:``), relative URLs (``evil.example``) and control characters."""
    if request is None or not isinstance(value, str) or not value or len(value) > 2000:
        return ""
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return ""
    if any(unicodedata.category(ch)[0] == "C" for ch in value):
        return ""
    if not url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    return value
