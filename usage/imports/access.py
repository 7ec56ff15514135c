"""Who may upload a report for an organization, and where it goes.

- A **verified** owner or billing manager (`get_org_for_billing` passes: GitHub told us
  the role, which the classic OAuth sign-in always does): the import becomes the org's
  data, seen by every owner and billing manager.
- With the GitHub App's own sign-in (``GITHUB_SIGNIN_CLIENT=app``) GitHub hides the
  orgs where our App is not installed, so nobody's role there can be checked. Anyone
  signed in may then upload for such an org, into a **workspace** only they see,
  labelled so; it is never shown to anyone else nor merged into the org's data until
  their role is verified (`usage.imports.services.workspace_merge`). A file can be
  forged by whoever uploads it: an unverified upload never changes what others see.
- Everyone else (a member, an outsider, any unverified user where roles are known):
  404, as for the rest of the org's billing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import Http404

from accounts.models import Installation, Membership, Organization, User
from accounts.organizations import organization_upsert
from accounts.roles.access import get_org_for_billing
from accounts.tokens import GitHubAuthorizationLost, with_user_token
from billingdash import github
from billingdash.github import errors

__all__ = ["ImportScope", "import_scope"]


@dataclass(frozen=True)
class ImportScope:
    organization: Organization
    verified: bool  # False: the uploader's own workspace


def _installed(organization: Organization) -> bool:
    return Installation.objects.filter(
        organization=organization, state=Installation.State.ACTIVE
    ).exists()


def _org_from_github(user: User, login: str) -> Organization:
    try:
        found = with_user_token(user=user, call=lambda token: github.get_org(token, login))
    except (errors.GitHubError, GitHubAuthorizationLost):
        raise Http404("No such organization.") from None
    return organization_upsert(github_org=found)


def import_scope(*, user: User, login: str) -> ImportScope:
    """Where `user`'s uploads for `login` go (see the module), or `Http404`."""
    try:
        return ImportScope(get_org_for_billing(user=user, login=login), verified=True)
    except Http404:
        pass
    if settings.GITHUB_SIGNIN_CLIENT != "app" or not user.is_authenticated or not user.pk:
        raise Http404("No such organization.")
    if "\x00" in login or not login or len(login) > 39:
        raise Http404("No such organization.")
    organization = Organization.objects.filter(login__iexact=login).first()
    if organization is not None:
        # A role GitHub told us (a member), or an installed App (GitHub would have
        # shown the role): no workspace.
        if Membership.objects.filter(user=user, organization=organization).exists():
            raise Http404("No such organization.")
        if _installed(organization):
            raise Http404("No such organization.")
    else:
        organization = _org_from_github(user, login)
        if _installed(organization):
            raise Http404("No such organization.")
    return ImportScope(organization, verified=False)
