"""One month collected through the source ladder: the rungs of `usage.collection.sources`
are tried in turn until GitHub accepts a token (the error policy is in
`usage.collection.collect`). The run, the org's source and the endpoint's availability are
recorded in the month's own transaction; when every rung is refused, `Refused` says why and
the worker (`usage.collection.collect.run_collect`) records it on the run.
"""

from __future__ import annotations

import logging
from datetime import date

from django.db.models import F
from django.utils import timezone

from accounts.models import Installation, Organization
from billingdash import github
from usage import periods, signals
from usage.collection.availability import availability_record
from usage.collection.extras import extras_collect
from usage.collection.ingest import IngestResult, month_replace
from usage.collection.locks import LeaseKeeper, lease_confirm
from usage.collection.refusals import (
    Refusal,
    Refused,
    installation_needs_attention,
    usage_refusal,
)
from usage.collection.runs import run_finish
from usage.collection.sources import (
    APP,
    REPORTS,
    Rung,
    RungUnusable,
    prior_refusals,
    recently_refused,
    refusal_entry,
    reports_source_of,
    reports_words,
    sources_record,
    token_refusal,
)
from usage.models import CollectionRun, EndpointAvailability

log = logging.getLogger(__name__)
State = CollectionRun.State


def _extras_after(org: Organization, token: str, period: date) -> None:
    """The summary and budgets after the month was saved: a rate limit now only waits for
    the next run (the month is already committed)."""
    try:
        extras_collect(organization=org, token=token, period=period)
    except github.GitHubError as exc:
        log.info("summary and budgets of %s left for the next run: %r", org, exc)


def _collect_from(
    run: CollectionRun,
    org: Organization,
    rung: Rung,
    keeper: LeaseKeeper,
    before_commit,
    more: bool,
) -> IngestResult:
    period: date = run.period

    def refused(error: github.GitHubError) -> Refused:
        if rung.source == APP and rung.installation is not None:
            refusal = usage_refusal(
                organization=org,
                installation=rung.installation,
                period=period,
                error=error,
                attention=not more,
            )
        else:
            refusal = token_refusal(org, rung, period, error)
        return Refused(refusal, error)

    token = ""
    for attempt in (1, 2):
        try:
            if not token:
                # Inside the try: the App's token itself may be refused (uninstalled...).
                token = rung.token()
            current = period == periods.current_month()
            if current and not more:
                # Small and optional, read first: a rate limit here defers the run before
                # the big download; their own failures never fail the run (see extras).
                extras_collect(organization=org, token=token, period=period)
            result = month_replace(
                organization_id=org.pk,
                period=period,
                items=github.iter_billing_usage(
                    token, org.login, year=period.year, month=period.month
                ),
                check=keeper.check,
                before_commit=before_commit,
            )
            if current and more:
                # Another source may follow: the extras are read only with a token GitHub
                # accepted (a refused one would mark them unavailable for a day).
                _extras_after(org, token, period)
            return result
        except github.Unauthorized as exc:
            # The token may have been revoked: try once with a fresh one (App, sign-in).
            if attempt == 2 or rung.renew is None:
                raise refused(exc) from exc
            try:
                token = rung.renew(token)
            except RungUnusable as lost:
                raise Refused(Refusal(str(lost), token_refused=True), exc) from exc
        except (github.BadRequest, github.Forbidden, github.NotFound, github.Gone) as exc:
            raise refused(exc) from exc
        except RungUnusable as exc:
            raise Refused(Refusal(str(exc), token_refused=True)) from None
    raise AssertionError("unreachable")  # pragma: no cover


def month_collect(
    run: CollectionRun,
    org: Organization,
    rungs: list[Rung],
    keeper: LeaseKeeper,
    stats: github.CallStats,
) -> IngestResult:
    """Collect the month from the first source GitHub accepts (the ladder)."""
    period: date = run.period
    refused: list[dict] = []
    current: list[Rung] = []

    def before_commit(result: IngestResult) -> None:
        # Fence: still our lease? Then the run and the org are recorded with the data.
        keeper.check()
        lease_confirm(organization_id=org.pk, holder=keeper.holder)
        now = timezone.now()
        run_finish(
            run,
            State.SUCCEEDED,
            finished_at=now,
            items=result.items,
            api_calls=F("api_calls") + stats.calls,
            ratelimit_remaining=stats.remaining,
        )
        Organization.objects.filter(pk=org.pk).update(
            last_collected_at=now, billing_platform=Organization.BillingPlatform.ENHANCED
        )
        rung = current[-1]
        sources_record(
            organization=org, source=rung.source, detail=rung.detail, refused=refused, rung=rung
        )
        availability_record(organization=org, endpoint=EndpointAvailability.Endpoint.USAGE)
        signals.month_collected_on_commit(organization_id=org.pk, period=period, run_id=run.pk)

    attention: tuple[Installation, str] | None = None
    prior = prior_refusals(org)
    for index, rung in enumerate(rungs):
        seen = recently_refused(rung, prior)
        if seen is not None:
            refused.append(seen)  # GitHub said so minutes ago: not asked again
            continue
        current.append(rung)
        try:
            return _collect_from(run, org, rung, keeper, before_commit, index + 1 < len(rungs))
        except Refused as exc:
            if not exc.refusal.token_refused:
                raise  # about the org (not available, renamed, deleted): no token helps
            refused.append(refusal_entry(org, rung, error=exc.error, reason=exc.refusal.reason))
            if exc.refusal.attention and rung.installation is not None:
                attention = (rung.installation, exc.refusal.attention)
    if attention is not None:
        installation_needs_attention(installation=attention[0], reason=attention[1])
    said = "; ".join((e.get("reason") or e.get("message") or "").rstrip(".") for e in refused)
    reports = reports_source_of(org)
    if reports is not None:
        words = reports_words(reports)
        sources_record(organization=org, source=REPORTS, detail=words, refused=refused)
        raise Refused(
            Refusal(
                f"GitHub refused every token billingdash has for {org.login} ({said}); its "
                f"figures come {words}.",
                skip=True,
            )
        )
    sources_record(organization=org, source="", detail="", refused=refused)
    last = refused[-1].get("unlock", "") if refused else ""
    raise Refused(Refusal(said if len(refused) == 1 and not last else f"{said}. {last}".strip()))
