"""Operations page benchmark: the server time of ``/staff/ops/`` (Django's full request
path in-process: middleware, session, staff check, queries, template) over a fleet of
500 organizations with 24 months of collection runs each, a day of failures, webhook
deliveries and rate-limit budgets; and the worker ping the page asks for separately
(``/staff/ops/workers.json``). Prints the median and p95, the SQL queries per request and
the page's size next to the data size.

    python -m bench.ops_page [--orgs 500] [--runs 30] [--reload]

The fleet is kept between runs (logins ``bench-ops-*`` in the benchmark database) and
made again only when its size differs, or with ``--reload``.
"""

from __future__ import annotations

import argparse
import gzip
from datetime import date, timedelta
from typing import Any

from . import common

PREFIX = "bench-ops-"
MONTHS = 24
# Our own GitHub and installation ids, apart from the other benchmarks' in the same database.
GITHUB_ID = 7_880_000
INSTALLATION_ID = 78_800_000
DELIVERIES = 20_000


def _months(n: int) -> list[date]:
    today = date.today().replace(day=1)
    out = []
    for i in range(n):
        year, month = divmod(today.year * 12 + today.month - 1 - i, 12)
        out.append(date(year, month + 1, 1))
    return out


def _load(orgs: int, reload: bool) -> bool:
    """The fleet: `orgs` orgs, one installation each (a few suspended or missing a
    permission), 24 succeeded runs each, failures in the last day (some collected since),
    retrying runs, stale orgs, paused orgs, and webhook deliveries (some failed or stuck).
    Returns whether it was (re)made."""
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Installation, Organization, WebhookDelivery
    from usage.models import CollectionRun

    fleet = Organization.objects.filter(login__startswith=PREFIX)
    if not reload and fleet.count() == orgs:
        return False
    now = timezone.now()
    with transaction.atomic():
        WebhookDelivery.objects.filter(delivery_id__startswith=PREFIX).delete()
        Installation.objects.filter(
            installation_id__gte=INSTALLATION_ID, installation_id__lt=INSTALLATION_ID + 100_000
        ).delete()
        fleet.delete()
        made = Organization.objects.bulk_create(
            Organization(
                github_id=GITHUB_ID + n,
                login=f"{PREFIX}{n:04d}",
                name=f"Bench ops {n}",
                billing_platform=Organization.BillingPlatform.UNAVAILABLE
                if n % 50 == 7
                else Organization.BillingPlatform.ENHANCED,
                collection_paused=n % 100 == 3,
                # One in ten is stale (3 hours), the rest collected 20 minutes ago.
                last_collected_at=now - timedelta(hours=3 if n % 10 == 1 else 0, minutes=20),
            )
            for n in range(orgs)
        )
        states = Installation.State
        Installation.objects.bulk_create(
            Installation(
                installation_id=INSTALLATION_ID + n,
                organization=org,
                account_id=org.github_id,
                account_login=org.login,
                permissions={"organization_administration": "read"},
                state=states.SUSPENDED if n % 40 == 5 else states.ACTIVE,
                ratelimit_remaining=5000 - (n * 37) % 5000,
                ratelimit_reset_at=now + timedelta(minutes=n % 60),
            )
            for n, org in enumerate(made)
        )
        Run = CollectionRun
        runs = []
        for n, org in enumerate(made):
            for i, period in enumerate(_months(MONTHS)):
                finished = now - timedelta(hours=1 + i * 24 * 30)
                runs.append(
                    Run(
                        organization=org,
                        period=period,
                        trigger=Run.Trigger.SCHEDULE,
                        state=Run.State.SUCCEEDED,
                        started_at=finished - timedelta(seconds=30),
                        finished_at=finished,
                        items=1000,
                        api_calls=3,
                        attempts=1,
                        ratelimit_remaining=4000 + n,
                    )
                )
            if n % 5 == 2:  # failed today; one in two not collected since
                for k in range(3):
                    runs.append(
                        Run(
                            organization=org,
                            period=_months(1)[0],
                            trigger=Run.Trigger.MANUAL,
                            state=Run.State.FAILED,
                            finished_at=now - timedelta(minutes=30 + k * 70 + (0 if n % 2 else 90)),
                            attempts=5,
                            error="gave up after 5 attempts: GitHub 502 GET /organizations/"
                            f"{org.login}/settings/billing/usage (request id B{n}:{k})",
                        )
                    )
        Run.objects.bulk_create(runs, batch_size=5000)
        # Runs are unique per org and month while queued or running: the retrying ones
        # are for a month the fleet has no other active run for.
        Run.objects.bulk_create(
            Run(
                organization=org,
                period=_months(MONTHS + 1)[-1],
                trigger=Run.Trigger.SCHEDULE,
                state=Run.State.QUEUED,
                attempts=2,
                error="GitHub 503, retrying",
                not_before=now + timedelta(minutes=5),
            )
            for n, org in enumerate(made)
            if n % 25 == 4
        )
        Delivery = WebhookDelivery
        WebhookDelivery.objects.bulk_create(
            (
                Delivery(
                    delivery_id=f"{PREFIX}{d}",
                    event="installation",
                    action="created",
                    installation_id=INSTALLATION_ID + d % orgs,
                    payload={"action": "created"},
                    state=Delivery.State.FAILED
                    if d % 200 == 1
                    else Delivery.State.PENDING
                    if d % 1000 == 3
                    else Delivery.State.PROCESSED,
                    attempts=1,
                    error="boom" if d % 200 == 1 else "",
                )
                for d in range(DELIVERIES)
            ),
            batch_size=5000,
        )
        WebhookDelivery.objects.filter(delivery_id__startswith=PREFIX).update(
            received_at=now - timedelta(hours=1)
        )
    common.vacuum(
        "usage_collectionrun", "accounts_webhookdelivery", "accounts_installation",
        "accounts_organization",
    )  # fmt: skip
    return True


def run(orgs: int = 500, runs: int = 30, reload: bool = False) -> dict[str, Any]:
    common.setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from accounts.models import Installation, Organization, WebhookDelivery
    from usage.models import CollectionRun

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    loaded = _load(orgs, reload)
    from accounts.models import User

    staff, _ = User.objects.get_or_create(
        username="bench-ops-staff", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(staff)
    result: dict[str, Any] = {
        "orgs": Organization.objects.count(),
        "runs_total": CollectionRun.objects.count(),
        "installations": Installation.objects.count(),
        "deliveries": WebhookDelivery.objects.count(),
        "loaded": loaded,
        "runs": runs,
        "vendor": connection.vendor,
        "endpoints": {},
    }
    for name, url in (("/staff/ops/", "/staff/ops/"), ("workers.json", "/staff/ops/workers.json")):
        response = client.get(url)
        if response.status_code == 404:
            continue  # a version of the page without the separate ping
        assert response.status_code == 200, (url, response.status_code)
        queries: list[str] = []

        def count(execute, sql, params, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            body = client.get(url).content
        samples = common.timed(lambda url=url: client.get(url), runs)
        result["endpoints"][name] = {
            "stats": common.stats(samples),
            "queries": len(queries),
            "bytes": len(body),
            "gzip": len(gzip.compress(body)),
        }
    return result


def report(r: dict[str, Any]) -> None:
    print("== operations page (/staff/ops/) ==")
    print(
        f"data: {r['orgs']:,} organizations, {r['installations']:,} installations, "
        f"{r['runs_total']:,} collection runs, {r['deliveries']:,} webhook deliveries, "
        f"database {r['vendor']}{'' if r['loaded'] else ' (fleet kept from an earlier run)'}; "
        f"{r['runs']} requests each after 3 warm-ups"
    )
    head = ("request", "median", "p95", "queries", "HTML", "gzip")
    print("{:16s} {:>9s} {:>9s} {:>7s} {:>9s} {:>8s}".format(*head))
    for name, e in r["endpoints"].items():
        median, p95 = e["stats"]
        print(
            f"{name:16s} {median:7.1f}ms {p95:7.1f}ms {e['queries']:7d} "
            f"{e['bytes'] / 1024:7.1f}KB {e['gzip'] / 1024:6.1f}KB"
        )
    page = r["endpoints"]["/staff/ops/"]["stats"][0]
    print(f"goal: /staff/ops/ median {page:.1f} ms < 200 ms {'met' if page < 200 else 'MISSED'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ops_page")
    parser.add_argument("--orgs", type=int, default=500)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reload", action="store_true")
    args = parser.parse_args(argv)
    report(run(args.orgs, args.runs, args.reload))


if __name__ == "__main__":
    main()
