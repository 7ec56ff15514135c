"""Reads for the install wizard: our App's installation on an organization in words, and
who the organization's owners are (so a billing manager knows whom to ask).

`installation_status` is also what the usage app's progress endpoint reports
(``usage.progress``): usage may import accounts, never the reverse.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.formats import date_format

from accounts.installations.retention import deletion_date_of
from accounts.models import AuditEvent, Installation, Organization, User, grants_billing
from accounts.tokens import GitHubAuthorizationLost, with_user_token
from billingdash import github

log = logging.getLogger(__name__)

OWNERS_CACHE_SECONDS = 300


@dataclass(frozen=True)
class InstallationStatus:
    """``state``: ``not_installed``, ``active``, ``missing_permission``, ``suspended``,
    ``needs_attention`` or ``uninstalled``; ``words``: one sentence for people."""

    state: str
    words: str
    installation_id: int | None = None
    settings_url: str = ""

    @property
    def readable(self) -> bool:
        return self.state == "active"

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def installation_settings_url(organization: Organization, installation_id: int) -> str:
    """The installation's page in the org's settings on GitHub (owners only), where an
    owner reviews permission requests, suspends or uninstalls."""
    return (
        f"{settings.GITHUB_WEB_URL}/organizations/{organization.login}"
        f"/settings/installations/{installation_id}"
    )


def _current(installations: Sequence[Installation]) -> Installation | None:
    """The installation that decides (of the org's, newest first): a readable one, else
    the newest live one, else the newest uninstalled one."""
    for inst in installations:
        if inst.can_read_billing:
            return inst
    live = [i for i in installations if i.state != Installation.State.DELETED]
    return (live or installations or [None])[0]


def _when(moment) -> str:
    return date_format(timezone.localtime(moment), "j F Y") if moment else "recently"


def _removed_by(installations: Iterable[Installation]) -> dict[int, str]:
    """Who uninstalled each installation (GitHub's sender in the newest audit event of
    its removal; "" when not known), by installation id."""
    ids = [inst.installation_id for inst in installations]
    if not ids:
        return {}
    events = AuditEvent.objects.filter(
        action="installation.removed", details__installation_id__in=ids
    ).order_by("-at")
    senders: dict[int, str] = {}
    for event in events:
        senders.setdefault(event.details.get("installation_id"), event.details.get("sender") or "")
    return senders


def _status_of(
    organization: Organization,
    inst: Installation | None,
    installations: Sequence[Installation],
    removed_by: dict[int, str],
) -> InstallationStatus:
    login = organization.login
    if inst is None:
        words = f"The billingdash App is not installed on {login}."
        return InstallationStatus("not_installed", words)
    url = installation_settings_url(organization, inst.installation_id)
    state, iid = inst.state, inst.installation_id
    if inst.can_read_billing:
        return InstallationStatus(
            "active", f"Installed on {login}: billingdash reads its billing usage.", iid, url
        )
    if state == Installation.State.DELETED:
        sender = removed_by.get(iid, "")
        words = (
            f"The billingdash App was uninstalled from {login} on {_when(inst.deleted_at)}"
            f"{f' by {sender}' if sender else ''}, so billingdash can no longer read its "
            "billing. An owner must install it again."
        )
        due = deletion_date_of(installations)
        if due is not None:
            words += (
                f" billingdash deletes the billing data it keeps of {login} on "
                f"{date_format(due, 'j F Y')}, unless an owner installs the App again before."
            )
        return InstallationStatus("uninstalled", words, iid)
    if state == Installation.State.SUSPENDED:
        words = (
            f"An owner suspended the billingdash App on {login} on {_when(inst.suspended_at)}; "
            "nothing is collected until an owner unsuspends it in the installation's settings."
        )
        return InstallationStatus("suspended", words, iid, url)
    if state == Installation.State.MISSING_PERMISSION or not grants_billing(inst.permissions):
        words = (
            f"The App is installed on {login} without the organization permission "
            "“Administration: read” that GitHub requires for billing usage. An owner can "
            "grant it in the installation's settings on GitHub."
        )
        return InstallationStatus("missing_permission", words, iid, url)
    reason = inst.state_reason or "GitHub refused to let the App read billing."
    words = f"The App on {login} needs attention: {reason}"
    return InstallationStatus("needs_attention", words, iid, url)


def installation_statuses(
    *, organizations: Sequence[Organization]
) -> dict[int, InstallationStatus]:
    """`installation_status` of each organization, by pk, in two queries at most."""
    installations: dict[int, list[Installation]] = defaultdict(list)
    read = Installation.objects.filter(organization__in=[org.pk for org in organizations])
    for inst in read.order_by("-updated_at", "-pk"):
        installations[inst.organization_id].append(inst)
    current = {org.pk: _current(installations[org.pk]) for org in organizations}
    removed_by = _removed_by(
        i for i in current.values() if i is not None and i.state == Installation.State.DELETED
    )
    return {
        org.pk: _status_of(org, current[org.pk], installations[org.pk], removed_by)
        for org in organizations
    }


def installation_status(*, organization: Organization) -> InstallationStatus:
    """Our App on `organization`, in words."""
    return installation_statuses(organizations=[organization])[organization.pk]


# --- owners -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnerList:
    """``source``: ``public`` (the owners GitHub shows the user: to anyone but a member,
    those who made their membership public) or ``unavailable`` (GitHub did not say)."""

    source: str
    owners: list[dict[str, str]] = field(default_factory=list)


def _member_view(item: Any) -> dict[str, str] | None:
    if not isinstance(item, dict) or not item.get("login"):
        return None
    login = str(item["login"])
    return {
        "login": login,
        "html_url": str(item.get("html_url") or f"{settings.GITHUB_WEB_URL}/{login}"),
    }


def _list_owners(user: User, login: str) -> OwnerList:
    # Never with our installation's token: it lists concealed owners too, which GitHub
    # would not show this user (a billing manager is not a member).
    if user.github_id is None:
        return OwnerList("unavailable")
    try:
        # role=admin lists owners; GitHub shows billing managers (who are not members)
        # and outsiders only the owners who made their membership public.
        found = with_user_token(
            user=user, call=lambda token: github.list_org_members(token, login, role="admin")
        )
    except GitHubAuthorizationLost:
        return OwnerList("unavailable")
    except github.GitHubError as error:
        log.info("public owners of %s failed: %r", login, error)
        return OwnerList("unavailable")
    return OwnerList("public", [m for m in map(_member_view, found) if m])


def org_owners(*, user: User, login: str) -> OwnerList:
    """The owners of the organization `login` that GitHub shows `user` (read with the
    user's own token), cached for a few minutes per user."""
    key = f"wizard-owners:{login.lower()}:user{user.pk}"
    cached = cache.get(key)
    if isinstance(cached, dict):
        return OwnerList(cached["source"], cached["owners"])
    result = _list_owners(user, login)
    if result.source != "unavailable":
        cache.set(key, {"source": result.source, "owners": result.owners}, OWNERS_CACHE_SECONDS)
    return result
