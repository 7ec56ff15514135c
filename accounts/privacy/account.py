"""Deleting a person's billingdash account: their authorization is withdrawn at GitHub
first (where GitHub answers), then the account and everything that is theirs alone is
deleted (tokens, memberships, install requests, social-auth links); audited."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.audit import audit_log
from accounts.models import GitHubToken, User
from billingdash import github

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccountDeletion:
    """The sign-in clients whose authorization GitHub withdrew, and those it could not."""

    revoked: list[str] = field(default_factory=list)
    not_revoked: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        text = "Your billingdash account and the GitHub tokens it kept are deleted."
        if self.not_revoked:
            text += (
                " GitHub could not be reached to withdraw billingdash's authorization: "
                f"revoke it yourself at {settings.GITHUB_WEB_URL}/settings/applications."
            )
        elif self.revoked:
            text += " GitHub no longer lists billingdash among your authorized applications."
        return text

    def as_json(self) -> dict:
        return {"deleted": True, "revoked_at_github": self.revoked, "not_revoked": self.not_revoked}


def confirmation_word(user: User) -> str:
    """What the person types to confirm: their GitHub login (or username)."""
    return user.github_login or user.get_username()


def _usable_access_token(token: GitHubToken) -> str:
    """The stored access token, or a fresh one when it has expired (GitHub App tokens
    live 8 hours; the grant outlives them, and revoking it needs a valid token)."""
    if token.expires_at is None or token.expires_at > timezone.now() or not token.refresh_token:
        return str(token.access_token)
    fresh = github.refresh_user_token(client=token.client, refresh_token=str(token.refresh_token))
    return fresh.access_token


def _revoke_at_github(token: GitHubToken) -> bool:
    try:
        github.delete_app_authorization(
            client=token.client, access_token=_usable_access_token(token)
        )
    except (github.NotFound, github.Unprocessable, github.OAuthError):
        return True  # GitHub no longer knows the token: nothing left to revoke
    except (github.GitHubError, ImproperlyConfigured) as error:
        log.warning("could not revoke the %s authorization at GitHub: %r", token.client, error)
        return False
    return True


def user_account_delete(*, user: User, request: HttpRequest | None = None) -> AccountDeletion:
    """Withdraw the user's authorization at GitHub (each sign-in client they used), then
    delete the account. The audit log keeps the event (login and GitHub id), and the
    audit events the user caused stay, with their login as text."""
    revoked, not_revoked = [], []
    for token in GitHubToken.objects.filter(user=user).order_by("client"):
        (revoked if _revoke_at_github(token) else not_revoked).append(token.client)
    label, github_id = str(user), user.github_id
    with transaction.atomic():
        User.objects.filter(pk=user.pk).delete()
        audit_log(
            actor=None,
            action="account.deleted",
            target=label,
            request=request,
            details={
                "github_id": github_id,
                "revoked_at_github": revoked,
                "not_revoked": not_revoked,
            },
        )
    return AccountDeletion(revoked=revoked, not_revoked=not_revoked)
