"""GitHub's reference data lives in the repository (`ghsim/spec/`), unchanged since copied."""

from __future__ import annotations

import json

from ghsim import reference


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
