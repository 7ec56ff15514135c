"""View results cached under (organization, data version, normalized filters).

An organization's usage changes only when a month is replaced, a report imported or old
months purged, and each of those bumps its data version in the same transaction
(`usage.collection.versions`). So anything derived from the data alone (the
dashboard's aggregates and Plotly figures, the JSON API's bodies, the ETags of the API
and the CSV) is a pure function of (organization, version, filters): it is built once
per version and kept without expiry, and it can never be stale, because the next
version has other keys. Nothing is ever invalidated; old versions' entries simply stop
being asked for and age out.

Two tiers, both holding pickled values (so a caller may change what it got):

- in this process, a small LRU (`LOCAL_BYTES`): no query, no network, the common case;
- the shared Django cache ``settings.USAGE_VIEW_CACHE`` (Redis, ``VIEW_CACHE_URL``:
  bench.dashboard measured a 260 KB entry at 0.3 ms a get where the database cache
  table takes 8), so that after a change one process builds a view and the others
  reuse it. A failing shared cache is logged and left alone for a while: pages never
  fail, nor wait, because of it; each process then builds its views itself.

Readers take a `snapshot` (one small query for the version) *before* reading any
data; see `usage.collection.versions` for why that order makes the cache safe.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponseNotModified
from django.http.response import HttpResponseBase
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.http import parse_etags

from accounts.models import Organization
from usage.collection.versions import data_stamp_of
from usage.reporting.filters import Filters

log = logging.getLogger(__name__)
T = TypeVar("T")


def _code_stamp() -> str:
    """A digest of the code and templates that build the cached parts: a deploy that
    changes any of them gets keys of its own (the shared tier outlives processes)."""
    usage = Path(__file__).resolve().parent.parent
    files = sorted(
        [
            *usage.glob("reporting/*.py"),
            *usage.glob("web/*.py"),
            *usage.glob("templatetags/*.py"),
            *usage.glob("vocabulary.py"),
            *(Path(settings.BASE_DIR) / "templates" / "usage").glob("*.html"),
        ]
    )
    digest = hashlib.blake2b(digest_size=6)
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


SCHEMA = _code_stamp()
# The in-process tier: this many bytes of pickled values per process, least recently
# used out first.
LOCAL_BYTES = 64 * 2**20
# Shared tier: entries of old versions are never read again; this only bounds how long
# they occupy it (collections come hourly; a view nobody asked for in an hour is built
# again, once, by whoever asks).
SHARED_TIMEOUT = 3600
SHARED_RETRY_SECONDS = 30.0


@dataclass(frozen=True)
class Snapshot:
    """An organization's data version, read once per request before its data."""

    organization_id: int
    version: int
    token: int = 0

    @property
    def prefix(self) -> str:
        return f"{SCHEMA}:{self.organization_id}:{self.version}.{self.token}"

    def etag(self, part: str, key: str) -> str:
        """A strong ETag of `part` under `key` at this version."""
        raw = f"{self.prefix}:{part}:{key}"
        return '"' + hashlib.blake2b(raw.encode(), digest_size=12).hexdigest() + '"'


def snapshot(organization: Organization) -> Snapshot:
    return Snapshot(organization.pk, *data_stamp_of(organization))


def filter_key(filters: Filters, **extra: Any) -> str:
    """The normalized key of `filters` (concrete dates, ids, the repository or none;
    how the query string spelled them does not matter) and of `extra` (other inputs of
    the result: a sort, a cursor, today...)."""
    repository = "*" if filters.repository is None else "=" + filters.repository
    parts = [filters.start.isoformat(), filters.end.isoformat(), filters.product, filters.sku]
    parts.extend((repository, filters.bucket))
    parts.extend(f"{name}={extra[name]}" for name in sorted(extra))
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


class _Local:
    """A byte-bounded LRU of pickled values, shared by the threads of a process."""

    def __init__(self, limit: int) -> None:
        self.limit, self.size = limit, 0
        self.entries: OrderedDict[str, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self.lock:
            value = self.entries.get(key)
            if value is not None:
                self.entries.move_to_end(key)
            return value

    def set(self, key: str, value: bytes) -> None:
        if len(value) > self.limit // 4:
            return
        with self.lock:
            old = self.entries.pop(key, None)
            self.size += len(value) - (len(old) if old is not None else 0)
            self.entries[key] = value
            while self.size > self.limit and self.entries:
                _, dropped = self.entries.popitem(last=False)
                self.size -= len(dropped)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.size = 0


_local = _Local(LOCAL_BYTES)


def _shared() -> Any:
    return caches[getattr(settings, "USAGE_VIEW_CACHE", "default")]


_shared_down_until = 0.0


def _shared_call(method: str, *args: Any) -> Any:
    """A call to the shared tier; None when it fails. After a failure the tier is left
    alone for `SHARED_RETRY_SECONDS` (Redis down must not slow every page down)."""
    global _shared_down_until
    if time.monotonic() < _shared_down_until:
        return None
    try:
        return getattr(_shared(), method)(*args)
    except Exception:
        _shared_down_until = time.monotonic() + SHARED_RETRY_SECONDS
        log.warning("the shared view cache is unavailable; views are built here", exc_info=True)
        return None


def cached(
    snap: Snapshot, part: str, key: str, build: Callable[[], T], *, shared: bool = True
) -> T:
    """`build()`'s result for `part` under `key` at the snapshot's version: from this
    process, else the shared cache, else built now and kept in both (only in this
    process unless `shared`: views of rarely repeated inputs, such as a deep page of
    the line items, do not fill the shared cache)."""
    full = f"usage-view:{snap.prefix}:{part}:{key}"
    blob = _local.get(full)
    if blob is None and shared:
        blob = _shared_call("get", full)
        if blob is not None:
            _local.set(full, blob)
    if blob is not None:
        return pickle.loads(blob)  # noqa: S301 (our own values, never user input)
    value = build()
    blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    _local.set(full, blob)
    if shared:
        _shared_call("set", full, blob, SHARED_TIMEOUT)
    return value


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Does an ``If-None-Match`` header name `etag` (weak or strong, or ``*``)?"""
    if not if_none_match:
        return False
    tags = parse_etags(if_none_match)
    return "*" in tags or etag in tags or etag in {t.removeprefix("W/") for t in tags}


def clear_local() -> None:
    """Forget this process's tier (tests; the shared tier is keyed by version)."""
    _local.clear()


# --- HTTP: ETag, If-None-Match, 304 ----------------------------------------------------


def not_modified(etag: str) -> HttpResponseNotModified:
    response = HttpResponseNotModified()
    response["ETag"] = etag
    return response


def revalidate(response: HttpResponseBase, etag: str) -> HttpResponseBase:
    """`response` with its ETag: `cache_or_never` then lets a browser keep it and ask
    again with ``If-None-Match`` (a 304 costs one small query)."""
    response["ETag"] = etag
    return response


def cache_or_never(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Like ``never_cache``, except for answers with an ETag (and their 304s): those are
    ``private, no-cache`` (stored only by the user's browser, which must revalidate
    every time), so that a repeated request costs a 304, not the body."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if response.has_header("ETag"):
            patch_cache_control(response, private=True, no_cache=True, max_age=0)
        else:
            add_never_cache_headers(response)
        return response

    return wrapper
