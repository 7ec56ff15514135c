"""The worker side of collection: take the org's lease, collect its due months (newest
first), record each run, decide what happens after an error.

Error policy (GitHub's answers, after the client's own retries):

- rate limit (primary or secondary): the run goes back to the queue with
  ``not_before`` = GitHub's reset and the task is re-sent with that countdown; the
  worker never sleeps. Rate limits are per installation, so the org's other months
  wait too.
- 5xx / network: the run is retried ``COLLECTION_MAX_ATTEMPTS`` times with exponential
  backoff and full jitter, then fails.
- 400, 401 (after one fresh token), 403, 404 and 410 from the usage report or the
  installation token: `usage.collection.refusals` tells apart "not available to this
  org" (400 or 404 on the billing endpoint: the org is marked unavailable and asked
  again a day later), a renamed org (followed, and the month collected again at once),
  a deleted org, an uninstalled or suspended App, a missing permission (GitHub's
  ``x-accepted-github-permissions``, recorded) and a retired endpoint; except for a
  rename, the org's queued runs are skipped and the schedule leaves it alone until a
  webhook, the reconciliation or the daily re-check says otherwise.
- the source ladder (`usage.collection.ladder`, over the rungs of
  `usage.collection.sources`): when GitHub refuses the App's token (401, 403,
  uninstalled, suspended), an owner's sign-in and then a token an owner added are tried
  for the same month, each refusal recorded with GitHub's answer; "not available to this
  organization" (400, or 404 while the installation exists) stops the ladder, since no
  other token changes that. The installation is marked "needs attention" only when no
  other source worked.
- malformed data (bad JSON, an item that is not a usage line, a value the database
  refuses): the run fails with the reason and the month keeps its previous data.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, DataError
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Installation, Organization
from billingdash import github
from usage.collection.ladder import month_collect
from usage.collection.locks import (
    LeaseKeeper,
    LeaseLost,
    lease_acquire,
    lease_release,
    lease_seconds,
    new_holder,
)
from usage.collection.refusals import Refused, installation_needs_attention
from usage.collection.runs import run_finish, run_requeue, runs_skip_queued
from usage.collection.sources import (
    APP,
    REPORTS,
    org_rungs,
    reports_source_of,
    reports_words,
    sources_record,
)
from usage.models import CollectionRun

log = logging.getLogger(__name__)
State = CollectionRun.State


@dataclass
class Step:
    """What one run's attempt tells the loop: re-send the task after `retry_in` seconds,
    or stop collecting this org (`stop`)."""

    retry_in: float | None = None
    stop: bool = False


@dataclass
class DrainResult:
    runs: int = 0
    busy: bool = False
    retry_in: float | None = None


def max_countdown() -> int:
    return int(getattr(settings, "CELERY_MAX_COUNTDOWN_SECONDS", 3600))


def backoff_seconds(attempt: int) -> float:
    """Full-jitter exponential backoff for task-level retries, capped by the longest
    countdown the broker's visibility timeout allows."""
    ceiling = settings.COLLECTION_RETRY_BASE_SECONDS * (2 ** max(0, attempt - 1))
    return random.uniform(ceiling / 2, min(ceiling, max_countdown()))


def _due_runs(organization_id: int):
    now = timezone.now()
    return CollectionRun.objects.filter(
        organization_id=organization_id, state__in=(State.QUEUED, State.RUNNING)
    ).filter(Q(not_before__isnull=True) | Q(not_before__lte=now))


def org_collect_due(*, organization_id: int, holder: str) -> DrainResult:
    """Collect the org's due runs under its lease, newest month first, for at most
    ``COLLECTION_TASK_BUDGET_SECONDS``. A running run found here is one whose worker
    died (we hold the lease now): it is resumed."""
    result = DrainResult()
    deadline = time.monotonic() + settings.COLLECTION_TASK_BUDGET_SECONDS
    while True:
        if not lease_acquire(organization_id=organization_id, holder=holder):
            result.busy = True
            return result
        try:
            with LeaseKeeper(organization_id=organization_id, holder=holder) as keeper:
                while run := _due_runs(organization_id).order_by("-period", "pk").first():
                    if time.monotonic() > deadline:
                        result.retry_in = 0
                        return result
                    step = run_collect(run=run, keeper=keeper)
                    result.runs += 1
                    if step.retry_in is not None:
                        result.retry_in = step.retry_in
                        return result
                    if step.stop:
                        return result
        except LeaseLost:
            log.warning("lost the lease of org %s; its new holder carries on", organization_id)
            return result
        finally:
            lease_release(organization_id=organization_id, holder=holder)
        # A run queued while we released the lease saw it taken and left: look again.
        if not _due_runs(organization_id).exists():
            return result


def _record_budget(installation: Installation | None, stats: github.CallStats) -> None:
    if installation is not None and stats.remaining is not None:
        Installation.objects.filter(pk=installation.pk).update(
            ratelimit_remaining=stats.remaining, ratelimit_reset_at=stats.reset_at
        )


def run_collect(*, run: CollectionRun, keeper: LeaseKeeper) -> Step:
    """One attempt at one run. Records the outcome on the run; never raises for
    GitHub's answers (see the module docstring)."""
    claimed = CollectionRun.objects.filter(
        pk=run.pk, state__in=(State.QUEUED, State.RUNNING)
    ).update(
        state=State.RUNNING,
        started_at=timezone.now(),
        finished_at=None,
        not_before=None,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return Step()
    run.refresh_from_db()
    if run.attempts > 2 * settings.COLLECTION_MAX_ATTEMPTS:
        # Started again and again without ever finishing (its worker keeps dying).
        run_finish(run, State.FAILED, f"abandoned after {run.attempts - 1} interrupted attempts")
        return Step()
    org = Organization.objects.get(pk=run.organization_id)
    if org.collection_paused:
        run_finish(run, State.SKIPPED, "collection of this organization is paused")
        return Step()
    rungs = org_rungs(org)
    if not rungs:
        reason = "no active installation of the App can read this organization's billing"
        reports = reports_source_of(org)
        if reports is not None:
            words = reports_words(reports)
            sources_record(organization=org, source=REPORTS, detail=words, refused=[])
            reason = f"{reason}, nor any token: its figures come {words}"
        run_finish(run, State.SKIPPED, reason)
        runs_skip_queued(organization_id=org.pk, reason=reason)
        return Step(stop=True)
    installation = rungs[0].installation

    with github.track_calls() as stats:
        try:
            result = month_collect(run, org, rungs, keeper, stats)
        except github.RateLimited as exc:
            wait = min(max_countdown(), exc.retry_after + random.uniform(0, 3))
            _record_budget(installation, stats)
            run_requeue(
                run,
                wait,
                f"{exc.kind} rate limit of GitHub; next attempt after {exc.reset_at:%H:%M:%S} UTC",
                attempts=F("attempts") - 1,  # a deferral, not a failed attempt
                error_kind=CollectionRun.ErrorKind.RATE_LIMITED,
                api_calls=F("api_calls") + stats.calls,
                ratelimit_remaining=stats.remaining,
            )
            return Step(retry_in=wait)
        except (github.ServerError, github.NetworkError) as exc:
            calls = {
                "api_calls": F("api_calls") + stats.calls,
                "error_kind": CollectionRun.ErrorKind.GITHUB_UNAVAILABLE,
            }
            if run.attempts < settings.COLLECTION_MAX_ATTEMPTS:
                wait = backoff_seconds(run.attempts)
                run_requeue(run, wait, f"attempt {run.attempts} failed: {exc}", **calls)
                return Step(retry_in=wait)
            run_finish(run, State.FAILED, f"gave up after {run.attempts} attempts: {exc}", **calls)
            return Step()
        except Refused as exc:
            refusal, calls = exc.refusal, {"api_calls": F("api_calls") + stats.calls}
            if refusal.retry_now:
                # Renamed: the run is due again at once, under the org's new login.
                run_requeue(run, 0, refusal.reason, **calls)
                return Step()
            run_finish(
                run, State.SKIPPED if refusal.skip else State.FAILED, refusal.reason, **calls
            )
            if refusal.stop:
                runs_skip_queued(organization_id=org.pk, reason=refusal.reason)
                return Step(stop=True)
            return Step()
        except (github.Unauthorized, github.Forbidden, github.NotFound) as exc:
            # GitHub refused even the App's own calls that find out why (its JWT).
            reason = (
                f"GitHub refused the App ({exc.status}): the App may be suspended, "
                f"uninstalled or lack the Administration permission. {exc.message}"
            )
            if installation is not None:
                installation_needs_attention(installation=installation, reason=reason)
            run_finish(run, State.FAILED, reason, api_calls=F("api_calls") + stats.calls)
            runs_skip_queued(organization_id=org.pk, reason=reason)
            return Step(stop=True)
        except (github.MalformedResponse, DataError) as exc:
            what = str(exc).strip().splitlines()[0][:500] if str(exc).strip() else repr(exc)
            run_finish(
                run,
                State.FAILED,
                f"GitHub sent malformed usage data; the previous data is kept. {what}",
                api_calls=F("api_calls") + stats.calls,
            )
            return Step()
        except SoftTimeLimitExceeded:
            run_finish(run, State.FAILED, "the collection took longer than the task time limit")
            raise
        except LeaseLost:
            raise
        except github.GitHubError as exc:
            run_finish(run, State.FAILED, f"unexpected answer from GitHub: {exc}")
            return Step()
        except DatabaseError:
            raise  # the database is gone: the lease expires, the sweeper re-sends
        except Exception as exc:
            # A bug must not send the run round the sweeper for ever: fail it, say why.
            log.exception("collection of run %s failed", run.pk)
            run_finish(run, State.FAILED, f"internal error: {type(exc).__name__}: {exc}")
            return Step()
        if Organization.objects.filter(pk=org.pk, collection_source=APP).exists():
            _record_budget(installation, stats)  # a user's or owner's token has its own
    log.info("collected %s %s: %d items", org, f"{run.period:%Y-%m}", result.items)
    return Step()


def _countdown(seconds: float) -> float:
    # Never past the broker's visibility timeout (settings.CELERY_MAX_COUNTDOWN_SECONDS).
    return max(0.0, min(float(seconds), float(max_countdown())))


@shared_task(name="usage.tasks.collect_org", bind=True)
def collect_org(self, organization_id: int, recheck: bool = False) -> dict:
    """Collect the org's due months under its lease; re-send itself after a rate limit
    or backoff (with a countdown: the worker never sleeps), or when its time budget
    ran out with months left."""
    holder = new_holder(self.request.id or "")
    result = org_collect_due(organization_id=organization_id, holder=holder)
    if result.busy and not recheck:
        # Another worker holds the lease. Alive, it collects what we were sent for;
        # dead, its lease expires: look once more then (the sweeper would too).
        collect_org.apply_async_on_commit(
            (organization_id, True), countdown=_countdown(lease_seconds() + random.uniform(1, 5))
        )
    elif result.retry_in is not None:
        collect_org.apply_async_on_commit((organization_id,), countdown=_countdown(result.retry_in))
    return {"runs": result.runs, "busy": result.busy, "retry_in": result.retry_in}
