"""GitHub's Copilot billing constants: the switch from premium requests to AI credits,
prices and the included monthly quotas (GitHub's docs; ghsim/spec/billing-reports.md §7).

- Before 1 June 2026: premium requests at $0.04, an included quota per user and month
  (300 with Copilot Business, 1,000 with Copilot Enterprise).
- From 1 June 2026: AI credits at $0.01. The included credits (1,900 per Business seat,
  3,900 per Enterprise seat) are pooled for the organization; a user's "share of the
  included quota" here is their use against one seat's allowance.
"""

from __future__ import annotations

from datetime import date

AI_CREDITS_START = date(2026, 6, 1)
PREMIUM = "premium_request"
AI_CREDIT = "ai_credit"
#: SKUs of the Copilot usage lines (usage.vocabulary identifiers) that these endpoints cover.
METERED_SKUS = (
    "copilot_premium_request",
    "coding_agent_premium_request",
    "spark_premium_request",
    "copilot_ai_credit",
    "coding_agent_ai_credit",
    "spark_ai_credit",
)
PREMIUM_PER_SEAT = {"business": 300, "enterprise": 1000}
AI_CREDITS_PER_SEAT = {"business": 1900, "enterprise": 3900}
DEFAULT_PLAN = "business"


def endpoint_for(period: date) -> str:
    """`premium_request` for months before June 2026, `ai_credit` from then on."""
    return AI_CREDIT if period >= AI_CREDITS_START else PREMIUM


def unit_for(period: date) -> str:
    return "ai-credits" if period >= AI_CREDITS_START else "requests"


def user_quota(period: date, plan: str | None) -> int:
    """A user's included quota in the month's unit."""
    table = AI_CREDITS_PER_SEAT if period >= AI_CREDITS_START else PREMIUM_PER_SEAT
    return table.get((plan or DEFAULT_PLAN).lower(), table[DEFAULT_PLAN])
