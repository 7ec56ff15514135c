"""What `usage.reporting.status` decides an org's state from, read for many orgs at once
in a fixed number of queries (the `/orgs/` list reads every org's in one go; one org's
page reads a list of one)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from accounts.installations.install_status import InstallationStatus, installation_statuses
from accounts.models import OrgAccessToken, Organization
from usage.collection.selectors import (
    newest_per_org,
    orgs_backfill_runs,
    orgs_last_collection,
    orgs_usage_availability,
    progress_from,
)
from usage.collection.sources import OWNER_TOKEN, USER_TOKEN, reports_sources_of
from usage.models import CollectionRun, EndpointAvailability, OrgCollectionState
from usage.reporting.reports import orgs_with_data


@dataclass
class StatusFacts:
    """One org's reads: its collection state, queued and running runs (oldest first),
    newest finished run, progress, installation, whether it has usage, an owner's token,
    and, only where the state may need them, its uploaded reports (for an org neither
    the App nor a token reads) and GitHub's refusal (for an org not on enhanced billing)."""

    organization: Organization
    collection: OrgCollectionState | None
    active: list[CollectionRun]
    newest: CollectionRun | None
    progress: dict[str, Any]
    installation: InstallationStatus
    has_data: bool
    org_token: OrgAccessToken | None
    reports: dict[str, Any] | None = None
    refusal: EndpointAvailability | None = None

    @property
    def token_source(self) -> bool:
        """A token reads the billing even without a readable installation: an owner's
        sign-in that worked, or a token an owner added (`usage.collection.sources`)."""
        signed_in = self.organization.collection_source in (USER_TOKEN, OWNER_TOKEN)
        return self.org_token is not None or signed_in

    @property
    def unreadable(self) -> bool:
        """Neither the App nor a token reads the org (uploaded reports may stand in)."""
        return not self.installation.readable and not self.token_source


def status_facts(
    *, organizations: Sequence[Organization], has_data: Mapping[int, bool] | None = None
) -> dict[int, StatusFacts]:
    """Each org's `StatusFacts`, by pk; `has_data`: what the caller knows of some orgs
    (by pk), the others' is read."""
    ids = [org.pk for org in organizations]
    known = dict(has_data or {})
    states = {s.organization_id: s for s in OrgCollectionState.objects.filter(organization__in=ids)}
    active: dict[int, list[CollectionRun]] = defaultdict(list)
    queued = CollectionRun.objects.filter(
        organization__in=ids, state__in=CollectionRun.ACTIVE_STATES
    ).order_by("queued_at", "pk")
    for run in queued:
        active[run.organization_id].append(run)
    finished = CollectionRun.objects.filter(finished_at__isnull=False).exclude(
        state=CollectionRun.State.SKIPPED
    )
    newest = newest_per_org(finished, ids, "-finished_at", "-pk")
    # A successful run always records when it finished: the newest finished run, when it
    # succeeded, is the last success; else that is asked for.
    last = {pk: run for pk, run in newest.items() if run.state == CollectionRun.State.SUCCEEDED}
    last.update(orgs_last_collection(organization_ids=[pk for pk in ids if pk not in last]))
    backfills = orgs_backfill_runs(states=states.values())
    installations = installation_statuses(organizations=organizations)
    known.update({pk: True for pk in orgs_with_data(organization_ids=set(ids) - set(known))})
    tokens = {t.organization_id: t for t in OrgAccessToken.objects.filter(organization__in=ids)}
    facts = {
        org.pk: StatusFacts(
            organization=org,
            collection=states.get(org.pk),
            active=active[org.pk],
            newest=newest.get(org.pk),
            progress=progress_from(
                state=states.get(org.pk),
                running=bool(active[org.pk]),
                last=last.get(org.pk),
                recent=backfills.get(org.pk, []),
            ),
            installation=installations[org.pk],
            has_data=known.get(org.pk, False),
            org_token=tokens.get(org.pk),
        )
        for org in organizations
    }
    unreadable = [pk for pk, f in facts.items() if f.unreadable]
    for pk, reports in reports_sources_of(organization_ids=unreadable).items():
        facts[pk].reports = reports
    not_enhanced = [
        org.pk
        for org in organizations
        if org.billing_platform == Organization.BillingPlatform.UNAVAILABLE
    ]
    for pk, refusal in orgs_usage_availability(organization_ids=not_enhanced).items():
        facts[pk].refusal = refusal
    return facts
