"""A person's own data: deleting their billingdash account (page and JSON API).

May import `tokens`, `audit`, `models` and the GitHub client; nothing in `accounts`
below it imports it. Organizations' data retention is `accounts.installations.retention`.
"""
