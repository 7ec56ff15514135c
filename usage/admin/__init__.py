"""Staff pages of the usage app (Django's admin imports this package).

- `organizations`: the collection actions on the Organization admin that
  `accounts.admin` registers ("collect now", "backfill…", the "failing" filter);
- `runs`: the admin of collection runs and of the machinery (leases, state, endpoint
  availability, the heartbeat);
- `tables`: the read-only admin of usage rows, rollups, summaries and budgets (capped
  counts);
- `actions`: the staff operations those actions call ("collect now", "backfill");
- `ops`: the operations page `/staff/ops/`.

May import everything in `usage` and `accounts`; nothing in `usage` imports it.
"""

from usage.admin import organizations, runs, tables

__all__ = ["organizations", "runs", "tables"]
