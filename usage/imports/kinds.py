"""The kinds of report file billingdash imports, told apart by their header line.

A kind is registered once, at start-up: the metered reports (summarized, detailed) by
`usage.imports` itself, the Copilot AI-usage report by the ``copilot`` app in its
``AppConfig.ready`` (usage never imports copilot). The upload reads the header line,
`kind_of` names the first kind whose `detect` accepts it, and the import task calls that
kind's `run`.

`run(*, report_import, path, progress)` reads the file at `path` for the
`ReportImport` (its organization, uploader, workspace), applies what it can, and
returns an `Outcome`; `progress(percent)` may be called as it goes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Outcome", "ReportKind", "kind_named", "kind_of", "kinds", "register_kind"]


@dataclass
class Outcome:
    """What an import did: rows applied, months applied and kept as they were, the first
    100 bad rows (``{"line": n, "message": "..."}``) and how many there were in all."""

    rows: int = 0
    rows_read: int = 0
    months: list[str] = field(default_factory=list)
    months_kept: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0
    first_day: Any = None
    last_day: Any = None
    message: str = ""


@dataclass(frozen=True)
class ReportKind:
    name: str  # "detailed"
    label: str  # "Detailed usage report"
    detect: Callable[[frozenset[str]], bool]  # header names, lower case
    run: Callable[..., Outcome]
    priority: int = 100  # lower is asked first


_KINDS: dict[str, ReportKind] = {}


def register_kind(kind: ReportKind) -> None:
    """Add (or replace, by name) a kind of report."""
    _KINDS[kind.name] = kind


def kinds() -> list[ReportKind]:
    return sorted(_KINDS.values(), key=lambda k: (k.priority, k.name))


def kind_of(header: frozenset[str]) -> ReportKind | None:
    """The kind whose header this is, or None."""
    return next((k for k in kinds() if k.detect(header)), None)


def kind_named(name: str) -> ReportKind | None:
    return _KINDS.get(name)
