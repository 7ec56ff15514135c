"""Copilot page benchmark: one org with 5,000 Copilot users and 12 months of data (this
month and the 11 before: the org's months per model, every user's month per model from
the per-user calls, the seat list, the usage report's daily Copilot lines), written
straight to the tables (the collection is tested against the simulator elsewhere;
collecting 60,000 user-months through it would take hours). Then the server time of the
Copilot page and its API (median and p95, Django's full request path in-process).
The goal: the page's median under 100 ms.

    python -m bench.copilot [--users 5000] [--runs 30] [--reload]
"""

from __future__ import annotations

import argparse
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from . import common
from .common import stats, timed

LOGIN = "bench-copilot"
GITHUB_ID = 7_990_016
MONTHS = 12
MODELS = (
    "Claude Sonnet 4.5",
    "GPT-5.2",
    "Auto: Claude Haiku 4.5",
    "Auto: GPT-5.2",
    "Claude Opus 4.5",
    "Gemini 3 Pro",
    "Code Review model",
    "Coding Agent model",
)
GOAL_MS = 100.0


def _load(users: int, reload: bool) -> tuple[Any, bool]:
    from django.db import transaction

    from accounts.models import Organization
    from copilot.collection.totals import user_totals_write
    from copilot.models import (
        CopilotModelMonth,
        CopilotMonth,
        CopilotOrgState,
        CopilotSeat,
        CopilotUserMonth,
        CopilotUserTotal,
    )
    from copilot.quotas import endpoint_for, unit_for
    from usage import periods
    from usage.models import DailyUsage

    months = periods.last_months(MONTHS)
    org = Organization.objects.filter(login=LOGIN).first()
    if org is not None and not reload:
        have = CopilotSeat.objects.filter(organization=org).count()
        first = CopilotMonth.objects.filter(organization=org).order_by("period").first()
        totals = CopilotUserTotal.objects.filter(organization=org).exists()
        if have == users and totals and first is not None and first.period == months[-1]:
            return org, False
    rng = random.Random(16)
    with transaction.atomic():
        Organization.objects.filter(login=LOGIN).delete()
        org = Organization.objects.create(github_id=GITHUB_ID, login=LOGIN, name="Bench Copilot")
        CopilotOrgState.objects.create(organization=org, seats="ok")
        now = datetime.now(UTC)
        CopilotSeat.objects.bulk_create(
            CopilotSeat(
                organization=org,
                login=f"user-{i:05d}",
                plan_type="business",
                last_activity_at=None if i % 7 == 0 else now - timedelta(days=rng.randint(0, 60)),
            )
            for i in range(users)
        )
        for month in months:
            unit, price = unit_for(month), Decimal("0.01")
            if unit == "requests":
                price = Decimal("0.04")
            sku = "copilot_ai_credit" if unit == "ai-credits" else "copilot_premium_request"
            CopilotMonth.objects.create(
                organization=org,
                period=month,
                endpoint=endpoint_for(month),
                state="succeeded",
                collected_at=now,
            )
            per_model: dict[str, list[Decimal]] = {}
            rows = []
            for i in range(users):
                for model in rng.sample(MODELS, 4):
                    q = Decimal(rng.randint(1, 900))
                    gross = q * price
                    disc = gross if rng.random() < 0.7 else Decimal(0)
                    acc = per_model.setdefault(model, [Decimal(0)] * 4)
                    for k, v in enumerate((q, gross, disc, gross - disc)):
                        acc[k] += v
                    rows.append(
                        CopilotUserMonth(
                            organization=org,
                            period=month,
                            login=f"user-{i:05d}",
                            sku=sku,
                            unit_type=unit,
                            model=model,
                            quantity=q,
                            gross_amount=gross,
                            discount_amount=disc,
                            net_amount=gross - disc,
                        )
                    )
            CopilotUserMonth.objects.bulk_create(rows, batch_size=5000)
            user_totals_write(organization=org, period=month)  # what the collection does
            CopilotModelMonth.objects.bulk_create(
                CopilotModelMonth(
                    organization=org,
                    period=month,
                    sku=sku,
                    unit_type=unit,
                    model=m,
                    quantity=a[0],
                    gross_amount=a[1],
                    discount_amount=a[2],
                    net_amount=a[3],
                )
                for m, a in per_model.items()
            )
            last = periods.add_months(month, 1) - timedelta(days=1)
            day, total = month, [sum(a[k] for a in per_model.values()) for k in range(4)]
            days = []
            while day <= last:
                share = Decimal(1) / Decimal(last.day)
                days.append(
                    DailyUsage(
                        organization=org,
                        date=day,
                        product="copilot",
                        sku=sku,
                        unit_type=unit,
                        quantity=total[0] * share,
                        gross_amount=total[1] * share,
                        discount_amount=total[2] * share,
                        net_amount=total[3] * share,
                        items=len(per_model),
                    )
                )
                day += timedelta(days=1)
            DailyUsage.objects.bulk_create(days)
    return org, True


def run(users: int = 5000, runs: int = 30, reload: bool = False) -> dict[str, Any]:
    common.setup_django()
    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    from accounts.models import Membership, User
    from copilot.models import CopilotSeat, CopilotUserMonth

    org, loaded = _load(users, reload)
    common.vacuum(
        "copilot_copilotusermonth",
        "copilot_copilotusertotal",
        "copilot_copilotseat",
        "usage_dailyusage",
    )
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.MEMBERSHIP_TTL_SECONDS = 24 * 3600
    user, _ = User.objects.get_or_create(username="bench-copilot-owner")
    Membership.objects.update_or_create(
        user=user,
        organization=org,
        defaults={"role": "owner", "state": "active", "verified_at": timezone.now()},
    )
    client = Client()
    client.force_login(user)
    base = f"/orgs/{LOGIN}/copilot/"
    api = f"/api/orgs/{LOGIN}/copilot?range=12m&group_by="
    endpoints = {
        "Copilot page (this month, default)": base,
        "Copilot page (last 12 months)": base + "?range=12m",
        **{f"API group_by={g} (12 months)": api + g for g in ("day", "model", "user")},
    }
    results: dict[str, Any] = {"endpoints": {}}
    for name, url in endpoints.items():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        results["endpoints"][name] = {
            "stats": stats(timed(lambda url=url: client.get(url), runs)),
            "bytes": len(response.content),
        }
    results.update(
        users=CopilotSeat.objects.filter(organization=org).count(),
        user_months=CopilotUserMonth.objects.filter(organization=org).count(),
        loaded=loaded,
        runs=runs,
    )
    return results


def report(r: dict[str, Any]) -> None:
    print("Copilot page benchmark")
    print(
        f"  data: {r['users']:,} Copilot users (seats), {MONTHS} months, "
        f"{r['user_months']:,} user-month-model rows"
        f"{' (loaded now)' if r['loaded'] else ' (kept from an earlier run)'}; {r['runs']} runs"
    )
    for name, e in r["endpoints"].items():
        median, p95 = e["stats"]
        print(f"  {name:<40} median {median:7.1f} ms  p95 {p95:7.1f} ms  {e['bytes']:>9,} B")
    page = r["endpoints"]["Copilot page (this month, default)"]["stats"][0]
    verdict = "met" if page < GOAL_MS else "NOT met"
    print(f"  goal: page median < {GOAL_MS:.0f} ms: {verdict} ({page:.1f} ms)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reload", action="store_true")
    args = parser.parse_args(argv)
    report(run(args.users, args.runs, args.reload))


if __name__ == "__main__":
    main()
