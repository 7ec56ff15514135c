"""Alert channels and their delivery (e-mail, Slack, Microsoft Teams, signed webhooks).

Services for the rule engine: `alerts.services.delivery_enqueue(channel=, message=)`
with an `alerts.messages.Message`. Nothing outside this app imports it (settings and
URLs name it).
"""
