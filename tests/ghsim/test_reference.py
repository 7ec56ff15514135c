"""GitHub's reference data lives in the repository (`ghsim/spec/`), unchanged since copied
but for the redaction of token-shaped strings (`ghsim/spec/README.md`)."""

from __future__ import annotations

import hashlib
import json
import shutil

from ghsim import reference
from scripts import check_reference


def test_every_file_matches_the_manifest_it_was_copied_with():
    recorded = reference.manifest()
    present = {
        str(p.relative_to(reference.SPEC_DIR))
        for p in reference.SPEC_DIR.rglob("*")
        if p.is_file() and p.name not in {"MANIFEST.sha256", "README.md"}
    }
    assert present == set(recorded), "files added or removed without updating MANIFEST.sha256"
    changed = [n for n, d in recorded.items() if reference.digest(reference.SPEC_DIR / n) != d]
    assert changed == [], f"edited after copying (see ghsim/spec/README.md): {changed}"


def test_the_index_lists_every_example_with_its_digest():
    index = json.loads((reference.EXAMPLES / "INDEX.json").read_text())
    listed = {
        e["file"]: e["sha256"]
        for group in index.values()
        if isinstance(group, list)
        for e in group
        if isinstance(e, dict) and "sha256" in e
    }
    files = {p.name for p in reference.EXAMPLES.glob("*.json")} - {"INDEX.json"}
    assert files <= set(listed)
    for name in files:
        assert reference.digest(reference.EXAMPLES / name) == listed[name], name


def test_the_code_reads_the_copy_not_a_folder_beside_the_checkout():
    assert reference.OPENAPI.is_file() and reference.PERMISSIONS.is_file()
    assert reference.SPEC_DIR.parent.name == "ghsim"
    paths = json.loads(reference.OPENAPI.read_text())["paths"]
    assert "/organizations/{org}/settings/billing/usage" in paths


def test_no_token_shaped_string_is_committed():
    shaped = [
        n for n, data in reference.spec_files().items() if reference.TOKEN_SHAPED.search(data)
    ]
    assert shaped == []
    token = reference.example("POST__app__installations__installation_id__access_tokens.201.json")
    assert token["token"] == "ghs_REDACTED-EXAMPLE-TOKEN"


def test_the_reference_check_redacts_the_reference_and_proves_the_rest_verbatim(tmp_path):
    """A reference folder as GitHub's docs print it (token-shaped placeholders, the index
    listing their digests) matches the redacted copy; any other difference does not."""
    upstream = tmp_path / "github-api"
    shutil.copytree(reference.SPEC_DIR, upstream)
    index = (upstream / reference.INDEX).read_text()
    for name, data in reference.spec_files().items():
        if b"_REDACTED-EXAMPLE-TOKEN" in data and name != reference.INDEX:
            placeholder = data.replace(
                b"_REDACTED-EXAMPLE-TOKEN", b"_16C7e42F292c6912E7710c838347Ae178B4a"
            )
            (upstream / name).write_bytes(placeholder)
            index = index.replace(
                hashlib.sha256(data).hexdigest(), hashlib.sha256(placeholder).hexdigest()
            )
    (upstream / reference.INDEX).write_text(index)
    assert reference.TOKEN_SHAPED.search((upstream / "openapi-subset.json").read_bytes())
    assert check_reference.main([str(upstream)]) == 0

    edited = upstream / "examples" / "GET__app.200.json"
    edited.write_bytes(edited.read_bytes().replace(b'"id"', b'"Id"', 1))
    assert check_reference.main([str(upstream)]) == 1
