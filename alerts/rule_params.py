"""The parameters of each kind of rule: read from the API's JSON or the page's form (the
same rules for both), checked, completed with defaults, and said in words.

- ``budget``: GitHub's budgets as read (``"budget": "github"`` for every one, or one
  budget's id) or billingdash's own monthly limit (``"amount"`` with ``"scope"``
  organization|product|sku|repository|user and its ``"target"``), and the
  ``"thresholds"`` in per cent of it (default 50, 75, 90, 100).
- ``projection``: the month-end projection passes such a budget or limit, or exceeds
  last month by ``"over_last_month_percent"``; from day ``"min_days"`` (3) of the month.
- ``anomaly``: a day's spend per ``"dimension"`` (sku, repository; user once collected)
  far above the same weekday of the last ``"weeks"`` (8) weeks: ``"sensitivity"`` (4)
  times the usual spread, and at least ``"min_amount"`` ($25).
- ``new_spend``: a ``"dimension"`` (product or sku) with no spend before starts costing.
- ``data_stopped``: no successful collection for ``"hours"`` (24).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from accounts.models import Organization
from usage.models import Budget, DailyUsage, UsageItem
from usage.vocabulary import product_id, product_label, sku_id, sku_label

from . import words
from .dimensions import dimension_names

DEFAULT_THRESHOLDS = [50, 75, 90, 100]
SCOPES = ("organization", "product", "sku", "repository", "user")
NEW_SPEND_DIMENSIONS = ("product", "sku")
MAX_AMOUNT = Decimal(10) ** 10
KIND_FIELDS = {
    "budget": {"budget", "amount", "scope", "target", "thresholds"},
    "projection": {"budget", "amount", "scope", "target", "over_last_month_percent", "min_days"},
    "anomaly": {"dimension", "min_amount", "sensitivity", "weeks"},
    "new_spend": {"dimension"},
    "data_stopped": {"hours"},
}
COMMON_FIELDS = {"kind", "channels", "name"}


class RuleInvalid(ValueError):
    """The rule cannot be created as asked; `str()` says why (a 400's message)."""


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _decimal(data: dict[str, Any], name: str, default: Decimal | None, low: Decimal) -> Decimal:
    value = data.get(name)
    if _blank(value):
        if default is None:
            raise RuleInvalid(f"{name} is required")
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RuleInvalid(f"{name} must be a number")
    try:
        number = Decimal(str(value).strip().lstrip("$").replace(",", ""))
    except InvalidOperation:
        raise RuleInvalid(f"{name} must be a number, not {value!r}") from None
    if not number.is_finite() or number < low or number > MAX_AMOUNT:
        raise RuleInvalid(f"{name} must be a number from {low} to {MAX_AMOUNT:,}")
    return number


def _integer(data: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    words = f"{name} must be a whole number from {low} to {high}"
    try:
        number = _decimal(data, name, Decimal(default), Decimal(low))
    except RuleInvalid:
        raise RuleInvalid(words) from None
    if number != number.to_integral_value() or number > high:
        raise RuleInvalid(words)
    return int(number)


def _thresholds(value: Any) -> list[int]:
    if _blank(value):
        return list(DEFAULT_THRESHOLDS)
    items = value.replace("%", "").split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not items or len(items) > 10:
        raise RuleInvalid("thresholds must be a list of 1 to 10 percentages, e.g. [50, 90]")
    result = {_integer({"threshold": item}, "threshold", 0, 1, 1000) for item in items}
    return sorted(result)


def _known(organization: Organization, scope: str, target: str) -> str:
    """The name as usage spells it (case-insensitively matched), else as given."""
    if scope == "repository":
        names = UsageItem.objects.filter(organization=organization, repository__iexact=target)
        found = names.values_list("repository", flat=True).first()
    else:
        rows = DailyUsage.objects.filter(organization=organization, **{f"{scope}__iexact": target})
        found = rows.values_list(scope, flat=True).first()
    return found or target


def _scope(organization: Organization, data: dict[str, Any]) -> dict[str, str]:
    """``scope`` (organization by default) and its ``target`` (a product, SKU, repository
    or user name)."""
    scope = data.get("scope") or "organization"
    if scope not in SCOPES:
        raise RuleInvalid(f"scope must be one of {', '.join(SCOPES)}")
    if scope == "user" and "user" not in dimension_names():
        raise RuleInvalid("user data is not collected yet: a user scope cannot be measured")
    target = data.get("target")
    if scope == "organization":
        if not _blank(target):
            raise RuleInvalid("the organization scope takes no target")
        return {"scope": scope, "target": ""}
    if not isinstance(target, str) or _blank(target) or len(target.strip()) > 300:
        raise RuleInvalid(f"target is required for the {scope} scope (its name, a string)")
    target = target.strip()
    # Products and SKUs are stored in GitHub's identifiers (usage.vocabulary): a rule may
    # name them in any spelling GitHub uses ("Actions Linux", "actions_linux").
    if scope == "product":
        target = product_id(target)
    elif scope == "sku":
        target = sku_id(target)
    target = target if scope == "user" else _known(organization, scope, target)
    return {"scope": scope, "target": target}


def _target(organization: Organization, data: dict[str, Any]) -> dict[str, str]:
    """A GitHub budget (``budget``) or an own limit (``amount``, ``scope``, ``target``)."""
    budget, amount = data.get("budget"), data.get("amount")
    if not _blank(budget) and not _blank(amount):
        raise RuleInvalid("give either budget (GitHub's) or amount (your own limit), not both")
    if _blank(budget) and _blank(amount):
        raise RuleInvalid('give budget ("github" or a budget\'s id) or amount (a limit)')
    if _blank(budget):
        limit = _decimal(data, "amount", None, Decimal("0.01"))
        return {"amount": str(limit), **_scope(organization, data)}
    if not isinstance(budget, str):
        raise RuleInvalid('budget must be "github" or the id of one of GitHub\'s budgets')
    budget = budget.strip()
    budgets = Budget.objects.filter(organization=organization)
    if budget != "github" and not budgets.filter(github_id=budget).exists():
        ids = ", ".join(budgets.values_list("github_id", flat=True)[:20]) or "none read yet"
        raise RuleInvalid(f"{organization.login} has no GitHub budget {budget!r} (ids: {ids})")
    if not _blank(data.get("scope")) or not _blank(data.get("target")):
        raise RuleInvalid("scope and target go with amount: a GitHub budget has its own")
    return {"budget": budget}


def _dimension(data: dict[str, Any], allowed: tuple[str, ...] | list[str], default: str) -> str:
    value = data.get("dimension") or default
    if value not in allowed:
        if value == "user":
            raise RuleInvalid("user data is not collected yet: choose sku or repository")
        raise RuleInvalid(f"dimension must be one of {', '.join(allowed)}")
    return value


def parse_params(organization: Organization, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """The rule's stored parameters (defaults filled in). Raises `RuleInvalid`."""
    if kind not in KIND_FIELDS:
        raise RuleInvalid(f"kind must be one of {', '.join(KIND_FIELDS)}")
    unknown = sorted(set(data) - KIND_FIELDS[kind] - COMMON_FIELDS)
    if unknown:
        allowed = ", ".join(sorted(KIND_FIELDS[kind] | COMMON_FIELDS - {"kind"}))
        raise RuleInvalid(
            f"unknown field(s) for a {kind} rule: {', '.join(unknown)}; it takes {allowed}"
        )
    if kind == "budget":
        return {**_target(organization, data), "thresholds": _thresholds(data.get("thresholds"))}
    if kind == "projection":
        min_days = _integer(data, "min_days", 3, 1, 28)
        if _blank(data.get("over_last_month_percent")):
            return {**_target(organization, data), "min_days": min_days}
        if not _blank(data.get("budget")) or not _blank(data.get("amount")):
            raise RuleInvalid(
                "give either a budget or amount, or over_last_month_percent, not both"
            )
        percent = _integer(data, "over_last_month_percent", 0, 1, 1000)
        return {
            **_scope(organization, data),
            "over_last_month_percent": percent,
            "min_days": min_days,
        }
    if kind == "anomaly":
        return {
            "dimension": _dimension(data, dimension_names(), "repository"),
            "min_amount": str(_decimal(data, "min_amount", Decimal(25), Decimal(0))),
            "sensitivity": str(_decimal(data, "sensitivity", Decimal(4), Decimal(1))),
            "weeks": _integer(data, "weeks", 8, 3, 26),
        }
    if kind == "new_spend":
        return {"dimension": _dimension(data, NEW_SPEND_DIMENSIONS, "sku")}
    return {"hours": _integer(data, "hours", 24, 1, 24 * 30)}


def _scope_words(params: dict[str, Any]) -> str:
    scope, target = params.get("scope", "organization"), params.get("target", "")
    if scope == "organization" or not target:
        return "the whole organization"
    label = {"product": product_label, "sku": sku_label}.get(scope, str)(target)
    return f"{scope.upper() if scope == 'sku' else scope} {label}"


def _target_words(params: dict[str, Any]) -> str:
    if params.get("budget") == "github":
        return "each of GitHub's budgets"
    if "budget" in params:
        return f"GitHub's budget {params['budget']}"
    return f"a {words.amount(Decimal(params['amount']))} monthly limit on {_scope_words(params)}"


def describe(kind: str, params: dict[str, Any]) -> str:
    """The rule in one sentence."""
    if kind == "budget":
        levels = ", ".join(f"{t}%" for t in params["thresholds"])
        return f"Spend this month against {_target_words(params)}: alert at {levels}."
    if kind == "projection":
        start = f"from day {params['min_days']} of the month"
        if "over_last_month_percent" in params:
            return (
                f"The month-end projection of {_scope_words(params)} exceeds last month by more "
                f"than {params['over_last_month_percent']}% ({start})."
            )
        return f"The month-end projection passes {_target_words(params)} ({start})."
    if kind == "anomaly":
        what = {"sku": "a SKU", "repository": "a SKU in a repository", "user": "a user"}.get(
            params["dimension"], params["dimension"]
        )
        return (
            f"A day's spend of {what} far above the same weekday of the last {params['weeks']} "
            f"weeks ({params['sensitivity']} × the usual spread, and at least "
            f"{words.amount(Decimal(params['min_amount']))})."
        )
    if kind == "new_spend":
        what = "SKU" if params["dimension"] == "sku" else "product"
        return f"A {what} with no spend before starts costing money."
    return f"No successful collection for {params['hours']} hours."
