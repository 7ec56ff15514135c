"""Installations of our GitHub App: what GitHub tells us (webhook payloads, `GET
/app/installations`) recorded once (`services`), the periodic reconciliation (`tasks`),
the signed install `state` (`install_state`), and an installation described in words with
the org's owners (`install_status`).

May import `tokens`, `organizations`, `audit`, `signals` and `models`; never `roles` or
anything above it.
"""
