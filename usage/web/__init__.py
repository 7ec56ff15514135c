"""The pages and APIs people and scripts use: the dashboard and overview (`views`), the
JSON API (`api`), the JSON list of the user's orgs with their states (`orgs_api`), the
CSV export (`exports`) and the wizard's progress poll (`progress`).
Each org-scoped view starts with the access helper.

May import `reporting`, `collection` (to queue "refresh now"), `usage.models` and
`accounts`; never `admin`.
"""
