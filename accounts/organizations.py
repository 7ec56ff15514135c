"""Organizations (the tenant) as GitHub knows them: created or updated by GitHub id, renamed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from accounts.models import Installation, Organization


def organization_upsert(*, github_org: Mapping[str, Any]) -> Organization:
    """Create or update an organization by GitHub id, keeping its login current. A row
    that still holds the login (renamed away, or a deleted org's login reused) is moved
    aside to ``~<github id>`` (no GitHub login has a ``~``)."""
    github_id, login = int(github_org["id"]), str(github_org["login"])
    values = {"login": login}
    if github_org.get("avatar_url"):
        values["avatar_url"] = str(github_org["avatar_url"])[:500]
    if github_org.get("name"):
        values["name"] = str(github_org["name"])[:200]
    with transaction.atomic():
        Organization.objects.filter(login__iexact=login).exclude(github_id=github_id).update(
            login=Concat(Value("~"), Cast("github_id", CharField()))
        )
        org, created = Organization.objects.get_or_create(github_id=github_id, defaults=values)
        changed = [k for k, v in values.items() if getattr(org, k) != v]
        if not created and changed:
            for key in changed:
                setattr(org, key, values[key])
            org.save(update_fields=[*changed, "updated_at"])
    return org


def account_rename(*, github_id: int, login: str) -> bool:
    """Record a renamed account (webhooks ``organization.renamed`` and
    ``installation_target.renamed``): the Organization's login and the login kept on its
    installations. An unknown organization is not created. False when nothing here
    knows the account."""
    login = login[:39]
    with transaction.atomic():
        org_known = Organization.objects.filter(github_id=github_id).exists()
        if org_known:
            organization_upsert(github_org={"id": github_id, "login": login})
        installations = Installation.objects.filter(account_id=github_id)
        installation_known = installations.exists()
        installations.exclude(account_login=login).update(
            account_login=login, updated_at=timezone.now()
        )
    return org_known or installation_known
