"""The staff admin of the accounts app (Django's admin imports this package).

- `users`: users, their tokens, organizations and memberships;
- `github`: GitHub's records about us (installations, install requests, webhook
  deliveries), the audit log and the third-party models;
- `helpers`: building blocks shared with `usage.admin` (links, audited actions,
  read-only admins);
- `actions`: the staff operations the admin's actions call (re-sync, re-check, reprocess,
  pause).

May import every other part of `accounts`; nothing in `accounts` imports it.
"""

from accounts.admin import github, users

__all__ = ["github", "users"]
