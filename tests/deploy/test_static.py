"""Static files as a deployment (and the demo) serves them (issue 13 item 14):
``collectstatic`` into a temporary STATIC_ROOT writes hashed names with brotli and gzip
copies, and whitenoise answers the plotly.js bundle brotli- or gzip-encoded as the
browser asks, with far-future caching for hashed names (the basic bundle: bar, pie and
scatter, 1.2 MB raw, ~0.3 MB brotli; it replaced the 5.1 MB full one). A second
``collectstatic`` keeps the compressed copies (billingdash.static_storage) instead of
compressing again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings

ROOT = Path(settings.BASE_DIR)
PLOTLY = "vendor/plotly-basic-4.1.1.min.js"
YEAR = 31_536_000


def collectstatic(root: Path) -> float:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "billingdash.settings",
        "DEBUG": "true",
        "STATIC_COMPRESSED": "true",
        "STATIC_ROOT": str(root),
    }
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=240,
    )
    return time.monotonic() - started


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("static")
    collectstatic(root)
    return root


@pytest.fixture
def served(collected):
    with override_settings(
        STATIC_ROOT=collected,
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "billingdash.static_storage.StaticStorage"},
        },
        WHITENOISE_USE_FINDERS=False,
        WHITENOISE_AUTOREFRESH=False,
    ):
        yield Client()  # a new handler: whitenoise reads STATIC_ROOT now


def hashed(root: Path, name: str) -> str:
    return json.loads((root / "staticfiles.json").read_text())["paths"][name]


def max_age(response) -> int:
    for part in response["Cache-Control"].split(","):
        if part.strip().startswith("max-age="):
            return int(part.strip().split("=", 1)[1])
    return 0


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_collectstatic_writes_brotli_and_gzip_copies(collected):
    name = hashed(collected, PLOTLY)
    raw = (collected / name).stat().st_size
    br = (collected / f"{name}.br").stat().st_size
    gz = (collected / f"{name}.gz").stat().st_size
    assert raw > 1_000_000
    assert br < gz < raw / 3, (raw, gz, br)
    assert not (collected / PLOTLY).exists()  # only hashed names are kept


@pytest.mark.parametrize(
    ("accept", "encoding", "suffix"), [("br", "br", ".br"), ("gzip", "gzip", ".gz")]
)
def test_the_plotly_bundle_is_sent_compressed_with_far_future_caching(
    served, collected, accept, encoding, suffix
):
    name = hashed(collected, PLOTLY)
    response = served.get(f"/static/{name}", HTTP_ACCEPT_ENCODING=f"{accept}, deflate")
    assert response.status_code == 200
    assert response["Content-Encoding"] == encoding
    assert int(response["Content-Length"]) == (collected / f"{name}{suffix}").stat().st_size
    assert "Accept-Encoding" in response["Vary"]
    assert max_age(response) >= YEAR and "immutable" in response["Cache-Control"]
    assert len(body(response)) == int(response["Content-Length"])


def test_without_accept_encoding_the_raw_file(served, collected):
    name = hashed(collected, PLOTLY)
    response = served.get(f"/static/{name}")
    assert response.status_code == 200 and "Content-Encoding" not in response
    assert int(response["Content-Length"]) == (collected / name).stat().st_size


def test_a_second_collectstatic_keeps_the_compressed_copies(collected):
    name = hashed(collected, PLOTLY)
    before = (collected / f"{name}.br").stat().st_mtime_ns
    collectstatic(collected)
    assert (collected / f"{name}.br").stat().st_mtime_ns == before


def test_pages_name_the_hashed_files_with_debug_on_too(served, collected, settings):
    """The demo runs with DEBUG on: its pages must name what is served (and cached)."""
    from django.templatetags.static import static

    settings.DEBUG = True
    assert static(PLOTLY) == "/static/" + hashed(collected, PLOTLY)
    html = served.get("/login/").content.decode()
    assert hashed(collected, "css/app.css") in html
