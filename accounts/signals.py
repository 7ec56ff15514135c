"""Signals of the accounts app, and its receivers of Django's auth signals."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import Signal, receiver
from django.utils.module_loading import import_string

from accounts.middleware import mark_session_signed_in
from accounts.services import audit_log

# Sent when billingdash can now read an organization's billing with the App's installation
# token; `usage` connects a receiver that queues the backfill (accounts never imports usage).
# Keyword arguments: `installation` (accounts.models.Installation) and `reason`:
#   "created"      the App was installed (webhook installation.created);
#   "permissions"  an owner accepted organization_administration (new_permissions_accepted);
#   "unsuspended"  a suspended installation was unsuspended (a backfill fills the gap);
#   "reconciled"   the periodic reconciliation found a readable installation a missed
#                  webhook had left unknown, deleted, suspended or unreadable.
# `accounts.installations` sends it after the commit (on_commit), with send_robust (a
# failing receiver is logged), and only when billing *becomes* readable, never twice for
# an installation that stays readable.
installation_ready = Signal()


@receiver(user_logged_in, dispatch_uid="accounts.signin")
def on_signin(sender, request, user, **kwargs) -> None:
    """Remember when this session signed in (for "signed out everywhere") and log it."""
    if request is None:
        return
    mark_session_signed_in(request)
    backend_path = str(getattr(user, "backend", ""))
    try:
        method = getattr(import_string(backend_path), "name", "") or "password"
    except ImportError:
        method = "unknown"
    audit_log(actor=user, action="signin", request=request, details={"method": method})
