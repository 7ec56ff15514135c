"""Alerts and digests: rules evaluated after every collection (budgets, projections,
anomalies, new spend, data stopped), fired once per rule, period and threshold; digests
in each subscriber's time zone; channels (e-mail, Slack, Microsoft Teams, signed
webhooks) and their delivery behind the SSRF guard.

The app sits above `usage` (it reads usage's models and reports); usage never imports it:
alerts connects to `usage.signals.month_collected` and fills usage's
`usage.reporting.annotations` registry in `AlertsConfig.ready`.
"""
