"""`make audit`: known vulnerabilities of every pinned dependency, with pip-audit.

Audits ``constraints.txt`` (every transitive pin of the runtime, dev and load
requirements) without installing anything (``--no-deps --disable-pip``), against the
vulnerability service ``AUDIT_VULNERABILITY_SERVICE`` (``pypi``, PyPI's JSON API, by
default; or ``osv``). Exit codes:

- 0: no known vulnerability with a fix (unfixed ones are listed as warnings);
- 1: at least one pinned version has a known vulnerability with a fixed version:
  raise the pin (requirements and constraints.txt);
- 2: pip-audit itself failed (its error is shown);
- 3: NOT AUDITED: the vulnerability service could not be reached, or did not know the
  packages (pip-audit reports them as skipped and would exit 0: a silent pass). A
  machine that reaches only package registries (no pypi.org JSON API, no api.osv.dev)
  ends here; ``.ci/run`` says so loudly and fails only with ``AUDIT_REQUIRED=true``.

``--report FILE`` judges an existing ``pip-audit -f json`` report instead of running it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PINS = ROOT / "constraints.txt"
CLEAN, FIXABLE, FAILED, NOT_AUDITED = 0, 1, 2, 3
UNREACHABLE = ("ConnectionError", "NameResolutionError", "Max retries exceeded", "timed out")


def verdict(report: dict[str, Any]) -> tuple[int, list[str]]:
    """The exit code and the lines to print for a pip-audit JSON report."""
    deps = report.get("dependencies") or []
    skipped = [d for d in deps if d.get("skip_reason")]
    lines: list[str] = []
    fixable = 0
    for dep in deps:
        for vuln in dep.get("vulns") or []:
            fixes = vuln.get("fix_versions") or []
            ids = ", ".join([vuln.get("id", "?"), *(vuln.get("aliases") or [])])
            where = f"{dep['name']} {dep.get('version', '?')}: {ids}"
            if fixes:
                fixable += 1
                lines.append(f"VULNERABLE {where}; fixed in {', '.join(fixes)}")
            else:
                lines.append(f"warning: {where} has no fixed version yet")
    audited = len(deps) - len(skipped)
    if fixable:
        lines.append(
            f"audit: {fixable} known vulnerabilities with a fix in the pinned dependencies: "
            "raise those pins in requirements*.txt and constraints.txt."
        )
        return FIXABLE, lines
    if skipped:
        lines.append(
            f"audit: NOT AUDITED: {len(skipped)} of {len(deps)} pinned packages could not be "
            f"checked ({skipped[0]['skip_reason']}). The vulnerability service did not "
            "answer for them, so nothing is known about their vulnerabilities: this is not "
            "a pass. Run `make audit` where pypi.org's JSON API (or api.osv.dev, with "
            "AUDIT_VULNERABILITY_SERVICE=osv) can be reached."
        )
        return NOT_AUDITED, lines
    lines.append(f"audit: {audited} pinned packages, no known vulnerability with a fix.")
    return CLEAN, lines


def run_pip_audit(service: str) -> tuple[int, list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        cmd = [
            sys.executable,
            "-m",
            "pip_audit",
            "--requirement",
            str(PINS),
            "--no-deps",
            "--disable-pip",
            "--progress-spinner",
            "off",
            "--vulnerability-service",
            service,
            "--timeout",
            "20",
            "--format",
            "json",
            "--output",
            str(out),
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=900)
        if out.exists() and out.stat().st_size:
            return verdict(json.loads(out.read_text()))
    error = result.stderr.strip().splitlines()[-5:]
    if any(word in result.stderr for word in UNREACHABLE):
        return NOT_AUDITED, [
            *error,
            f"audit: NOT AUDITED: the vulnerability service {service!r} could not be "
            "reached from this machine, so nothing was checked: this is not a pass.",
        ]
    return FAILED, [*error, f"audit: pip-audit failed (exit {result.returncode})."]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, help="judge this pip-audit JSON report")
    args = parser.parse_args(argv)
    if args.report is not None:
        code, lines = verdict(json.loads(args.report.read_text()))
    else:
        service = os.environ.get("AUDIT_VULNERABILITY_SERVICE", "pypi")
        code, lines = run_pip_audit(service)
    print("\n".join(lines), file=sys.stderr if code else sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main())
