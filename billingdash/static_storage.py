"""Static files storage: whitenoise's hashed names with gzip and brotli copies, made once.

Whitenoise compresses every hashed file again on each ``collectstatic``: seconds for the
plotly.js bundle with brotli at its best level (30 s for the 5 MB full one), at every
``make demo``. A hashed
name stands for its content, so copies already written next to it are kept.
"""

from __future__ import annotations

import os
from typing import Any

from whitenoise.compress import Compressor
from whitenoise.storage import CompressedManifestStaticFilesStorage


class _KeepingCompressor(Compressor):
    def compress(self, path: str) -> list[str]:
        wanted = [suffix for suffix, on in ((".br", self.use_brotli), (".gz", self.use_gzip)) if on]
        made = [path + suffix for suffix in wanted]
        # Not the modification time: Django writes a hashed CSS or JS file again at each
        # run (its references are rewritten), with the same content under the same name.
        if made and all(os.path.exists(p) for p in made):
            return made
        return super().compress(path)


class StaticStorage(CompressedManifestStaticFilesStorage):
    """``CompressedManifestStaticFilesStorage`` that keeps existing compressed copies of
    hashed files (see the module's docstring), and names hashed files with DEBUG on too
    (the demo)."""

    def url(self, name: str | None, force: bool = False) -> str:
        # Hashed names with DEBUG on too (Django's manifest storage gives the plain name
        # then): only what collectstatic wrote is served, and hashed names are what may be
        # cached for a year.
        return super().url(name, force=True)

    def create_compressor(self, **kwargs: Any) -> Compressor:
        if not self.keep_only_hashed_files:
            return super().create_compressor(**kwargs)  # unhashed names change content
        return _KeepingCompressor(**kwargs)
