"""The suite holds on any date: the date-sensitive tests (marker `dates`) run again at
several fixed "todays" chosen for what breaks date code: the first and the last day of a
month and of a year, February 29, and the 10th (the last day the previous month is still
collected again, because GitHub adjusts it late).

Each day is a separate pytest run with `TEST_TODAY` (tests/clock.py moves the clock of
that run and of every process it starts, the simulator included); a failure shows that
run's summary. Add `pytestmark = pytest.mark.dates` to any module whose results depend on
today's date.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

from tests.clock import OFFSET_ENV, TODAY_ENV

DAYS = ["2027-01-01", "2027-01-31", "2027-03-10", "2028-02-29"]
CHILD_TIMEOUT = 1800


# A child run takes minutes (about 300 s on a busy CI machine): its own timeout, not the
# suite's per-test 300 s, bounds it.
@pytest.mark.timeout(CHILD_TIMEOUT + 60)
@pytest.mark.parametrize("day", DAYS)
def test_the_date_sensitive_tests_pass_on(day):
    env = {**os.environ, TODAY_ENV: day}
    env.pop(OFFSET_ENV, None)  # the child run computes its own from TEST_TODAY
    command = [sys.executable, "-m", "pytest", "-m", "dates", "-q", "-p", "no:cacheprovider"]
    run = subprocess.run(
        [*command, "tests"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
    )
    summary = run.stdout[run.stdout.rfind("short test summary") :] or run.stdout[-3000:]
    assert run.returncode == 0, f"on {day}:\n{summary}\n{run.stderr[-2000:]}"
    assert " passed" in run.stdout and " deselected" in run.stdout
