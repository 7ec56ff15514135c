"""Django settings for billingdash.

Every value comes from the environment (12-factor, read with django-environ); the
defaults are safe for development. The README documents each variable. Three parts live
in modules of their own, taken here whole (``from ... import *``): Celery and beat
(``settings_celery.py``), GitHub and sign-in (``settings_github.py``), alerts and e-mail
(``settings_alerts.py``).
"""

import tempfile
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from billingdash.settings_celery import *  # noqa: F403 (the CELERY_ settings and REDIS_URL)

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEV_SECRET_KEY = "dev-insecure-secret-key-do-not-use-in-production"
# A fixed, public key for development only; with DEBUG off it is refused below.
DEV_TOKEN_KEY = "ZGV2LW9ubHktZmVybmV0LWtleS1kby1ub3QtdXNlISE="

# Off unless set: an unset environment must never run with the published development keys
# below. `make demo`, the tests and the benchmarks set DEBUG=true themselves.
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
TOKEN_ENCRYPTION_KEYS = env.list("TOKEN_ENCRYPTION_KEYS", default=[DEV_TOKEN_KEY])

if not DEBUG:
    if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to a long random value when DEBUG is off (DEBUG is off "
            "unless set; for a development server set DEBUG=true, as `make demo` does)."
        )
    if not TOKEN_ENCRYPTION_KEYS or DEV_TOKEN_KEY in TOKEN_ENCRYPTION_KEYS:
        raise ImproperlyConfigured(
            "TOKEN_ENCRYPTION_KEYS must hold your own Fernet key(s) when DEBUG is off; make one "
            "with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # runserver leaves static files to whitenoise (compressed, cached), as production does.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "social_django",
    "axes",
    "csp",
    "billingdash",
    "accounts",
    "usage",
    "alerts",
    "copilot",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.signin.middleware.SessionLifetimeMiddleware",
    "accounts.signin.middleware.SessionRevocationMiddleware",
    "accounts.signin.middleware.SignInErrorMiddleware",
    "billingdash.unavailable.DatabaseUnavailableMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    # With DEBUG on, templates/404.html rather than Django's page listing every URL
    # pattern (SHOW_DEBUG_404=true keeps that page for developers).
    "billingdash.not_found.FriendlyNotFoundMiddleware",
]
SHOW_DEBUG_404 = env.bool("SHOW_DEBUG_404", default=False)

ROOT_URLCONF = "billingdash.urls"
WSGI_APPLICATION = "billingdash.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "billingdash.context_processors.github_app",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the worker writes; wait instead of failing.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache lives in the database on purpose: pages must keep rendering when Redis is
# down, and the installation-token cache must be shared by every worker process.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "billingdash_cache",
        # Django's default (300 entries, then a third is culled) evicted the installation
        # tokens of a few hundred orgs every hour: one entry per installation must fit.
        "OPTIONS": {"MAX_ENTRIES": env.int("CACHE_MAX_ENTRIES", default=100_000)},
    }
}
# The dashboard's and API's results, keyed by the org's data version (usage.reporting.
# cache): Redis answers a large entry in a fraction of the database table's time. Pages
# do not need it: when it is down they build their views themselves.
CACHES["views"] = {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": env.str("VIEW_CACHE_URL", default=REDIS_URL),  # noqa: F405
    "KEY_PREFIX": "billingdash",
    "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
}
USAGE_VIEW_CACHE = "views"
# CSV exports kept as files per data version and filters (usage.web.export_files): the
# full year is ~100 MiB and 16 s of CPU to render, next to nothing to send again. Every
# web process of a host shares the folder; 0 bytes turns the cache off.
EXPORT_CACHE_DIR = env.path(
    "EXPORT_CACHE_DIR", default=Path(tempfile.gettempdir()) / "billingdash-exports"
)
EXPORT_CACHE_BYTES = env.int("EXPORT_CACHE_BYTES", default=2 * 2**30)
EXPORT_CACHE_SECONDS = env.int("EXPORT_CACHE_SECONDS", default=24 * 3600)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Static files as production serves them: collectstatic writes hashed names plus gzip and
# brotli copies (brotli is installed), and whitenoise answers with the smallest encoding the
# browser accepts and, for hashed names, "Cache-Control: max-age=315360000, public,
# immutable" (the 1.2 MB plotly.js bundle goes out as ~0.3 MB of brotli, once). On unless DEBUG;
# the demo turns it on with DEBUG too (STATIC_COMPRESSED=true, after a collectstatic).
# Without it (DEBUG development), whitenoise serves the source files as they are edited.
STATIC_COMPRESSED = env.bool("STATIC_COMPRESSED", default=not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            # whitenoise's CompressedManifestStaticFilesStorage, compressing each file once
            "billingdash.static_storage.StaticStorage"
            if STATIC_COMPRESSED
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# With STATIC_COMPRESSED, only STATIC_ROOT (what collectstatic wrote) is served.
WHITENOISE_USE_FINDERS = DEBUG and not STATIC_COMPRESSED
WHITENOISE_AUTOREFRESH = DEBUG and not STATIC_COMPRESSED

# Pages name static files through {% static %} (hashed names), so collectstatic keeps only
# those: half the files, and half the compression (brotli at its best level takes seconds
# on the plotly.js bundle).
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
# Files served at the site's root by whitenoise: /favicon.ico (browsers ask for it
# wherever a page does not name its icon, e.g. a JSON response opened in a tab).
WHITENOISE_ROOT = BASE_DIR / "static" / "root"

# billingdash stores no uploads. MEDIA_URL is set anyway: left empty, Django's test live
# server treats every path it cannot route as a media file under the working directory
# (it served the whole project tree, and answered 500 to ``..%2f`` paths).
MEDIA_URL = "media/"
MEDIA_ROOT = BASE_DIR / "media"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "org_list"
LOGOUT_REDIRECT_URL = "login"

# --- Security --------------------------------------------------------------------
# Sessions end after an idle time and at an absolute lifetime, both shorter for staff,
# enforced on every request (accounts.signin.middleware.SessionLifetimeMiddleware); the
# cookie and the stored session never outlive the longest of them.
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_SECONDS", default=12 * 3600)
SESSION_IDLE_SECONDS = env.int("SESSION_IDLE_SECONDS", default=2 * 3600)
SESSION_STAFF_ABSOLUTE_SECONDS = env.int("SESSION_STAFF_ABSOLUTE_SECONDS", default=4 * 3600)
SESSION_STAFF_IDLE_SECONDS = env.int("SESSION_STAFF_IDLE_SECONDS", default=30 * 60)
SESSION_COOKIE_AGE = max(SESSION_ABSOLUTE_SECONDS, SESSION_STAFF_ABSOLUTE_SECONDS)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
_TRUST_PROXY_SSL_HEADER = env.bool("SECURE_PROXY_SSL_HEADER", default=False)
if _TRUST_PROXY_SSL_HEADER:
    # Only behind a proxy that sets X-Forwarded-Proto itself and strips it from clients.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=False)


# Content-Security-Policy (django-csp 4): no inline script or style, no eval; plotly.js
# is served from our own static files in its "basic" build (bar, pie and scatter traces:
# no WebGL, no eval; 1.2 MB where the full "strict" one was 5.1 MB).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # The site and GitHub's avatars (set below from GITHUB_WEB_URL), nothing else.
        "img-src": ["'self'"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", *env.list("CSP_FORM_ACTION_EXTRA", default=[])],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# django-axes throttles the staff admin login (/admin/login/) against password guessing,
# and nothing else: its backend, handler and lock-out apply to admin requests only
# (accounts/signin/throttle.py), so failures there never lock GitHub sign-in.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_ONLY_ADMIN_SITE = True
AXES_HANDLER = "accounts.signin.throttle.AdminLoginHandler"
# The client's address: REMOTE_ADDR, or behind AXES_PROXY_COUNT proxies the address the
# first of them added to X-Forwarded-For (accounts.signin.throttle.client_ip). Not named
# AXES_PROXY_COUNT inside Django: axes warns about that (deprecated) name of its own.
TRUSTED_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "accounts.signin.throttle.client_ip"
AXES_LOCKOUT_TEMPLATE = "axes/lockout.html"
if (_TRUST_PROXY_SSL_HEADER or USE_X_FORWARDED_HOST) and TRUSTED_PROXY_COUNT < 1:
    # Behind a proxy every request comes from the proxy's address: one guessed password
    # too many would lock every staff member out, and throttling would see no client.
    raise ImproperlyConfigured(
        "SECURE_PROXY_SSL_HEADER or USE_X_FORWARDED_HOST is set, so billingdash runs behind "
        "a proxy, but AXES_PROXY_COUNT is 0: set AXES_PROXY_COUNT to the number of proxies "
        "in front of billingdash (1 for one proxy) so that login throttling sees the "
        "client's address in X-Forwarded-For."
    )

AUTHENTICATION_BACKENDS = [
    "accounts.signin.throttle.AdminLoginThrottle",
    "django.contrib.auth.backends.ModelBackend",
    "accounts.signin.backends.GitHubAppSignIn",
    "accounts.signin.backends.GitHubOAuthSignIn",
]

# --- GitHub -------------------------------------------------------------------------
# billingdash/settings_github.py: GitHub's URLs, the App's and OAuth App's credentials,
# webhooks, the HTTP client, sign-in (social-auth).
from billingdash.settings_github import *  # noqa: E402, F403
from billingdash.settings_github import GITHUB_WEB_URL, github_avatar_origin  # noqa: E402

MEMBERSHIP_TTL_SECONDS = env.int("MEMBERSHIP_TTL_SECONDS", default=900)

# Uploaded usage reports wait here for the import worker (usage.imports; "" = the system's
# temporary folder + /billingdash-imports). Web and workers must share it.
REPORT_IMPORTS_DIR = env.str("REPORT_IMPORTS_DIR", default="")
REFRESH_COOLDOWN_SECONDS = env.int("REFRESH_COOLDOWN_SECONDS", default=300)
# How long an install link (its signed `state`) stays valid: an owner may read first.
INSTALL_STATE_MAX_AGE_SECONDS = env.int("INSTALL_STATE_MAX_AGE_SECONDS", default=3600)
BACKFILL_MONTHS = env.int("BACKFILL_MONTHS", default=24)

# --- Retention (README "Security": what is kept, for how long) -------------------------
# An organization whose App was uninstalled keeps its data this many days (an owner may
# install it again), then it is deleted (accounts.installations.retention).
ORG_DATA_RETENTION_DAYS = env.int("ORG_DATA_RETENTION_DAYS", default=30)
# Usage older than this many months (this one included) is deleted (usage.collection.
# retention). A backfill would collect again what the purge deletes: not shorter.
USAGE_RETENTION_MONTHS = env.int("USAGE_RETENTION_MONTHS", default=36)
if USAGE_RETENTION_MONTHS < BACKFILL_MONTHS:
    raise ImproperlyConfigured(
        f"USAGE_RETENTION_MONTHS ({USAGE_RETENTION_MONTHS}) is shorter than BACKFILL_MONTHS "
        f"({BACKFILL_MONTHS}): every backfill would collect again what the purge deletes. "
        "Raise USAGE_RETENTION_MONTHS or lower BACKFILL_MONTHS."
    )

# GitHub's web origin in the CSP: the sign-in form POSTs here and is redirected to GitHub's
# authorize page (browsers apply form-action to that redirect). Avatars come from GitHub's
# avatar host (github.com) or from GitHub Enterprise Server's (the simulator's) own origin.
if GITHUB_WEB_URL not in CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"]:
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(GITHUB_WEB_URL)
CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"].append(github_avatar_origin(GITHUB_WEB_URL))
# Tracebacks on debug pages and error reports never show a token or key.
DEFAULT_EXCEPTION_REPORTER_FILTER = "billingdash.reporting.RedactingExceptionReporterFilter"

# --- Celery (namespace CELERY_) -------------------------------------------------------
# billingdash/settings_celery.py, imported at the top: broker, tasks, beat schedule.

# --- Usage collection (usage app) ------------------------------------------------------
# Lease of the per-org lock; the holder renews it every third of it while it works.
COLLECTION_LEASE_SECONDS = env.int("COLLECTION_LEASE_SECONDS", default=120)
# One task collects queued months of an org for at most this long, then re-queues itself.
COLLECTION_TASK_BUDGET_SECONDS = env.int("COLLECTION_TASK_BUDGET_SECONDS", default=600)
# 5xx/network failures that outlived the client's own retries: task-level attempts and
# the base of their exponential backoff (full jitter).
COLLECTION_MAX_ATTEMPTS = env.int("COLLECTION_MAX_ATTEMPTS", default=5)
COLLECTION_RETRY_BASE_SECONDS = env.float("COLLECTION_RETRY_BASE_SECONDS", default=30.0)
# Summary and budgets are read with the current month at most this often; an endpoint
# that is not available to an org is asked again after COLLECTION_UNAVAILABLE_RECHECK.
COLLECTION_EXTRAS_INTERVAL_SECONDS = env.int("COLLECTION_EXTRAS_INTERVAL_SECONDS", default=21600)
COLLECTION_UNAVAILABLE_RECHECK_SECONDS = env.int(
    "COLLECTION_UNAVAILABLE_RECHECK_SECONDS", default=86400
)
# The sweeper re-sends a queued run that is due and has waited this long.
COLLECTION_STALE_QUEUED_SECONDS = env.int("COLLECTION_STALE_QUEUED_SECONDS", default=900)

# --- Health ---------------------------------------------------------------------------
# /healthz keeps its answer this long per process (a burst of calls costs one check).
HEALTHZ_CACHE_SECONDS = env.float("HEALTHZ_CACHE_SECONDS", default=5.0)

# --- Alerts (alerts app): channels, delivery, e-mail -----------------------------------
# billingdash/settings_alerts.py: SITE_URL, e-mail, receivers' HTTP, the SSRF guard, digests.
from billingdash.settings_alerts import *  # noqa: E402, F403

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "billingdash.logging.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}

# --- Copilot (the copilot app) -----------------------------------------------------------
# Per-user Copilot calls (one user, one month: GitHub's `user` filter) per organization and
# UTC day; staff change it per organization in the admin ("Copilot collection budgets").
COPILOT_USER_CALLS_PER_DAY = env.int("COPILOT_USER_CALLS_PER_DAY", default=500)
# Longest a Copilot collection task works before it re-sends itself (so usage's tasks on
# the same queue get their turn).
COPILOT_TASK_BUDGET_SECONDS = env.int("COPILOT_TASK_BUDGET_SECONDS", default=60)
# The Celery queue of the Copilot tasks ("" = the default queue). A dedicated queue needs
# a worker consuming it (`celery worker -Q celery,copilot`).
COPILOT_QUEUE = env.str("COPILOT_QUEUE", default="")
