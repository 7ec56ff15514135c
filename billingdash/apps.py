"""The project package as a Django app: it owns what every other app stands on (the
database cache table, the Celery heartbeat), so that `migrate` alone prepares them."""

from django.apps import AppConfig


class BillingdashConfig(AppConfig):
    name = "billingdash"
    verbose_name = "billingdash"
