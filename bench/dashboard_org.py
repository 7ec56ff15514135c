"""The dashboard benchmark's organizations: loaded from the simulator with the collection
code itself (kept between runs), the views measured on them, and an owner's client."""

from __future__ import annotations

import math
import time
from datetime import date, timedelta
from typing import Any

from . import common

LOGIN = "bench-dashboard"
SKUS_PER_REPO = 10
MONTHS = 12
BUDGETS = 5
# Our own GitHub id for the org, so it never collides with another benchmark's orgs in
# the shared benchmark database.
GITHUB_ID = 7_990_001


def bench_months() -> list[date]:
    from usage import periods

    return periods.last_months(MONTHS)


def load_org(
    items: int, reload: bool, login: str = LOGIN, github_id: int = GITHUB_ID
) -> tuple[Any, bool]:
    """The benchmark org, collected (again) from the simulator when needed."""
    from django.db.models import Count, Min

    from accounts.models import Organization
    from usage.collection.collect import org_collect_due
    from usage.collection.services import run_enqueue
    from usage.models import CollectionRun, UsageItem

    months = bench_months()
    existing = Organization.objects.filter(login=login).first()
    if existing is not None and not reload:
        stored = UsageItem.objects.filter(organization=existing).aggregate(
            n=Count("id"), first=Min("date")
        )
        if items * 0.99 <= stored["n"] <= items * 1.2 and stored["first"] == months[-1]:
            return existing, False
    days = (date.today() - months[-1]).days + 1
    repos = math.ceil(items / (days * SKUS_PER_REPO))
    with common.simulator() as (config, pem, web, control):
        common.apply_settings(common.github_env(config, pem, web))
        info = control.create_org(
            login,
            id=github_id,
            repos=repos,
            skus_per_repo=SKUS_PER_REPO,
            density=1.0,
            created_months_ago=MONTHS + 2,
            copilot_seats=25,
            budgets=BUDGETS,
        )
        org = common.install_org(info, control.install(login), name="Bench Corp")
        for month in months:
            run_enqueue(organization=org, period=month, trigger="backfill", send=False)
        started = time.perf_counter()
        org_collect_due(organization_id=org.pk, holder="bench-dashboard")
        print(f"(loaded {login}: {MONTHS} months in {time.perf_counter() - started:.0f} s)")
        failed = CollectionRun.objects.filter(organization=org).exclude(state="succeeded")
        assert not failed.exists(), list(failed.values_list("error", flat=True))
    return org, True


def endpoint_urls(org: Any) -> dict[str, str]:
    """The views measured: every dashboard view the issue names, the overview, the API."""
    from usage.models import MonthlyRepositoryUsage
    from usage.periods import month_end

    months = bench_months()
    start, end = months[-1], month_end(months[0])
    base = f"/orgs/{org.login}/"
    api = f"/api/orgs/{org.login}/usage?start={start}&end={end}&group_by="
    top = (
        MonthlyRepositoryUsage.objects.filter(organization=org, month=months[0])
        .exclude(repository="")
        .order_by("-net_amount")
        .values_list("repository", "sku")
        .first()
    )
    partial = (
        f"?range=custom&start={months[1] + timedelta(days=14)}&end={months[0] + timedelta(days=9)}"
    )
    return {
        "dashboard: this month (default)": base,
        "dashboard: last month": base + "?range=last_month",
        "dashboard: last 12 months": base + "?range=12m",
        "dashboard: 12 months, product actions": base + "?range=12m&product=actions",
        "dashboard: 12 months, one SKU": base + f"?range=12m&sku={top[1]}",
        "dashboard: 12 months, one repository": base + f"?range=12m&repository={top[0]}",
        "dashboard: custom, partial months": base + partial,
        "overview /orgs/": "/orgs/",
        **{
            f"API group_by={g} (12 months)": api + g
            for g in ("day", "product", "sku", "repository")
        },
    }


def owner_client(org: Any) -> Any:
    from django.test import Client
    from django.utils import timezone

    from accounts.models import Membership, User

    user, _ = User.objects.get_or_create(username="bench-dashboard-owner")
    Membership.objects.update_or_create(
        user=user,
        organization=org,
        defaults={"role": "owner", "state": "active", "verified_at": timezone.now()},
    )
    client = Client()
    client.force_login(user)
    return client
