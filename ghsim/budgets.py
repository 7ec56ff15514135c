"""Deterministic budgets per org, consistent with the org's SKUs and repositories.

Shape quirk: GitHub's schema requires `budget_product_sku` (one string) and an integer
`budget_amount`, while GitHub's own examples show `budget_product_skus` (an array). The
simulator sends both keys (same value) and whole-dollar integer amounts, so a consumer
written against either form works; see README.md.
"""

from __future__ import annotations

import random
import uuid

from ghsim.usage import OrgPlan, _mix

_TEMPLATES = (
    # (budget_type, product or sku id, scope, amount, prevent_further_usage)
    ("ProductPricing", "actions", "organization", 500, True),
    ("SkuPricing", "actions_linux", "organization", 200, False),
    ("ProductPricing", "copilot", "organization", 600, False),
    ("ProductPricing", "packages", "organization", 50, True),
    ("ProductPricing", "codespaces", "organization", 150, True),
    ("SkuPricing", "git_lfs_storage", "organization", 25, False),
)


def org_budgets(plan: OrgPlan, owners: list[str], seed: int, count: int) -> list[dict]:
    """`count` budgets: org-wide ones for products/SKUs the org uses, then per-repository."""
    rng = random.Random(_mix(seed, plan.org_id, 3))
    used_products = {s.sku.product for s in plan.slots}
    used_skus = {s.sku.key for s in plan.slots}
    repos = sorted({s.repo for s in plan.slots if s.repo})
    budgets: list[dict] = []
    for kind, target, scope, amount, prevent in _TEMPLATES:
        if len(budgets) >= count:
            break
        if target not in (used_skus if kind == "SkuPricing" else used_products):
            continue
        budgets.append(_budget(rng, kind, target, scope, plan.login, amount, prevent, owners))
    index = 0
    while len(budgets) < count and repos:
        repo = repos[index % len(repos)]
        amount = 20 + 10 * rng.randrange(0, 10)
        budgets.append(
            _budget(rng, "ProductPricing", "actions", "repository", repo, amount, False, owners)
        )
        index += 1
    return budgets


def _budget(
    rng: random.Random,
    kind: str,
    target: str,
    scope: str,
    entity: str,
    amount: int,
    prevent: bool,
    owners: list[str],
) -> dict:
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "budget_type": kind,
        "budget_product_sku": target,
        "budget_product_skus": [target],
        "budget_scope": scope,
        "budget_entity_name": entity,
        "budget_amount": amount,
        "prevent_further_usage": prevent,
        "budget_alerting": {"will_alert": True, "alert_recipients": list(owners)},
    }
