"""`make audit` (scripts/audit_deps.py): pip-audit over every pinned dependency, where a
known vulnerability with a fix fails, and a vulnerability database that cannot be reached
is said plainly (exit 3), never a silent pass (issue 14, missing piece 9)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "audit_deps.py"


def judge(tmp_path, report: dict) -> subprocess.CompletedProcess:
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--report", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def vuln(id_: str, fixes: list[str]) -> dict:
    return {"id": id_, "fix_versions": fixes, "aliases": ["CVE-2099-0001"], "description": ""}


def test_a_vulnerability_with_a_fix_fails(tmp_path):
    report = {
        "dependencies": [
            {"name": "django", "version": "5.2.19", "vulns": [vuln("PYSEC-1", ["5.2.20"])]},
            {"name": "celery", "version": "5.7.0", "vulns": []},
        ],
        "fixes": [],
    }
    result = judge(tmp_path, report)
    assert result.returncode == 1
    assert "VULNERABLE django 5.2.19: PYSEC-1, CVE-2099-0001; fixed in 5.2.20" in result.stderr


def test_a_vulnerability_without_a_fix_is_reported_but_passes(tmp_path):
    report = {
        "dependencies": [{"name": "x", "version": "1", "vulns": [vuln("GHSA-2", [])]}],
        "fixes": [],
    }
    result = judge(tmp_path, report)
    assert result.returncode == 0
    assert "warning: x 1: GHSA-2, CVE-2099-0001 has no fixed version yet" in result.stdout


def test_packages_the_service_could_not_check_are_never_a_pass(tmp_path):
    """pip-audit itself exits 0 when PyPI's JSON API does not answer for a package."""
    reason = "Dependency not found on PyPI and could not be audited: django (5.2.19)"
    report = {"dependencies": [{"name": "django", "skip_reason": reason}], "fixes": []}
    result = judge(tmp_path, report)
    assert result.returncode == 3
    assert "NOT AUDITED: 1 of 1 pinned packages could not be checked" in result.stderr
    assert "this is not a pass" in result.stderr


def test_make_audit_audits_every_pin_or_says_it_could_not(tmp_path):
    """The real run, against whatever vulnerability service this machine reaches."""
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, cwd=ROOT, timeout=900
    )
    pins = [
        line
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    if result.returncode == 3:
        assert "NOT AUDITED" in result.stderr and "this is not a pass" in result.stderr
    else:
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"audit: {len(pins)} pinned packages" in result.stdout
    assert "pip_audit==2.10.1" in pins  # pinned, as the CI runs it


def test_ci_runs_the_audit_before_the_tests():
    run = (ROOT / ".ci" / "run").read_text()
    # The script itself: make would turn its exit 3 ("not audited") into 2.
    assert run.index("\n.venv/bin/python scripts/audit_deps.py\n") < run.index("\nmake test\n")
    assert "AUDIT_REQUIRED" in run
