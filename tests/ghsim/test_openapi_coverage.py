"""Every operation the simulator serves answers, in success and in error, bodies that
validate against GitHub's description (ApiSession validates each answer on the fly)."""

from __future__ import annotations

from ghsim.tokens import random_token
from tests.ghsim.helpers import make_jwt
from tests.ghsim.openapi_check import SPEC, VALIDATED

ACME = 8880001


def test_every_operation_success_and_error(api, sim, token, config, private_key):
    ghu, bill, nora = token("olivia"), token("bill"), token("nora")
    gho = token("olivia", "oauth", scope="read:org")
    ghs = sim.control.installation_token("acme-corp")
    app = make_jwt(config, private_key)
    bad = random_token("ghu_")  # never issued
    billing = "/organizations/acme-corp/settings/billing"
    calls = [
        # (method, path, token, expected status)
        ("GET", "/user", ghu, 200),
        ("GET", "/user", ghs, 403),
        ("GET", "/user/orgs", gho, 200),
        ("GET", "/user/orgs", bad, 401),
        ("GET", "/user/memberships/orgs", ghu, 200),
        ("GET", "/user/memberships/orgs?state=nope", ghu, 422),
        ("GET", "/user/memberships/orgs/acme-corp", bill, 200),
        ("GET", "/user/memberships/orgs/initech", ghu, 404),
        ("GET", "/user/installations", ghu, 200),
        ("GET", "/user/installations", gho, 403),
        ("GET", "/orgs/acme-corp", ghu, 200),
        ("GET", "/orgs/no-such-org", ghu, 404),
        ("GET", "/orgs/acme-corp/members", ghu, 200),
        ("GET", "/orgs/acme-corp/members?role=boss", ghu, 422),
        ("GET", "/orgs/acme-corp/memberships/mia", ghu, 200),
        ("GET", "/orgs/acme-corp/memberships/mia", nora, 404),
        ("GET", "/app", app, 200),
        ("GET", "/app", ghu, 401),
        ("GET", "/app/installations", app, 200),
        ("GET", "/app/installations", ghs, 401),
        ("GET", f"/app/installations/{ACME}", app, 200),
        ("GET", "/app/installations/1", app, 404),
        ("GET", "/orgs/acme-corp/installation", app, 200),
        ("GET", "/orgs/globex/installation", app, 404),
        ("POST", f"/app/installations/{ACME}/access_tokens", app, 201),
        ("POST", "/app/installations/1/access_tokens", app, 404),
        ("GET", "/rate_limit", ghu, 200),
        ("GET", "/rate_limit", bad, 401),
        ("GET", f"{billing}/usage?month=11&day=2", ghu, 200),
        ("GET", f"{billing}/usage", bill, 403),
        ("GET", f"{billing}/usage?month=99", ghu, 400),
        ("GET", f"{billing}/usage", nora, 404),
        ("GET", f"{billing}/usage/summary", ghu, 200),
        ("GET", f"{billing}/usage/summary", gho, 403),
        ("GET", f"{billing}/budgets", bill, 200),
        ("GET", f"{billing}/budgets", token("mia"), 403),
        ("GET", "/organizations/no-such-org/settings/billing/budgets", ghu, 404),
        ("GET", f"{billing}/premium_request/usage?user=mia", ghu, 200),
        ("GET", f"{billing}/premium_request/usage", bill, 403),
        ("GET", f"{billing}/premium_request/usage", nora, 404),
        ("GET", f"{billing}/ai_credit/usage?model=GPT-5.2", ghs, 200),
        ("GET", f"{billing}/ai_credit/usage?day=40", ghu, 400),
        ("DELETE", "/installation/token", ghu, 403),
        ("DELETE", "/installation/token", ghs, 204),
    ]
    VALIDATED.clear()
    for method, path, tok, status in calls:
        resp = api.call(method, path, tok)
        assert resp.status_code == status, (method, path, resp.text)
    operations = {
        (m.upper(), p) for p, ops in SPEC["paths"].items() for m in ops if m != "parameters"
    }
    served = {(m, t) for m, t, _ in VALIDATED}
    not_simulated = {
        ("GET", "/users/{username}/settings/billing/usage"),
        ("GET", "/orgs/{org}/installations"),
        ("POST", "/applications/{client_id}/token"),
        ("DELETE", "/applications/{client_id}/token"),
        ("DELETE", "/applications/{client_id}/grant"),
    }
    assert served == operations - not_simulated
    for op in served:
        statuses = {s for m, t, s in VALIDATED if (m, t) == op}
        assert any(s < 300 for s in statuses) and any(s >= 400 for s in statuses), op
