"""Where GitHub's own description lives: ``../shared/github-api/`` beside the checkout
(read only), or ``GITHUB_API_SHARED`` when it is elsewhere."""

import os
from pathlib import Path

GITHUB_API = Path(
    os.environ.get("GITHUB_API_SHARED")
    or Path(__file__).resolve().parent.parent.parent / "shared" / "github-api"
)
EXAMPLES = GITHUB_API / "examples"
OPENAPI = GITHUB_API / "openapi-subset.json"
