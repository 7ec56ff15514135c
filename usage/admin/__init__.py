"""Staff pages of the usage app (Django's admin imports this package).

- `site`: the admin of runs, usage rows, budgets and the heartbeat, plus the collection
  actions on the Organization admin that `accounts.admin` registers;
- `actions`: the staff operations those actions call ("collect now", "backfill");
- `ops`: the operations page `/staff/ops/`.

May import everything in `usage` and `accounts`; nothing in `usage` imports it.
"""

from usage.admin import site

__all__ = ["site"]
