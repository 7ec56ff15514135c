"""Shapes of the GitHub objects callers use (TypedDicts over the parsed JSON).

Only the fields this project reads are listed; every other field GitHub sends is kept
in the dict as is. Numbers that are not integers are `Decimal` (never float).
Schemas: https://github.com/github/rest-api-description
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, NotRequired, TypedDict

__all__ = [
    "Account",
    "App",
    "Budget",
    "Installation",
    "OrgMembership",
    "Organization",
    "OrganizationFull",
    "UsageItem",
    "UsageSummary",
    "UsageSummaryItem",
    "User",
    "parse_timestamp",
]

Number = int | Decimal


class Account(TypedDict, total=False):
    """simple-user / organization-simple: the owner of an installation, a member."""

    id: int
    login: str
    node_id: str
    type: str  # "User" | "Organization"
    avatar_url: str
    html_url: str
    name: str | None
    email: str | None


class User(TypedDict, total=False):
    """``GET /user`` (private-user / public-user)."""

    id: int
    login: str
    node_id: str
    type: str
    name: str | None
    email: str | None
    avatar_url: str
    html_url: str


class Organization(TypedDict, total=False):
    """organization-simple (``/user/orgs``, memberships)."""

    id: int
    login: str
    node_id: str
    avatar_url: str
    description: str | None
    url: str


class OrganizationFull(Organization, total=False):
    """``GET /orgs/{org}``; `plan` needs the owner's view or ``organization_plan``."""

    name: str | None
    html_url: str
    type: str
    plan: dict[str, Any]
    billing_email: str | None


class OrgMembership(TypedDict, total=False):
    """org-membership: `role` is ``admin`` (owner), ``member`` or ``billing_manager``."""

    state: Literal["active", "pending"]
    role: Literal["admin", "member", "billing_manager"]
    url: str
    organization_url: str
    organization: Organization
    user: Account | None


class Installation(TypedDict, total=False):
    """installation: one App installation on an account."""

    id: int
    app_id: int
    app_slug: str
    client_id: str
    account: Account | None
    target_id: int
    target_type: str
    repository_selection: Literal["all", "selected"]
    permissions: dict[str, str]
    events: list[str]
    html_url: str
    created_at: str
    updated_at: str
    suspended_at: str | None
    suspended_by: Account | None


class App(TypedDict, total=False):
    """integration: ``GET /app``."""

    id: int
    slug: str
    client_id: str
    name: str
    owner: Account | None
    html_url: str
    permissions: dict[str, str]
    events: list[str]
    installations_count: int


class UsageItem(TypedDict):
    """One line of the billing usage report (GitHub's camelCase keys, as sent).

    `quantity` is documented as an integer but may carry decimals (``Decimal`` then).
    """

    date: str
    product: str
    sku: str
    quantity: Number
    unitType: str
    pricePerUnit: Number
    grossAmount: Number
    discountAmount: Number
    netAmount: Number
    organizationName: str
    repositoryName: NotRequired[str]


class UsageSummaryItem(TypedDict, total=False):
    product: str
    sku: str
    unitType: str
    pricePerUnit: Number
    grossQuantity: Number
    grossAmount: Number
    discountQuantity: Number
    discountAmount: Number
    netQuantity: Number
    netAmount: Number


class UsageSummary(TypedDict, total=False):
    """``GET /organizations/{org}/settings/billing/usage/summary``."""

    timePeriod: dict[str, int]
    organization: str
    repository: str
    product: str
    sku: str
    usageItems: list[UsageSummaryItem]


class Budget(TypedDict, total=False):
    """One budget. GitHub's own examples send ``budget_product_skus`` (a list) where
    the schema says ``budget_product_sku``: read both."""

    id: str
    budget_type: str
    budget_amount: Number
    prevent_further_usage: bool
    budget_scope: str
    budget_entity_name: str
    budget_product_sku: str
    budget_product_skus: list[str]
    budget_alerting: dict[str, Any]
    consumed_amount: Number


def parse_timestamp(value: object) -> datetime | None:
    """A time in GitHub's JSON: ISO 8601 (``2026-12-06T13:05:00Z``, with an offset, or
    without one, which GitHub means as UTC); older installation payloads sent epoch
    seconds. None for a missing value or anything that is not a real time."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
