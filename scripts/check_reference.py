"""Compare `ghsim/spec/` with the team's reference folder, when there is one.

    python scripts/check_reference.py [folder]

The folder defaults to `GITHUB_API_REFERENCE`, else `shared/github-api` beside the
checkout. Prints each file that differs or is missing on either side; exits 1 if any,
0 when the copy is current or when no reference folder exists (nothing to compare).

The copy redacts token-shaped strings (GitHub's documentation placeholders, see
`ghsim/spec/README.md`): the reference's files are compared after the same redaction
(`ghsim.reference.redacted_copy`), so every other byte is still proven verbatim.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ghsim.reference import SPEC_DIR, digest, redacted_copy  # noqa: E402

OWN = {"MANIFEST.sha256", "README.md"}


def files(folder: Path) -> dict[str, Path]:
    return {
        str(p.relative_to(folder)): p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and str(p.relative_to(folder)) not in OWN
    }


def main(argv: list[str]) -> int:
    default = os.environ.get("GITHUB_API_REFERENCE") or ROOT.parent / "shared" / "github-api"
    folder = Path(argv[0] if argv else default)
    if not folder.is_dir():
        print(f"no reference folder at {folder}: nothing to compare (the copy is what it is)")
        return 0
    ours, theirs = files(SPEC_DIR), files(folder)
    expected = redacted_copy({name: path.read_bytes() for name, path in theirs.items()})
    problems = [f"missing here: {name}" for name in sorted(set(theirs) - set(ours))]
    problems += [f"only here: {name}" for name in sorted(set(ours) - set(theirs))]
    problems += [
        f"differs: {name}"
        for name in sorted(set(ours) & set(theirs))
        if digest(ours[name]) != hashlib.sha256(expected[name]).hexdigest()
    ]
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} difference(s) with {folder}; see ghsim/spec/README.md")
        return 1
    redacted = sum(expected[name] != theirs[name].read_bytes() for name in theirs)
    print(
        f"ghsim/spec matches {folder} ({len(ours)} files; {redacted} compared after the "
        "redaction of token-shaped strings)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
