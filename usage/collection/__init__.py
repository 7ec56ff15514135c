"""Everything that writes usage: queueing months (`services`, `tasks` for beat), the
worker that collects them under the org's lease (`collect`, `ladder`, `locks`, `runs`),
one month replaced in one transaction (`ingest`, `ingest_rows`), the summary and budgets
(`extras`), reads the collection itself needs (`selectors`), and the receiver of
`installation_ready`.

May import `usage.models`, `usage.periods`, `accounts` and `billingdash`; never
`reporting`, `web` or `admin`.
"""
