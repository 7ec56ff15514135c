"""Receivers of usage's signals (connected in `AlertsConfig.ready`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from .models import Rule


def evaluate_after_collection(sender: Any, *, organization_id: int, period: date, **_: Any) -> None:
    """``usage.signals.month_collected`` (after the commit): queue the evaluation of the
    organization's rules for that month, if it has rules a collection can fire."""
    from .tasks import evaluate_org

    rules = Rule.objects.filter(organization_id=organization_id, enabled=True)
    if rules.exclude(kind=Rule.Kind.DATA_STOPPED).exists():
        evaluate_org.delay(organization_id, period.isoformat())
