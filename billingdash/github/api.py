"""One typed function per GitHub REST endpoint this project calls.

Every function takes the token explicitly (a user access token, an installation
token from `installation_token`, or, for ``/app`` endpoints, the App JWT made here) and
returns parsed JSON shaped as the TypedDicts in `types` (unknown fields kept). List
endpoints return every page. Errors are the typed `GitHubError` subclasses.
"""

from __future__ import annotations

from typing import Any, Literal

from billingdash.github import api_urls, errors, http
from billingdash.github.apps import as_app
from billingdash.github.billing import (
    check_billing_access,
    get_billing_usage_summary,
    iter_billing_usage,
    list_billing_budgets,
)
from billingdash.github.types import Account as Member
from billingdash.github.types import App, Installation, OrganizationFull, OrgMembership, User
from billingdash.github.types import Organization as OrganizationSimple

__all__ = [
    "check_billing_access",
    "get_app",
    "get_app_installation",
    "get_authenticated_user",
    "get_billing_usage_summary",
    "get_org",
    "get_org_installation",
    "get_org_membership",
    "get_user_org_membership",
    "iter_billing_usage",
    "list_app_installations",
    "list_billing_budgets",
    "list_org_members",
    "list_user_installations",
    "list_user_org_memberships",
    "list_user_orgs",
    "revoke_installation_token",
]

_seg = api_urls.quote_segment


def _object(data: Any, what: str) -> Any:
    if not isinstance(data, dict):
        raise errors.MalformedResponse(f"{what} is not a JSON object")
    return data


# --- the signed-in user ---------------------------------------------------------------


def get_authenticated_user(token: str) -> User:
    """The user the token belongs to (user tokens only; not installation tokens).
    https://docs.github.com/rest/users/users#get-the-authenticated-user
    """
    return _object(http.request_json("GET", "/user", token=token), "user")


def list_user_org_memberships(
    token: str, state: Literal["active", "pending"] | None = "active"
) -> list[OrgMembership]:
    """The user's organization memberships with their role (``admin``, ``member``,
    ``billing_manager``), all pages. ``state=None`` lists active and pending.
    With a GitHub App user token GitHub lists only orgs where the App is installed.
    https://docs.github.com/rest/orgs/members#list-organization-memberships-for-the-authenticated-user
    """
    params = {"state": state} if state else None
    return list(http.paginate("/user/memberships/orgs", token=token, params=params))


def get_user_org_membership(token: str, org: str) -> OrgMembership:
    """The user's membership (state, role) in one org; `NotFound` when not affiliated,
    `Forbidden` when the org blocks the App.
    https://docs.github.com/rest/orgs/members#get-an-organization-membership-for-the-authenticated-user
    """
    data = http.request_json("GET", f"/user/memberships/orgs/{_seg(org)}", token=token)
    return _object(data, "membership")


def list_user_orgs(token: str) -> list[OrganizationSimple]:
    """Organizations the user belongs to, all pages (fine-grained tokens get an empty
    list; classic/OAuth tokens need ``read:org`` to see private memberships).
    https://docs.github.com/rest/orgs/orgs#list-organizations-for-the-authenticated-user
    """
    return list(http.paginate("/user/orgs", token=token))


def list_user_installations(token: str) -> list[Installation]:
    """Installations of *our* App that the user token can access, all pages. GitHub
    wraps this list: ``{"total_count", "installations"}``.
    https://docs.github.com/rest/apps/installations#list-app-installations-accessible-to-the-user-access-token
    """
    return list(http.paginate("/user/installations", token=token, items_key="installations"))


# --- organizations -------------------------------------------------------------------


def get_org(token: str, org: str) -> OrganizationFull:
    """An organization (logins are case-insensitive; GitHub answers the canonical one).
    https://docs.github.com/rest/orgs/orgs#get-an-organization
    """
    return _object(http.request_json("GET", f"/orgs/{_seg(org)}", token=token), "organization")


def list_org_members(
    token: str, org: str, role: Literal["all", "admin", "member"] = "admin"
) -> list[Member]:
    """Members of an org, all pages; ``role="admin"`` lists the owners. Billing
    managers are not members and never appear here.
    https://docs.github.com/rest/orgs/members#list-organization-members
    """
    return list(http.paginate(f"/orgs/{_seg(org)}/members", token=token, params={"role": role}))


def get_org_membership(token: str, org: str, username: str) -> OrgMembership:
    """Someone's membership (state, role ``admin`` | ``member`` | ``billing_manager``) in
    an org, asked with a token of a member (or an installation token with Members read).
    https://docs.github.com/rest/orgs/members#get-organization-membership-for-a-user
    """
    path = f"/orgs/{_seg(org)}/memberships/{_seg(username)}"
    return _object(http.request_json("GET", path, token=token), "membership")


# --- the App (JWT) --------------------------------------------------------------------


def get_app() -> App:
    """Our App, authenticated with the App JWT.
    https://docs.github.com/rest/apps/apps#get-the-authenticated-app
    """
    return _object(as_app(lambda jwt: http.request_json("GET", "/app", token=jwt)), "app")


def list_app_installations() -> list[Installation]:
    """Every installation of our App, all pages (App JWT).
    https://docs.github.com/rest/apps/apps#list-installations-for-the-authenticated-app
    """
    return as_app(lambda jwt: list(http.paginate("/app/installations", token=jwt)))


def get_app_installation(installation_id: int) -> Installation:
    """One installation of our App by id (App JWT); `NotFound` once uninstalled.
    https://docs.github.com/rest/apps/apps#get-an-installation-for-the-authenticated-app
    """
    path = f"/app/installations/{int(installation_id)}"
    data = as_app(lambda jwt: http.request_json("GET", path, token=jwt))
    return _object(data, "installation")


def get_org_installation(org: str) -> Installation:
    """Our App's installation on an org (App JWT); `NotFound` when not installed.
    https://docs.github.com/rest/apps/apps#get-an-organization-installation-for-the-authenticated-app
    """
    path = f"/orgs/{_seg(org)}/installation"
    data = as_app(lambda jwt: http.request_json("GET", path, token=jwt))
    return _object(data, "installation")


def revoke_installation_token(token: str) -> None:
    """Revoke an installation token (authenticated with that very token). Call
    `forget_installation_token` too if it was cached.
    https://docs.github.com/rest/apps/installations#revoke-an-installation-access-token
    """
    http.request("DELETE", "/installation/token", token=token).close()
