"""GitHub API URLs: paths resolved against ``settings.GITHUB_API_URL`` (which may carry
a GHES-style base path, ``https://host/api/v3``), the rule that only URLs under it are
ever sent a token or followed as ``Link`` pages, and path segments quoted for logins.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from django.conf import settings


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def is_api_url(url: str) -> bool:
    """True when `url` is under ``settings.GITHUB_API_URL`` (same scheme, host, port and
    base path): only such links are followed with a token."""
    base = settings.GITHUB_API_URL.rstrip("/")
    if _origin(url) != _origin(base):
        return False
    base_path = urlsplit(base).path.rstrip("/")
    path = urlsplit(url).path
    return path == base_path or path.startswith(base_path + "/")


def api_url(path: str) -> str:
    """Resolve an API path (``/user``) against ``GITHUB_API_URL``, which may carry a
    GHES-style base path (``https://host/api/v3``); absolute URLs must be under it."""
    if path.startswith(("http://", "https://")):
        if not is_api_url(path):
            raise ValueError("refusing to send a GitHub token outside GITHUB_API_URL")
        return path
    if not path.startswith("/"):
        raise ValueError(f"API paths start with '/': {path!r}")
    return settings.GITHUB_API_URL.rstrip("/") + path


def log_path(url: str) -> str:
    """A URL's path alone, as logs and error messages show it."""
    return urlsplit(url).path or "/"


def api_path(path: str) -> str:
    """The URL path GitHub sees for an API path (for error messages and logs)."""
    return log_path(api_url(path))


def quote_segment(value: str | int) -> str:
    """Quote one path segment (an org login, a username): ``/`` and friends included.
    Logins are case-insensitive at GitHub and sent as given."""
    return quote(str(value), safe="")
