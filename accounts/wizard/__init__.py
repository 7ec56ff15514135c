"""The install wizard (`/orgs/<login>/install/`, `/install/`) and the App's Setup URL
(`/github/setup/`), where GitHub sends the browser back after an install.

May import `roles` (the access helper), `installations`, `tokens`, `audit` and `models`.
"""
