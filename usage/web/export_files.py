"""CSV exports kept as files, one per (organization, data version, filters).

An export is a pure function of the org's data version and its normalized filters, like
the dashboard's cached views (`usage.reporting.cache`). Rendering the full year
(~1,000,000 rows, ~100 MiB) costs about 16 s of CPU; sending a file that is already
written costs next to none (the server hands it to ``wsgi.file_wrapper``: gunicorn uses
``sendfile``). So the first export of a version streams from the database as before
and, on the way, writes what it sends to a temporary file that becomes the cached file
once the last row is out; later exports of the same version and filters send the file.

A file is never stale: its name carries the data version and token (a month replace
bumps the version, so the next export has another name), the code stamp and the
filters' key. Organizations never bumped (token 0) are not kept: their stamp is not
unique across databases. An org's files of older versions are deleted when its new
version commits (`usage.signals.data_changed`: a purge of old months leaves no copy
behind) or a newer file is written, all its files when the org's data is deleted; no
file is sent or kept after ``EXPORT_CACHE_SECONDS``, and the folder stays under
``EXPORT_CACHE_BYTES`` (oldest first). The folder is per host: on a host that runs no
worker, older versions' files go at the next export of the org or after that age.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction

from accounts.models import Organization
from usage.collection.versions import data_stamp_of
from usage.reporting.cache import Snapshot

log = logging.getLogger(__name__)
_TMP = ".tmp-"
# A temporary file older than this belongs to a process that died while writing it.
_ABANDONED_SECONDS = 3600


def _folder(snap: Snapshot) -> Path:
    return Path(settings.EXPORT_CACHE_DIR) / str(snap.organization_id)


def _path(snap: Snapshot, key: str) -> Path:
    digest = hashlib.blake2b(f"{snap.prefix}:csv:{key}".encode(), digest_size=16).hexdigest()
    return _folder(snap) / f"{snap.version}.{snap.token}-{digest}.csv"


def cacheable(snap: Snapshot) -> bool:
    return bool(settings.EXPORT_CACHE_BYTES) and snap.token != 0


def open_cached(snap: Snapshot, key: str) -> IO[bytes] | None:
    """The kept export of `key` at the snapshot's version, open for reading; None when
    there is none. (An open file stays readable if another process prunes it.)"""
    if not cacheable(snap):
        return None
    try:
        kept = _path(snap, key).open("rb")
    except OSError:
        return None
    if time.time() - os.fstat(kept.fileno()).st_mtime > settings.EXPORT_CACHE_SECONDS:
        kept.close()  # too old to keep (`prune` deletes it)
        return None
    return kept


def tee(snap: Snapshot, key: str, chunks: Iterator[str]) -> Iterator[bytes]:
    """`chunks` encoded, as they come; what was sent is kept as the export of `key` once
    the last chunk is out. A client that goes away (the generator is closed) or a
    failing write leaves nothing behind; the download itself never fails because of
    the cache."""
    out: IO[bytes] | None = None
    if cacheable(snap):
        try:
            _folder(snap).mkdir(parents=True, exist_ok=True)
            out = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, or renamed)
                dir=_folder(snap), prefix=_TMP, suffix=".csv", delete=False
            )
            _stamp(out.name)
        except OSError:
            log.warning("cannot write the export cache in %s", _folder(snap), exc_info=True)
    try:
        for chunk in chunks:
            data = chunk.encode()
            if out is not None:
                try:
                    out.write(data)
                except OSError:
                    log.warning("the export cache stopped writing", exc_info=True)
                    _discard(out)
                    out = None
            yield data
        if out is not None:
            written, out = out, None
            try:
                written.close()
                _stamp(written.name)
                os.replace(written.name, _path(snap, key))
                prune(snap)
            except OSError:
                log.warning("the export cache could not keep a file", exc_info=True)
                _discard(written)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
        if out is not None:
            _discard(out)


def _stamp(name: str) -> None:
    """A file's age is measured on the clock that reads it (`time.time()`), not the
    file system's: set its modification time from that clock."""
    now = time.time()
    os.utime(name, (now, now))


def _discard(out: IO[bytes]) -> None:
    with contextlib.suppress(OSError):
        out.close()
    with contextlib.suppress(OSError):
        os.unlink(out.name)


def _drop_versions_before(snap: Snapshot) -> None:
    """Delete the org's files of older versions (or of another token at this version)
    and its abandoned temporary files."""
    now = time.time()
    for path in _folder(snap).glob("*.csv"):
        with contextlib.suppress(OSError, ValueError):
            if path.name.startswith(_TMP):
                if now - path.stat().st_mtime > _ABANDONED_SECONDS:
                    path.unlink()
                continue
            version, token = (int(p) for p in path.name.split("-", 1)[0].split("."))
            if version < snap.version or (version == snap.version and token != snap.token):
                path.unlink()


def prune(snap: Snapshot) -> None:
    """`_drop_versions_before` for the org; then, in the whole folder, files older than
    ``EXPORT_CACHE_SECONDS`` and the oldest ones while it holds more than
    ``EXPORT_CACHE_BYTES``."""
    _drop_versions_before(snap)
    files, now = [], time.time()
    for path in Path(settings.EXPORT_CACHE_DIR).glob("*/*.csv"):
        with contextlib.suppress(OSError):
            if not path.name.startswith(_TMP):
                stat = path.stat()
                if now - stat.st_mtime > settings.EXPORT_CACHE_SECONDS:
                    path.unlink()
                else:
                    files.append((stat.st_mtime, stat.st_size, path))
    total = sum(size for _, size, _ in files)
    for _, size, path in sorted(files):
        if total <= settings.EXPORT_CACHE_BYTES:
            break
        with contextlib.suppress(OSError):
            path.unlink()
        total -= size


def drop_older(*, organization_id: int, **_: Any) -> None:
    """`usage.signals.data_changed`: the org's new version is committed, so its older
    files are never asked for again; they go now (a purge of old months must not
    leave them behind)."""
    _drop_versions_before(Snapshot(organization_id, *data_stamp_of(organization_id)))


def drop_org(*, instance: Organization, **_: Any) -> None:
    """``post_delete`` of an organization (its data deleted): all its files, once the
    deletion commits."""
    folder = Path(settings.EXPORT_CACHE_DIR) / str(instance.pk)
    transaction.on_commit(lambda: shutil.rmtree(folder, ignore_errors=True))
