"""The suite's "today": real by default, any chosen day with ``TEST_TODAY=YYYY-MM-DD``.

Billing is cut in UTC days and months, so a test that holds only on some dates is a bug
waiting for the calendar. ``TEST_TODAY`` moves the wall clock of the whole test run (this
process, the in-process GitHub simulator, and every process the tests start: Celery
workers, beat, gunicorn) to that day at 12:00 UTC, still ticking, with time-machine.
Monotonic clocks and sleeps are untouched, so timeouts behave as always.

Every process travels by the same offset (``TEST_CLOCK_OFFSET`` seconds, set once by the
first process), so they agree on "now" to the millisecond. Child processes start through
``python -m tests.clock <module> [args...]`` (see `command()`), which travels and then
runs the module as ``python -m <module>`` would. ``tests/test_any_date.py`` runs the
date-sensitive tests (marker ``dates``) at several such days.
"""

from __future__ import annotations

import os
import runpy
import sys
import time
from datetime import UTC, date, datetime

TODAY_ENV = "TEST_TODAY"
OFFSET_ENV = "TEST_CLOCK_OFFSET"

_traveller = None


def offset_seconds() -> float:
    """Seconds this run's clock is ahead of the real one (0: the real date)."""
    if os.environ.get(OFFSET_ENV):
        return float(os.environ[OFFSET_ENV])
    text = os.environ.get(TODAY_ENV, "").strip()
    if not text:
        return 0.0
    day = date.fromisoformat(text)
    noon = datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC)
    offset = noon.timestamp() - time.time()
    os.environ[OFFSET_ENV] = repr(offset)  # children inherit the same offset
    return offset


def start() -> None:
    """Move this process's wall clock by the run's offset (no-op on the real date)."""
    global _traveller
    offset = offset_seconds()
    if not offset or _traveller is not None:
        return
    import time_machine

    _traveller = time_machine.travel(time.time() + offset, tick=True)
    _traveller.start()
    # time-machine starts ticking at the first read of the clock, not at start(): read it
    # now, or this process would lag the others by however long it took to read it first.
    time.time()


def command(module: str, *args: str) -> list[str]:
    """argv for ``python -m <module> args`` in a child that shares this run's clock."""
    if offset_seconds():
        return [sys.executable, "-m", "tests.clock", module, *args]
    return [sys.executable, "-m", module, *args]


def main() -> None:
    module, sys.argv = sys.argv[1], sys.argv[1:]
    start()
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
