"""Signals of the accounts app, and its receivers of Django's auth signals."""

from django.dispatch import Signal

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
