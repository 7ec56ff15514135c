"""billingdash's GitHub client: the only code in the project that talks HTTP to GitHub.

Plain functions, typed errors, no client object. Import the package and call::

    from billingdash import github

    user = github.get_authenticated_user(user_token)
    for m in github.list_user_org_memberships(user_token):       # every page
        m["organization"]["login"], m["role"]                    # admin | member | billing_manager

    token = github.installation_token(installation_id)           # cached, shared, encrypted
    with github.track_calls() as stats:                          # for CollectionRun
        for item in github.iter_billing_usage(token, "acme-corp", year=2026, month=11):
            ...                                                  # streamed; Decimal amounts
    stats.calls, stats.remaining, stats.reset_at

Modules
-------
``http``     transport: one `requests.Session` per thread, ``GITHUB_HTTP_*`` timeouts,
             headers (``Accept: application/vnd.github+json``, ``X-GitHub-Api-Version``,
             ``User-Agent: billingdash/<version>``), retries, `paginate`.
``api_urls`` API URLs and paths under ``GITHUB_API_URL`` (GitHub Enterprise Server too).
``calls``    `track_calls()`: HTTP calls made and the last rate-limit budget seen.
``clock``    GitHub's time (local time + the offset seen in ``Date`` headers), used for
             JWT claims and installation-token expiry.
``errors``   `GitHubError` and its subclasses, and the rules that pick one.
``apps``     the App JWT (`app_jwt`) and installation tokens (`installation_token`).
``oauth``    user tokens: `exchange_code`, `refresh_user_token` → `TokenSet`.
``api``      one function per endpoint (users, orgs, App); ``billing`` the billing ones,
             ``usage_stream`` the fast decoder of the usage report's items.
``types``    TypedDicts of the JSON objects callers read.
``hooks``    the App's webhook delivery log and redelivery (App JWT).
``grants``   deleting a user's authorization of our client (client id + secret).

Tokens
------
Every endpoint function takes its token explicitly: a user access token (sign-in), an
installation token (``installation_token(id)``, for collection), or nothing for the
``/app`` endpoints, which sign an App JWT themselves (RS256, ``iss`` = client ID, or the
App ID, as a string; re-signed once if GitHub refuses its ``iat``/``exp`` because this
host's clock is off). Installation tokens are cached in Django's cache (the database
cache, shared by every process), encrypted with ``billingdash.crypto``, until 5 minutes
before GitHub's ``expires_at``; after a 401 call ``forget_installation_token(id)`` and
retry once. Prefer calling `installation_token` outside ``transaction.atomic()``: the
database cache writes in the caller's transaction. No token is ever logged or put in
an exception's message or repr; `TokenSet` and `InstallationToken` hide theirs in repr.

Usage streams
-------------
`iter_billing_usage` is a generator: the request goes out at the first ``next()``, so
its errors (401, 403, rate limits) are raised there. Items carry GitHub's camelCase
keys with ``int``/``Decimal`` numbers. A `MalformedResponse` may come after some items:
treat the partial result as void (write the month in one transaction).

Errors
------
All are `GitHubError` (``status``, ``message``, ``documentation_url``, ``headers``,
``request_id``): `BadRequest` 400 (e.g. an org not on the enhanced billing platform),
`Unauthorized` 401, `Forbidden` 403 (``accepted_permissions`` parsed from
``x-accepted-github-permissions``), `NotFound` 404, `Gone` 410 (a retired endpoint, e.g.
the old platform's ``/orgs/{org}/settings/billing/actions``: "This endpoint has been
moved"; its message names the replacement), `Unprocessable` 422, `ServerError` 5xx,
`NetworkError` (no usable response), `MalformedResponse` (bad JSON or shape, a
truncated usage stream), `OAuthError` (the token endpoint's HTTP 200 ``error``:
``.error``, ``.error_description``, ``.error_uri``), and `RateLimited` for a 403/429 that
GitHub's rules call a rate limit: ``kind`` ``"primary"`` (``x-ratelimit-remaining: 0``;
wait until ``x-ratelimit-reset``) or ``"secondary"`` (``retry-after``, or the "secondary
rate limit" message; 60 s when GitHub names no time). ``retry_after`` is the seconds to
wait and ``reset_at`` when that wait ends. The client never sleeps for a rate limit: a
Celery task reschedules with ``countdown=exc.retry_after``. Other statuses (409...)
raise `GitHubError` itself. Errors pickle (Celery).

On the billing endpoints GitHub answers 400 *or* 404 to an organization that cannot use
them (not on the enhanced billing platform, or the endpoint not available to it): the
description documents 400, the real API answers 404. A 404 may also mean the org itself
was renamed or deleted; telling them apart needs the installation (the collection's
error policy, `usage.collection.refusals`, does it).

Retries
-------
5xx, network errors, timeouts and bodies that broke off are retried with exponential
backoff and full jitter (``GITHUB_HTTP_BACKOFF_SECONDS`` base, ``GITHUB_HTTP_MAX_ATTEMPTS``
attempts in all, ``GITHUB_HTTP_CONNECT_TIMEOUT``/``_READ_TIMEOUT`` each); POSTs only when
the request surely never left (the OAuth code/refresh exchange is never resent, since
codes and refresh tokens work once). 4xx are never retried. A usage stream that breaks
midway is not resumed. `track_calls` counts every attempt.

URLs
----
Paths are appended to ``GITHUB_API_URL`` (``https://api.github.com``, or GHES-style
``https://host/api/v3`` as the simulator uses); ``Link`` URLs are followed only under it.
Org logins are quoted as path segments and are case-insensitive at GitHub.
"""

from billingdash.github.api import (
    check_billing_access,
    get_app,
    get_app_installation,
    get_authenticated_user,
    get_billing_usage_summary,
    get_org,
    get_org_installation,
    get_org_membership,
    get_user_org_membership,
    iter_billing_usage,
    list_app_installations,
    list_billing_budgets,
    list_org_members,
    list_user_installations,
    list_user_org_memberships,
    list_user_orgs,
    revoke_installation_token,
)
from billingdash.github.apps import (
    InstallationToken,
    app_jwt,
    create_installation_token,
    forget_installation_token,
    installation_token,
)
from billingdash.github.calls import CallStats, track_calls
from billingdash.github.errors import (
    BadRequest,
    Forbidden,
    GitHubError,
    Gone,
    MalformedResponse,
    NetworkError,
    NotFound,
    OAuthError,
    RateLimited,
    ServerError,
    Unauthorized,
    Unprocessable,
)
from billingdash.github.grants import delete_app_authorization
from billingdash.github.hooks import (
    HookDelivery,
    iter_app_hook_deliveries,
    redeliver_app_hook_delivery,
)
from billingdash.github.http import paginate, request, request_json
from billingdash.github.oauth import TokenSet, exchange_code, refresh_user_token
from billingdash.github.types import (
    App,
    Budget,
    Installation,
    Organization,
    OrganizationFull,
    OrgMembership,
    UsageItem,
    UsageSummary,
    User,
    parse_timestamp,
)

__all__ = [
    "App",
    "BadRequest",
    "Budget",
    "CallStats",
    "Forbidden",
    "GitHubError",
    "Gone",
    "HookDelivery",
    "Installation",
    "InstallationToken",
    "MalformedResponse",
    "NetworkError",
    "NotFound",
    "OAuthError",
    "OrgMembership",
    "Organization",
    "OrganizationFull",
    "RateLimited",
    "ServerError",
    "TokenSet",
    "Unauthorized",
    "Unprocessable",
    "UsageItem",
    "UsageSummary",
    "User",
    "app_jwt",
    "check_billing_access",
    "create_installation_token",
    "delete_app_authorization",
    "exchange_code",
    "forget_installation_token",
    "get_app",
    "get_app_installation",
    "get_authenticated_user",
    "get_billing_usage_summary",
    "get_org",
    "get_org_installation",
    "get_org_membership",
    "get_user_org_membership",
    "installation_token",
    "iter_app_hook_deliveries",
    "iter_billing_usage",
    "list_app_installations",
    "list_billing_budgets",
    "list_org_members",
    "list_user_installations",
    "list_user_org_memberships",
    "list_user_orgs",
    "paginate",
    "parse_timestamp",
    "redeliver_app_hook_delivery",
    "refresh_user_token",
    "request",
    "request_json",
    "revoke_installation_token",
    "track_calls",
]
