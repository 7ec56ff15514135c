"""GitHub's enhanced billing platform catalogue: products, SKUs, unit types, prices, quotas.

Sources (github/docs): `content/billing/reference/product-and-sku-names.md` (SKU ids),
`data/reusables/billing/actions-standard-runner-prices.md` and
`content/billing/reference/actions-runner-pricing.md` (runner prices before and from
2026-01-01), `content/billing/reference/product-usage-included.md` (included quotas),
the Packages / Git LFS / Codespaces billing pages ($0.25 and $0.07 per GB-month,
$0.50 per GB and $0.0875 per GiB transferred, $0.18/h per 2-core codespace), Copilot
plans ($19 Business, $39 Enterprise per user-month, $0.04 per premium request).

What the usage API prints (observed in public reports of real responses, e.g.
`"product": "actions", "sku": "Actions Linux", "unitType": "Minutes"`,
`"sku": "Copilot Business", "unitType": "UserMonths", "quantity": 0.249999995`): the
lower-case product id, a display SKU name, a CamelCase unit type. The summary endpoint
prints the SKU *identifier* (`actions_linux`), as in GitHub's own example.

Storage is metered hourly: per-month prices become per GB-hour prices by dividing by 744
(31 x 24), the convention GitHub's storage examples use.

Fixed-point representation used everywhere in the generator (exact, no floats):
quantity in 1e-4 units, price in 1e-8 units, amounts in 1e-10 units.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

Q_DECIMALS = 4
P_DECIMALS = 8
A_DECIMALS = 10
Q_SCALE = 10**Q_DECIMALS
P_SCALE = 10**P_DECIMALS
A_SCALE = 10**A_DECIMALS

#: GitHub lowered hosted-runner prices on this day (actions-standard-runner-prices.md).
RUNNER_PRICE_CHANGE = date(2026, 1, 1)
#: Copilot premium requests are billed from this day on.
PREMIUM_REQUESTS_START = date(2025, 6, 18)
#: The premium requests usage report (CSV) and the simulator's `premium_request/usage`
#: endpoint cover usage from this day on (billing-reports.md §1.1, §7).
COPILOT_REPORT_START = date(2025, 10, 1)
#: "Transition period" premium-request reports carry `aic_quantity`/`aic_gross_amount`
#: (the same usage priced in AI credits) for the April and May 2026 billing periods.
AIC_COLUMNS_START = date(2026, 4, 1)
#: Copilot moves to usage-based billing: AI credits ($0.01) replace premium requests.
AI_CREDITS_START = date(2026, 6, 1)
#: The AI usage report gains `input`, `output`, `cache_read`, `cache_write` (21 columns).
TOKEN_COLUMNS_START = date(2026, 8, 12)
_EPOCH = date(2000, 1, 1)


@dataclass(frozen=True)
class Sku:
    key: str  # identifier (budgets, summary, `sku` filter)
    name: str  # what the usage report prints in `sku`
    product: str  # product identifier
    unit: str  # unitType
    prices: tuple[tuple[date, str], ...]  # (effective from, price as published)
    scope: str  # "repo" (has repositoryName) or "org"
    mean: float  # typical daily quantity for an average repository
    whole_units: bool = False  # e.g. minutes are billed in whole minutes
    weekend: float = 0.35  # weekend activity factor (1.0 for storage and seats)
    quota: str | None = None  # included-usage group that discounts it
    weight: int = 1  # quota units consumed per unit (minute multipliers)
    pick: float = 1.0  # how often repositories use this SKU
    available_from: date | None = None

    def price_text(self, day: date) -> str:
        text = self.prices[0][1]
        for since, price in self.prices:
            if day >= since:
                text = price
        return text

    def price_units(self, day: date) -> int:
        return decimal_units(self.price_text(day), P_DECIMALS)


def decimal_units(text: str, decimals: int) -> int:
    """'0.00033602' -> 33602 (at 8 decimals), exactly."""
    whole, _, frac = text.partition(".")
    if len(frac) > decimals:
        raise ValueError(f"{text} has more than {decimals} decimals")
    return int(whole or "0") * 10**decimals + int((frac + "0" * decimals)[:decimals] or "0")


def fmt_units(value: int, decimals: int) -> str:
    """Fixed-point integer to the shortest exact decimal text (no exponent)."""
    scale = 10**decimals
    whole, frac = divmod(value, scale)
    if not frac:
        return str(whole)
    return f"{whole}.{str(frac).rjust(decimals, '0').rstrip('0')}"


def _runner(key: str, name: str, before: str, after: str, mean: float, **kw: object) -> Sku:
    return Sku(
        key=key,
        name=name,
        product="actions",
        unit="Minutes",
        prices=((_EPOCH, before), (RUNNER_PRICE_CHANGE, after)),
        scope="repo",
        mean=mean,
        whole_units=True,
        **kw,  # type: ignore[arg-type]
    )


def _flat(key: str, name: str, product: str, unit: str, price: str, **kw: object) -> Sku:
    return Sku(key=key, name=name, product=product, unit=unit, prices=((_EPOCH, price),), **kw)  # type: ignore[arg-type]


_GB_HOUR_025 = "0.00033602"  # $0.25 per GB-month / 744 h
_GB_HOUR_007 = "0.00009409"  # $0.07 per GB-month / 744 h

#: Repository-level SKUs (they carry `repositoryName`). The first one every repo uses.
REPO_SKUS: tuple[Sku, ...] = (
    _runner("actions_linux", "Actions Linux", "0.008", "0.006", 180, quota="actions_minutes"),
    _runner(
        "actions_windows",
        "Actions Windows",
        "0.016",
        "0.010",
        60,
        quota="actions_minutes",
        weight=2,
        pick=0.5,
    ),
    _runner(
        "actions_macos",
        "Actions macOS 3-core",
        "0.08",
        "0.062",
        20,
        quota="actions_minutes",
        weight=10,
        pick=0.35,
    ),
    # Larger runners never use the included minutes (actions-runner-pricing.md).
    _runner("actions_linux_4_core", "Actions Linux 4-core", "0.016", "0.012", 90, pick=0.4),
    _runner("actions_linux_8_core", "Actions Linux 8-core", "0.032", "0.022", 45, pick=0.25),
    _runner("actions_linux_16_core", "Actions Linux 16-core", "0.064", "0.042", 25, pick=0.15),
    _runner("actions_linux_2_core_arm", "Actions Linux 2-core ARM", "0.005", "0.005", 70, pick=0.2),
    _runner("actions_windows_8_core", "Actions Windows 8-core", "0.064", "0.042", 20, pick=0.1),
    _runner("actions_macos_l", "Actions macOS 12-core", "0.12", "0.077", 10, pick=0.1),
    _flat(
        "actions_storage",
        "Actions storage",
        "actions",
        "GigabyteHours",
        _GB_HOUR_025,
        scope="repo",
        mean=240.0,
        weekend=1.0,
        quota="storage",
        pick=0.9,
    ),
    _flat(
        "packages_storage",
        "Packages storage",
        "packages",
        "GigabyteHours",
        _GB_HOUR_025,
        scope="repo",
        mean=120.0,
        weekend=1.0,
        quota="storage",
        pick=0.5,
    ),
    _flat(
        "packages_bandwidth",
        "Packages data transfer",
        "packages",
        "Gigabytes",
        "0.5",
        scope="repo",
        mean=4.0,
        quota="packages_transfer",
        pick=0.45,
    ),
    _flat(
        "codespaces_compute_d2",
        "Codespaces compute 2-core",
        "codespaces",
        "Hours",
        "0.18",
        scope="repo",
        mean=3.0,
        pick=0.3,
    ),
    _flat(
        "codespaces_compute_d4",
        "Codespaces compute 4-core",
        "codespaces",
        "Hours",
        "0.36",
        scope="repo",
        mean=2.0,
        pick=0.2,
    ),
    _flat(
        "codespaces_storage",
        "Codespaces storage",
        "codespaces",
        "GigabyteHours",
        _GB_HOUR_007,
        scope="repo",
        mean=120.0,
        weekend=1.0,
        pick=0.3,
    ),
    _flat(
        "codespaces_prebuild_storage",
        "Codespaces prebuild storage",
        "codespaces",
        "GigabyteHours",
        _GB_HOUR_007,
        scope="repo",
        mean=60.0,
        weekend=1.0,
        pick=0.15,
    ),
    _flat(
        "git_lfs_storage",
        "Git LFS storage",
        "git_lfs",
        "GigabyteHours",
        _GB_HOUR_007,
        scope="repo",
        mean=150.0,
        weekend=1.0,
        quota="lfs_storage",
        pick=0.3,
    ),
    _flat(
        "git_lfs_bandwidth",
        "Git LFS bandwidth",
        "git_lfs",
        "Gigabytes",
        "0.0875",
        scope="repo",
        mean=2.5,
        quota="lfs_bandwidth",
        pick=0.3,
    ),
)

#: Organization-level SKUs: no `repositoryName`.
COPILOT_BUSINESS = _flat(
    "copilot_for_business",
    "Copilot Business",
    "copilot",
    "UserMonths",
    "19",
    scope="org",
    mean=0,
    weekend=1.0,
)
COPILOT_ENTERPRISE = _flat(
    "copilot_enterprise",
    "Copilot Enterprise",
    "copilot",
    "UserMonths",
    "39",
    scope="org",
    mean=0,
    weekend=1.0,
)
COPILOT_PREMIUM = _flat(
    "copilot_premium_request",
    "Copilot Premium Request",
    "copilot",
    "Requests",
    "0.04",
    scope="org",
    mean=15.0,
    available_from=PREMIUM_REQUESTS_START,
)
#: What `premium_request/usage` calls the AI credit's sibling; the usage report prints
#: the name, the CSV the key. Discounts of both come from ghsim/copilot.py (per-user
#: premium-request quotas, a pooled AI-credit allowance), not from PLAN_QUOTAS.
COPILOT_AI_CREDIT = _flat(
    "copilot_ai_credit",
    "Copilot AI Credits",
    "copilot",
    "Credits",
    "0.01",
    scope="org",
    mean=0,
    available_from=AI_CREDITS_START,
)

ALL_SKUS: tuple[Sku, ...] = (
    *REPO_SKUS,
    COPILOT_BUSINESS,
    COPILOT_ENTERPRISE,
    COPILOT_PREMIUM,
    COPILOT_AI_CREDIT,
)
SKUS_BY_KEY: dict[str, Sku] = {s.key: s for s in ALL_SKUS}

#: Included usage per plan and month (product-usage-included.md). Storage quotas are in
#: GB and become GB-hours over the month; minutes are Linux-minute equivalents
#: (Windows x2, macOS x10); premium requests are per Copilot seat.
PLAN_QUOTAS: dict[str, dict[str, float]] = {
    "free": {
        "actions_minutes": 2000,
        "storage_gb": 0.5,
        "packages_transfer": 1,
        "lfs_gb": 10,
        "lfs_bandwidth": 10,
    },
    "team": {
        "actions_minutes": 3000,
        "storage_gb": 2,
        "packages_transfer": 10,
        "lfs_gb": 250,
        "lfs_bandwidth": 250,
    },
    "enterprise": {
        "actions_minutes": 50000,
        "storage_gb": 50,
        "packages_transfer": 100,
        "lfs_gb": 250,
        "lfs_bandwidth": 250,
    },
}
#: Premium requests included per user and month (each user has their own quota).
PREMIUM_PER_SEAT = {"business": 300, "enterprise": 1000}
#: AI credits included per assigned license and month, pooled for the whole org
#: (github/docs data/variables/copilot.yml: ai_credits_per_user_business 1,900 and
#: ai_credits_per_user_enterprise 3,900; "pooled at the billing entity level").
AI_CREDITS_PER_SEAT = {"business": 1900, "enterprise": 3900}


def month_quotas(plan: str, days_in_month: int, copilot_plan: str, seats: int) -> dict[str, int]:
    """Included quantities for one month, in 1e-4 quantity units (x weight)."""
    q = PLAN_QUOTAS.get(plan, PLAN_QUOTAS["free"])
    hours = 24 * days_in_month
    return {
        "actions_minutes": int(q["actions_minutes"] * Q_SCALE),
        "storage": int(q["storage_gb"] * hours * Q_SCALE),
        "packages_transfer": int(q["packages_transfer"] * Q_SCALE),
        "lfs_storage": int(q["lfs_gb"] * hours * Q_SCALE),
        "lfs_bandwidth": int(q["lfs_bandwidth"] * Q_SCALE),
    }


def catalog_json() -> list[dict[str, object]]:
    """The catalogue as served by `GET /_sim/catalog`."""
    return [
        {
            "sku": s.key,
            "name": s.name,
            "product": s.product,
            "unitType": s.unit,
            "prices": [{"from": d.isoformat(), "pricePerUnit": p} for d, p in s.prices],
            "repository_level": s.scope == "repo",
            "included_quota_group": s.quota,
        }
        for s in ALL_SKUS
    ]
