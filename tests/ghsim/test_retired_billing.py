"""The retired per-product billing endpoints answer 410 Gone, as GitHub does today."""

from __future__ import annotations

import pytest

from ghsim.routes_legacy import MOVED, MOVED_DOCS
from tests.ghsim.openapi_check import LEGACY_SPEC


@pytest.mark.parametrize("product", ["actions", "packages", "shared-storage"])
def test_retired_endpoints_are_gone(api, sim, token, product):
    path = f"/orgs/acme-corp/settings/billing/{product}"
    assert path.replace("acme-corp", "{org}") in LEGACY_SPEC["paths"]
    owner = token("olivia", "oauth", scope="admin:org")  # what the old endpoints wanted
    for tok in (owner, token("mia"), sim.control.installation_token("acme-corp"), None):
        resp = api.get(path, tok)  # validated: basic-error, a retired operation
        assert resp.status_code == 410
        assert resp.json() == {"message": MOVED, "documentation_url": MOVED_DOCS, "status": "410"}
    assert api.get(path.replace("acme-corp", "no-such-org"), owner).status_code == 410
    assert api.get(path, "ghu_never_issued").status_code == 401  # bad credentials first


def test_other_settings_paths_stay_not_found(api, token):
    path = "/orgs/acme-corp/settings/billing/advanced-security"  # not an operation at all
    resp = api.get(path, token("olivia"), headers={"X-Skip-Validation": "1"})
    assert resp.status_code == 404 and resp.json()["message"] == "Not Found"
