"""The GitHub App's webhooks: the endpoint (`POST /github/webhook/`, verified before it is
parsed, stored, deduplicated), the processing of each event (`handlers`), and the Celery
tasks that run and sweep it.

May import `roles`, `installations`, `tokens`, `organizations`, `audit` and `models`.
"""
