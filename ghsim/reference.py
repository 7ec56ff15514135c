"""GitHub's own reference data, kept inside the repository (`ghsim/spec/`).

The simulator and the suites read GitHub's REST description, its examples, webhook payloads,
the permission table and the usage-report reference from here, so a bare clone needs
nothing beside it. `ghsim/spec/README.md` says where each file comes from and how the copy
is checked against the team's read-only reference folder (`make reference-check`).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

SPEC_DIR = Path(__file__).resolve().parent / "spec"
EXAMPLES = SPEC_DIR / "examples"
OPENAPI = SPEC_DIR / "openapi-subset.json"
LEGACY_BILLING = SPEC_DIR / "openapi-subset-legacy-billing.json"
PERMISSIONS = SPEC_DIR / "permissions.json"
MANIFEST = SPEC_DIR / "MANIFEST.sha256"
INDEX = "examples/INDEX.json"

#: Token-shaped strings: one of GitHub's token prefixes (`ghp_`, `gho_`, `ghu_`, `ghs_`,
#: `ghr_`), then 30 or more letters and digits. GitHub's docs print placeholders of that
#: shape (`ghs_16C7e42F…`), which secret scanners cannot tell from real tokens, so the copy
#: keeps the prefix (what the code and the suites read) and replaces the rest with a marker
#: no scanner takes for a token. Everything else is byte for byte the reference's.
TOKEN_SHAPED = re.compile(rb"\b(gh[pousr])_[A-Za-z0-9]{30,}\b")
REDACTED_TOKEN = rb"\1_REDACTED-EXAMPLE-TOKEN"


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


def redact(data: bytes) -> bytes:
    """A reference file's bytes with every token-shaped string redacted (`TOKEN_SHAPED`)."""
    return TOKEN_SHAPED.sub(REDACTED_TOKEN, data)


def redacted_copy(files: dict[str, bytes]) -> dict[str, bytes]:
    """The reference folder's files (relative path -> bytes) as this copy keeps them: token-
    shaped strings redacted, and in `examples/INDEX.json` the sha256 of each redacted example
    replaced by the redacted file's, so that the index still lists what is here."""
    out = {name: redact(data) for name, data in files.items()}
    if INDEX in out:
        text = out[INDEX]
        for name, data in files.items():
            if out[name] != data:
                old, new = hashlib.sha256(data).hexdigest(), hashlib.sha256(out[name]).hexdigest()
                text = text.replace(old.encode(), new.encode())
        out[INDEX] = text
    return out


def spec_files() -> dict[str, bytes]:
    """The copy's reference files (relative path -> bytes), without its own two."""
    return {
        str(p.relative_to(SPEC_DIR)): p.read_bytes()
        for p in sorted(SPEC_DIR.rglob("*"))
        if p.is_file() and p.name not in {"MANIFEST.sha256", "README.md"}
    }


def redact_spec() -> list[str]:
    """Redact a freshly copied reference in place (`redacted_copy`); the files it changed."""
    files = spec_files()
    redacted = redacted_copy(files)
    changed = [name for name, data in redacted.items() if data != files[name]]
    for name in changed:
        (SPEC_DIR / name).write_bytes(redacted[name])
    return changed
