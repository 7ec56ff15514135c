"""CSV exports kept as files per data version (usage.web.export_files): the first export
streams from the database and keeps what it sent, the next ones send the file (the same
bytes, still audited); a new data version renders again with the new numbers and
deletes the old file; a download cut short keeps nothing; an org never bumped keeps
nothing; each org has its own files; a new version's commit, the org's deletion and
the age limit remove them."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.http import FileResponse

from accounts.models import AuditEvent
from tests.dashboard.conftest import collect
from usage import periods
from usage.collection.versions import data_stamp_of, org_data_version_bump
from usage.reporting.cache import Snapshot
from usage.web import export_files

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


def kept(settings) -> list[Path]:
    return sorted(Path(settings.EXPORT_CACHE_DIR).glob("*/*.csv"))


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_second_export_is_the_kept_file(client, acme, people, settings):
    client.force_login(people["olivia"])
    url = f"/orgs/{acme.login}/usage.csv"
    first = client.get(url, {"range": "last_month"})
    assert not isinstance(first, FileResponse)
    text = body(first)
    [path] = kept(settings)
    assert path.parent.name == str(acme.pk) and path.read_bytes() == text
    client.force_login(people["bill"])  # any reader who may see it
    second = client.get(url, {"range": "last_month"})
    assert isinstance(second, FileResponse) and body(second) == text
    assert second["ETag"] == first["ETag"]
    assert second["Content-Type"] == "text/csv; charset=utf-8"
    assert second["Content-Disposition"] == first["Content-Disposition"]
    assert AuditEvent.objects.filter(action="export_csv").count() == 2
    # Other filters are another file.
    other = client.get(url)
    assert not isinstance(other, FileResponse) and body(other) != text
    assert len(kept(settings)) == 2


def test_a_new_version_renders_again_and_drops_the_old_file(client, acme, people, settings, dash):
    client.force_login(people["olivia"])
    url = f"/orgs/{acme.login}/usage.csv"
    before = body(client.get(url))
    assert isinstance(client.get(url), FileResponse)
    [old] = kept(settings)
    dash.control.add_spike(acme.login, periods.today().isoformat(), "actions_linux", factor=50)
    collect(acme, [periods.current_month()])
    fresh = client.get(url)
    assert not isinstance(fresh, FileResponse)
    after = body(fresh)
    assert after != before
    [new] = kept(settings)
    assert new != old and new.read_bytes() == after
    assert isinstance(client.get(url), FileResponse)


def test_a_download_cut_short_keeps_nothing(client, acme, people, settings):
    client.force_login(people["olivia"])
    response = client.get(f"/orgs/{acme.login}/usage.csv", {"range": "last_month"})
    stream = iter(response.streaming_content)
    next(stream)
    response.close()  # the client went away: the server closes the response
    assert kept(settings) == []
    assert list(Path(settings.EXPORT_CACHE_DIR).glob("*/*")) == []  # no temporary file


def test_an_org_never_bumped_keeps_nothing(settings):
    snap = Snapshot(organization_id=42, version=0, token=0)
    assert not export_files.cacheable(snap)
    assert b"".join(export_files.tee(snap, "k", iter(["a,b\r\n"]))) == b"a,b\r\n"
    assert kept(settings) == [] and export_files.open_cached(snap, "k") is None


def test_files_are_per_org_and_off_when_disabled(acme, settings):
    version, token = data_stamp_of(acme)
    mine = Snapshot(acme.pk, version, token)
    other = Snapshot(acme.pk + 1, version, token)  # the same stamp, another org
    assert b"".join(export_files.tee(mine, "k", iter(["x\r\n"]))) == b"x\r\n"
    assert export_files.open_cached(other, "k") is None
    with export_files.open_cached(mine, "k") as kept_file:
        assert kept_file.read() == b"x\r\n"
    settings.EXPORT_CACHE_BYTES = 0
    assert export_files.open_cached(mine, "k") is None


def _keep_one(org) -> Path:
    snap = Snapshot(org.pk, *data_stamp_of(org))
    b"".join(export_files.tee(snap, "k", iter(["x\r\n"])))
    assert export_files.open_cached(snap, "k") is not None
    return export_files._path(snap, "k")


def test_a_new_version_drops_the_older_files_at_commit(acme, django_capture_on_commit_callbacks):
    """Any writer (here a purge's bump): the older copies go when it commits."""
    path = _keep_one(acme)
    with django_capture_on_commit_callbacks(execute=True):
        org_data_version_bump(organization=acme)
    assert not path.exists()


def test_deleting_an_org_deletes_its_files(acme, make_org, django_capture_on_commit_callbacks):
    other = make_org("small-co", months=[periods.current_month()])
    mine, theirs = _keep_one(acme), _keep_one(other)
    with django_capture_on_commit_callbacks(execute=True):
        acme.delete()
    assert not mine.parent.exists() and theirs.exists()


def test_no_file_is_sent_past_its_age(acme, settings):
    path = _keep_one(acme)
    snap = Snapshot(acme.pk, *data_stamp_of(acme))
    settings.EXPORT_CACHE_SECONDS = 60
    old = time.time() - 61
    os.utime(path, (old, old))
    assert export_files.open_cached(snap, "k") is None
    export_files.prune(snap)
    assert not path.exists()
