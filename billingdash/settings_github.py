"""GitHub settings: where GitHub is, the App's and the OAuth App's credentials, webhooks,
the HTTP client's timeouts and retries, and sign-in with GitHub (social-auth).

Part of the settings: ``billingdash/settings.py`` takes every setting here with
``from .settings_github import *``. As there, every value comes from the environment and
the README documents each variable.
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ

env = environ.Env()

# --- GitHub ------------------------------------------------------------------------
GITHUB_WEB_URL = env.str("GITHUB_WEB_URL", default="https://github.com").rstrip("/")
GITHUB_API_URL = env.str("GITHUB_API_URL", default="https://api.github.com").rstrip("/")
GITHUB_API_VERSION = env.str("GITHUB_API_VERSION", default="2022-11-28")
GITHUB_APP_ID = env.str("GITHUB_APP_ID", default="")
GITHUB_APP_SLUG = env.str("GITHUB_APP_SLUG", default="")
# The App's name as people see it on GitHub and on every page here ("the billingdash App").
GITHUB_APP_NAME = env.str("GITHUB_APP_NAME", default="billingdash")
GITHUB_APP_CLIENT_ID = env.str("GITHUB_APP_CLIENT_ID", default="")
GITHUB_APP_CLIENT_SECRET = env.str("GITHUB_APP_CLIENT_SECRET", default="")
GITHUB_APP_PRIVATE_KEY = env.str("GITHUB_APP_PRIVATE_KEY", default="", multiline=True)
GITHUB_APP_PRIVATE_KEY_PATH = env.str("GITHUB_APP_PRIVATE_KEY_PATH", default="")
if not GITHUB_APP_PRIVATE_KEY and GITHUB_APP_PRIVATE_KEY_PATH:
    GITHUB_APP_PRIVATE_KEY = Path(GITHUB_APP_PRIVATE_KEY_PATH).read_text()
GITHUB_WEBHOOK_SECRET = env.str("GITHUB_WEBHOOK_SECRET", default="")
# Webhook bodies over this are refused (413) before they are read or their signature is
# checked. The App's events are a few KB; GitHub's own cap (25 MB) is far too much to read
# for an unauthenticated caller.
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=1024 * 1024)
# Deliveries GitHub could not make (billingdash down) are asked for again from the App's
# delivery log (accounts.webhooks.recovery): how far back, how many a run, and after how
# many attempts of one delivery to leave it to an operator.
WEBHOOK_RECOVERY_WINDOW_SECONDS = env.int("WEBHOOK_RECOVERY_WINDOW_SECONDS", default=3 * 86400)
WEBHOOK_RECOVERY_MAX_PER_RUN = env.int("WEBHOOK_RECOVERY_MAX_PER_RUN", default=50)
WEBHOOK_RECOVERY_MAX_ATTEMPTS = env.int("WEBHOOK_RECOVERY_MAX_ATTEMPTS", default=5)
GITHUB_OAUTH_CLIENT_ID = env.str("GITHUB_OAUTH_CLIENT_ID", default="")
GITHUB_OAUTH_CLIENT_SECRET = env.str("GITHUB_OAUTH_CLIENT_SECRET", default="")
GITHUB_HTTP_CONNECT_TIMEOUT = env.float("GITHUB_HTTP_CONNECT_TIMEOUT", default=5.0)
GITHUB_HTTP_READ_TIMEOUT = env.float("GITHUB_HTTP_READ_TIMEOUT", default=30.0)
GITHUB_HTTP_MAX_ATTEMPTS = env.int("GITHUB_HTTP_MAX_ATTEMPTS", default=4)
GITHUB_HTTP_BACKOFF_SECONDS = env.float("GITHUB_HTTP_BACKOFF_SECONDS", default=0.5)

# Which client signs people in: "app" (the GitHub App's own OAuth client, default) or
# "oauth" (a classic OAuth App, which sees every organization before any install).
GITHUB_SIGNIN_CLIENT = env.str(
    "GITHUB_SIGNIN_CLIENT", default="oauth" if GITHUB_OAUTH_CLIENT_ID else "app"
)

# --- Sign-in (social-auth) -----------------------------------------------------------
# Backends `github-app` and `github-oauth` (accounts/backends.py) read the GITHUB_* values
# above when called; GITHUB_SIGNIN_CLIENT picks the one /login/ offers. Tokens never go
# to social-auth's extra_data: the pipeline stores them encrypted in GitHubToken.
SOCIAL_AUTH_USER_MODEL = "accounts.User"
SOCIAL_AUTH_URL_NAMESPACE = "social"
# `next` may only be a path on this site (accounts/strategy.py).
SOCIAL_AUTH_STRATEGY = "accounts.signin.strategy.BillingdashStrategy"
SOCIAL_AUTH_JSONFIELD_ENABLED = True
SOCIAL_AUTH_LOGIN_URL = "/login/"
SOCIAL_AUTH_LOGIN_REDIRECT_URL = "/orgs/"
# Failures render accounts/signin_error.html (SignInErrorMiddleware), even with DEBUG on.
SOCIAL_AUTH_RAISE_EXCEPTIONS = False
SOCIAL_AUTH_SANITIZE_REDIRECTS = True
SOCIAL_AUTH_ALLOWED_REDIRECT_HOSTS: list[str] = []
SOCIAL_AUTH_STATE_LIFETIME = 600
SOCIAL_AUTH_USER_FIELDS = ["username", "email"]
SOCIAL_AUTH_PIPELINE = (
    "social_core.pipeline.social_auth.social_details",
    "social_core.pipeline.social_auth.social_uid",
    "social_core.pipeline.social_auth.auth_allowed",
    "social_core.pipeline.social_auth.social_user",
    "accounts.signin.pipeline.user_by_github_id",
    "accounts.signin.pipeline.username_from_github_id",
    "social_core.pipeline.user.create_user",
    "social_core.pipeline.social_auth.associate_user",
    "accounts.signin.pipeline.save_profile",
    "accounts.signin.pipeline.save_tokens",
    "accounts.signin.pipeline.sync_memberships",
)


def github_avatar_origin(web_url: str) -> str:
    """Where GitHub serves avatars: github.com's come from avatars.githubusercontent.com,
    GitHub Enterprise Server's (and the simulator's) from its own origin."""
    parts = urlsplit(web_url)
    if (parts.hostname or "").lower() in ("github.com", "www.github.com"):
        return "https://avatars.githubusercontent.com"
    return f"{parts.scheme}://{parts.netloc}"


# What `from .settings_github import *` takes: the settings (upper case), nothing else.
__all__ = [name for name in dir() if name.isupper()]
