"""Compare `ghsim/spec/` with the team's reference folder, when there is one.

    python scripts/check_reference.py [folder]

The folder defaults to `GITHUB_API_REFERENCE`, else `shared/github-api` beside the
checkout. Prints each file that differs or is missing on either side; exits 1 if any,
0 when the copy is current or when no reference folder exists (nothing to compare).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ghsim.reference import SPEC_DIR, digest  # noqa: E402

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
    problems = [f"missing here: {name}" for name in sorted(set(theirs) - set(ours))]
    problems += [f"only here: {name}" for name in sorted(set(ours) - set(theirs))]
    problems += [
        f"differs: {name}"
        for name in sorted(set(ours) & set(theirs))
        if digest(ours[name]) != digest(theirs[name])
    ]
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} difference(s) with {folder}; see ghsim/spec/README.md")
        return 1
    print(f"ghsim/spec matches {folder} ({len(ours)} files)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
