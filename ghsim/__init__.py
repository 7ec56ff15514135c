"""ghsim: a local GitHub simulator (web side + REST API under /api/v3) for demos and tests.

Production code never imports this package. See ghsim/README.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ghsim.config import SimConfig

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["SimConfig", "create_app"]


def create_app(config: SimConfig) -> Flask:
    """Build the Flask app (imported lazily: `import ghsim.config` stays light)."""
    from ghsim.app import create_app as _create

    return _create(config)
