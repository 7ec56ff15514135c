"""Alerts settings: the site's absolute URL for links in messages, outgoing e-mail, HTTP to
chat and webhook receivers (timeouts, retries, the SSRF guard's exceptions) and digests.

Part of the settings: ``billingdash/settings.py`` takes every setting here with
``from .settings_alerts import *``. As there, every value comes from the environment and
the README documents each variable.
"""

import ipaddress

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()
# Read as billingdash/settings.py reads it: the SSRF exceptions are refused with DEBUG off.
_debug = env.bool("DEBUG", default=False)

# --- Alerts (alerts app): channels, delivery, e-mail -----------------------------------
# Absolute links in messages sent from workers (no request there): the unsubscribe link
# of every alert e-mail. Mail clients only offer one-click unsubscribe for https links.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# Outgoing mail: EMAIL_URL (django-environ: smtp://user:password@host:587, smtp+tls://...,
# smtps://...) or the usual EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD,
# EMAIL_USE_TLS, EMAIL_USE_SSL.
_email = env.email_url("EMAIL_URL") if env.str("EMAIL_URL", default="") else {}
EMAIL_BACKEND = _email.get("EMAIL_BACKEND") or env.str(
    "EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = _email.get("EMAIL_HOST") or env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = _email.get("EMAIL_PORT") or env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or env.str(
    "EMAIL_HOST_PASSWORD", default=""
)
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS") or env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL") or env.bool("EMAIL_USE_SSL", default=False)
# Django's default is no timeout at all: a silent SMTP server would hold a worker forever.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="billingdash <billingdash@localhost>")
# HTTP to chat and webhook receivers (alerts.ssrf): short timeouts, a small answer.
ALERTS_HTTP_CONNECT_TIMEOUT = env.float("ALERTS_HTTP_CONNECT_TIMEOUT", default=5.0)
ALERTS_HTTP_READ_TIMEOUT = env.float("ALERTS_HTTP_READ_TIMEOUT", default=10.0)
ALERTS_HTTP_MAX_RESPONSE_BYTES = env.int("ALERTS_HTTP_MAX_RESPONSE_BYTES", default=65536)
# A CA bundle (PEM file) to verify receivers' certificates with; empty: certifi's.
ALERTS_CA_BUNDLE = env.str("ALERTS_CA_BUNDLE", default="")
# Attempts of one delivery (network errors, 5xx, 408, 429), with exponential backoff
# from the base (plus jitter) up to the cap; a Retry-After answer is honoured up to the cap.
ALERTS_DELIVERY_MAX_ATTEMPTS = env.int("ALERTS_DELIVERY_MAX_ATTEMPTS", default=6)
ALERTS_RETRY_BASE_SECONDS = env.float("ALERTS_RETRY_BASE_SECONDS", default=30.0)
ALERTS_RETRY_MAX_SECONDS = env.float("ALERTS_RETRY_MAX_SECONDS", default=3600.0)
# Digests: the weekly one is due on Monday from this hour (the subscriber's time zone),
# the monthly one on the 11th; "send a digest now" once per this many seconds per org.
ALERTS_DIGEST_HOUR = env.int("ALERTS_DIGEST_HOUR", default=7)
ALERTS_DIGEST_NOW_COOLDOWN_SECONDS = env.int("ALERTS_DIGEST_NOW_COOLDOWN_SECONDS", default=60)
if not 0 <= ALERTS_DIGEST_HOUR <= 23:
    raise ImproperlyConfigured("ALERTS_DIGEST_HOUR must be an hour from 0 to 23.")
# The demo's receivers (scripts/demo.py): the alerts page points at them when set.
ALERTS_DEMO_CHAT_URL = env.str("ALERTS_DEMO_CHAT_URL", default="").rstrip("/")
ALERTS_DEMO_MAILBOX_URL = env.str("ALERTS_DEMO_MAILBOX_URL", default="").rstrip("/")
# The SSRF guard refuses every URL that is not https or that resolves to a non-public
# address. These two exceptions exist for the demo and the tests (receivers on
# 127.0.0.1): CIDRs whose addresses are allowed anyway, and plain http. With DEBUG off
# they are refused unless ALERTS_I_UNDERSTAND_SSRF_RISK=true is set as well (a
# receiver on your own network): every owner of every org could then reach them.
ALERTS_ALLOWED_PRIVATE_NETWORKS = env.list("ALERTS_ALLOWED_PRIVATE_NETWORKS", default=[])
ALERTS_ALLOW_HTTP = env.bool("ALERTS_ALLOW_HTTP", default=False)
ALERTS_I_UNDERSTAND_SSRF_RISK = env.bool("ALERTS_I_UNDERSTAND_SSRF_RISK", default=False)
for _network in ALERTS_ALLOWED_PRIVATE_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(
            f"ALERTS_ALLOWED_PRIVATE_NETWORKS: {_network!r} is not a network in CIDR "
            "notation (e.g. 127.0.0.0/8 or ::1/128)."
        ) from _error
if (
    not _debug
    and (ALERTS_ALLOWED_PRIVATE_NETWORKS or ALERTS_ALLOW_HTTP)
    and not ALERTS_I_UNDERSTAND_SSRF_RISK
):
    raise ImproperlyConfigured(
        "ALERTS_ALLOWED_PRIVATE_NETWORKS and ALERTS_ALLOW_HTTP are for the demo and tests: "
        "they let anyone who can add an alert channel make billingdash send requests into "
        "those networks, or in clear text. Unset them, or, for a receiver on your own "
        "network, also set ALERTS_I_UNDERSTAND_SSRF_RISK=true."
    )

# What `from .settings_alerts import *` takes: the settings (upper case), nothing else.
__all__ = [name for name in dir() if name.isupper()]
