"""Copilot and AI credits: who uses which model, against the included quota.

Its own app above `usage` (it reads usage's Copilot lines and reuses its collection
machinery; usage never imports it). Parts, top to bottom: `urls`; `admin | views | api`;
`reporting` (selectors, charts); `collection` (GitHub's Copilot endpoints, the per-user
budget, the report import); `quotas`; `models`.
"""
