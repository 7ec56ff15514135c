"""One spelling per product, SKU and unit type, whichever way GitHub wrote it.

GitHub spells the same thing several ways (ghsim/spec/billing-reports.md §5, §9):

- the usage report's REST examples print ``"product": "Actions"``, ``"sku": "Actions
  Linux"``, ``"unitType": "minutes"``; real answers print ``"actions"``, ``"Actions
  storage"``, ``"Minutes"``, ``"GigabyteHours"``, ``"UserMonths"``;
- the usage summary, the budgets and the CSV reports print identifiers: products
  ``actions``, ``git_lfs``; SKUs ``actions_linux``, ``copilot_for_business``; units in
  hyphenated lower case, ``gigabyte-hours``, ``user-months``, ``ai-credits``;
- a few names differ beyond case and spacing: "Copilot Business" is
  ``copilot_for_business``, GitHub's SKU list says ``copilot_ai_credits`` where the
  reports say ``copilot_ai_credit``, the AI-credit endpoint's unit is ``credits``.

billingdash stores, filters, exports and serves GitHub's **identifiers** (the CSV and
summary spelling): `product_id`, `sku_id` and `unit_id` map any spelling to one. An
unknown value is never dropped: it passes through normalised (case folded, spaces and
punctuation to ``_`` for products and SKUs, CamelCase and spaces to ``-`` for units), so
a new SKU GitHub adds tomorrow is stored as ``new_sku`` whatever its casing. People see
`product_label`, `sku_label` and `unit_label` ("Actions Linux", "Git LFS", "GB-hours").

A base module: standard library only, imported by collection (at ingest), reporting
(filters) and the data migration that normalised the rows stored before it.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = [
    "PRODUCTS",
    "SKUS",
    "UNITS",
    "product_id",
    "product_label",
    "sku_id",
    "sku_label",
    "unit_id",
    "unit_label",
]

#: Product identifiers (docs: billing/reference/product-and-sku-names) and their names.
PRODUCTS: dict[str, str] = {
    "actions": "Actions",
    "codespaces": "Codespaces",
    "copilot": "Copilot",
    "ghas": "Advanced Security",
    "ghec": "Enterprise Cloud",
    "git_lfs": "Git LFS",
    "models": "Models",
    "packages": "Packages",
    "sandbox": "Sandbox",
    "spark": "Spark",
}

#: SKU identifiers GitHub documents or its reports show, and their names for people.
SKUS: dict[str, str] = {
    "actions_cache_storage": "Actions cache storage",
    "actions_custom_image_storage": "Actions custom image storage",
    "actions_linux": "Actions Linux",
    "actions_linux_2_core_advanced": "Actions Linux 2-core advanced",
    "actions_linux_2_core_arm": "Actions Linux 2-core ARM",
    "actions_linux_4_core": "Actions Linux 4-core",
    "actions_linux_4_core_arm": "Actions Linux 4-core ARM",
    "actions_linux_4_core_gpu": "Actions Linux 4-core GPU",
    "actions_linux_8_core": "Actions Linux 8-core",
    "actions_linux_8_core_arm": "Actions Linux 8-core ARM",
    "actions_linux_16_core": "Actions Linux 16-core",
    "actions_linux_32_core": "Actions Linux 32-core",
    "actions_linux_32_core_arm": "Actions Linux 32-core ARM",
    "actions_linux_64_core": "Actions Linux 64-core",
    "actions_linux_64_core_arm": "Actions Linux 64-core ARM",
    "actions_linux_96_core": "Actions Linux 96-core",
    "actions_linux_arm": "Actions Linux ARM",
    "actions_linux_slim": "Actions Linux slim",
    "actions_macos": "Actions macOS",
    "actions_macos_l": "Actions macOS large",
    "actions_macos_xl": "Actions macOS XL",
    "actions_self_hosted_linux": "Actions self-hosted Linux",
    "actions_storage": "Actions storage",
    "actions_windows": "Actions Windows",
    "actions_windows_2_core": "Actions Windows 2-core",
    "actions_windows_2_core_advanced": "Actions Windows 2-core advanced",
    "actions_windows_2_core_arm": "Actions Windows 2-core ARM",
    "actions_windows_4_core": "Actions Windows 4-core",
    "actions_windows_4_core_arm": "Actions Windows 4-core ARM",
    "actions_windows_4_core_gpu": "Actions Windows 4-core GPU",
    "actions_windows_8_core": "Actions Windows 8-core",
    "actions_windows_8_core_arm": "Actions Windows 8-core ARM",
    "actions_windows_16_core": "Actions Windows 16-core",
    "actions_windows_32_core": "Actions Windows 32-core",
    "actions_windows_32_core_arm": "Actions Windows 32-core ARM",
    "actions_windows_64_core": "Actions Windows 64-core",
    "actions_windows_64_core_arm": "Actions Windows 64-core ARM",
    "actions_windows_arm": "Actions Windows ARM",
    "codespaces_compute_d2": "Codespaces compute (2-core)",
    "codespaces_compute_d4": "Codespaces compute (4-core)",
    "codespaces_compute_d8": "Codespaces compute (8-core)",
    "codespaces_compute_d16": "Codespaces compute (16-core)",
    "codespaces_compute_d32": "Codespaces compute (32-core)",
    "codespaces_prebuild_storage": "Codespaces prebuild storage",
    "codespaces_storage": "Codespaces storage",
    "coding_agent_ai_credit": "Coding agent AI credits",
    "coding_agent_premium_request": "Coding agent premium requests",
    "copilot_ai_credit": "Copilot AI credits",
    "copilot_enterprise": "Copilot Enterprise",
    "copilot_for_business": "Copilot Business",
    "copilot_premium_request": "Copilot premium requests",
    "copilot_standalone": "Copilot standalone",
    "ghas_code_security_licenses": "GHAS code security licenses",
    "ghas_licenses": "GHAS licenses",
    "ghas_secret_protection_licenses": "GHAS secret protection licenses",
    "ghec_licenses": "Enterprise Cloud licenses",
    "git_lfs_bandwidth": "Git LFS bandwidth",
    "git_lfs_storage": "Git LFS storage",
    "models_inference": "Models inference",
    "packages_bandwidth": "Packages data transfer",
    "packages_storage": "Packages storage",
    "sandbox_linux": "Sandbox Linux",
    "sandbox_memory": "Sandbox memory",
    "sandbox_snapshot": "Sandbox snapshot",
    "spark_ai_credit": "Spark AI credits",
    "spark_premium_request": "Spark premium requests",
}

#: Unit types (the report files' spelling) and their names for people.
UNITS: dict[str, str] = {
    "ai-credits": "AI credits",
    "gigabyte-hours": "GB-hours",
    "gigabytes": "GB",
    "hours": "hours",
    "minutes": "minutes",
    "requests": "requests",
    "user-months": "user-months",
}

# Spellings (after the generic normalisation) that are not the identifier itself.
_PRODUCT_ALIASES = {
    "advanced_security": "ghas",
    "github_advanced_security": "ghas",
    "github_actions": "actions",
    "github_codespaces": "codespaces",
    "github_copilot": "copilot",
    "github_enterprise_cloud": "ghec",
    "enterprise_cloud": "ghec",
    "github_packages": "packages",
    "lfs": "git_lfs",
    "gitlfs": "git_lfs",
}
_SKU_ALIASES = {
    # The usage report's display names where they are not the identifier respelled.
    "actions_linux_runners": "actions_linux",
    "actions_macos_runners": "actions_macos",
    "actions_macos_3_core": "actions_macos",
    "actions_macos_large": "actions_macos_l",
    "actions_macos_12_core": "actions_macos_l",
    "actions_windows_runners": "actions_windows",
    "copilot_business": "copilot_for_business",
    "packages_data_transfer": "packages_bandwidth",
    "git_lfs_data_transfer": "git_lfs_bandwidth",
    "enterprise_cloud_licenses": "ghec_licenses",
}
# GitHub's SKU list (budgets) says `copilot_ai_credits`, its reports `copilot_ai_credit`;
# the same for premium requests: the singular is the identifier.
_SKU_SUFFIXES = (("_ai_credits", "_ai_credit"), ("_premium_requests", "_premium_request"))
_UNIT_ALIASES = {
    # The AI-credit endpoint's example says "credits"; the reports say "ai-credits".
    "credits": "ai-credits",
    "gb-hours": "gigabyte-hours",
    "gb": "gigabytes",
    "user-month": "user-months",
}
# "Codespaces compute 2-core" / "(2-core)" -> codespaces_compute_d2.
_CODESPACES_COMPUTE = re.compile(r"^codespaces_compute_(\d+)_core$")
_NOT_WORD = re.compile(r"[\W_]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def _words(value: str, joiner: str) -> str:
    """Case folded, runs of spaces and punctuation as one `joiner`, none at the ends
    (letters of any script are kept). A name of punctuation only is kept as it is (case
    folded): a name is never dropped."""
    text = value.strip().casefold()
    return _NOT_WORD.sub(joiner, text).strip(joiner) or text


@lru_cache(maxsize=4096)
def product_id(value: str) -> str:
    """GitHub's product identifier for any spelling ("Actions", "Git LFS" -> git_lfs)."""
    key = _words(value, "_")
    return _PRODUCT_ALIASES.get(key, key)


@lru_cache(maxsize=4096)
def sku_id(value: str) -> str:
    """GitHub's SKU identifier for any spelling ("Actions Linux" -> actions_linux,
    "Copilot Business" -> copilot_for_business)."""
    key = _words(value, "_")
    key = _SKU_ALIASES.get(key, key)
    for plural, singular in _SKU_SUFFIXES:
        if key.endswith(plural):
            key = key[: -len(plural)] + singular
    found = _CODESPACES_COMPUTE.match(key)
    return f"codespaces_compute_d{found.group(1)}" if found else key


@lru_cache(maxsize=4096)
def unit_id(value: str) -> str:
    """The unit type in hyphenated lower case ("GigabyteHours" -> gigabyte-hours,
    "UserMonths" -> user-months, "credits" -> ai-credits)."""
    key = _words(_CAMEL.sub("-", value.strip()), "-")
    return _UNIT_ALIASES.get(key, key)


def _readable(identifier: str) -> str:
    text = identifier.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def product_label(value: str) -> str:
    """The product's name for people ("Git LFS"); an unknown one, readably."""
    identifier = product_id(value)
    return PRODUCTS.get(identifier) or _readable(identifier)


def sku_label(value: str) -> str:
    """The SKU's name for people ("Actions Linux"); an unknown one, readably."""
    identifier = sku_id(value)
    return SKUS.get(identifier) or _readable(identifier)


def unit_label(value: str) -> str:
    """The unit's name for people ("GB-hours", "minutes"); an unknown one as it is."""
    identifier = unit_id(value)
    return UNITS.get(identifier) or identifier
