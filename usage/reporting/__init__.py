"""Reads for the pages: the filters shared by page, CSV and API (`filters`), every read of
the rollups (`reports`), line items (`lineitems`), budgets against spend
(`budget_lines`), the Plotly figures (`charts`, `ranked_charts`, `budget_chart`,
`chart_base`), display formatting, and an org's collection status in words (`status`).

May import `collection` (its selectors), `usage.models`, `usage.periods` and `accounts`;
never `web` or `admin`.
"""
