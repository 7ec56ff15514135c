"""GitHub's own reference data, kept inside the repository (`ghsim/spec/`).

The simulator and the suites read GitHub's REST description, its examples, webhook payloads,
the permission table and the usage-report reference from here, so a bare clone needs
nothing beside it. `ghsim/spec/README.md` says where each file comes from and how the copy
is checked against the team's read-only reference folder (`make reference-check`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

SPEC_DIR = Path(__file__).resolve().parent / "spec"
EXAMPLES = SPEC_DIR / "examples"
OPENAPI = SPEC_DIR / "openapi-subset.json"
LEGACY_BILLING = SPEC_DIR / "openapi-subset-legacy-billing.json"
PERMISSIONS = SPEC_DIR / "permissions.json"
MANIFEST = SPEC_DIR / "MANIFEST.sha256"


def example(name: str) -> Any:
    """One of GitHub's example bodies (`examples/<name>`), parsed."""
    return json.loads((EXAMPLES / name).read_text())


def manifest() -> dict[str, str]:
    """`relative path -> sha256` as recorded when the copy was made."""
    out: dict[str, str] = {}
    for line in MANIFEST.read_text().splitlines():
        digest, _, name = line.partition("  ")
        out[name.removeprefix("./")] = digest
    return out


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
