from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "usage"
    verbose_name = "Billing usage"

    def ready(self) -> None:
        from accounts.signals import installation_ready
        from usage.collection.receivers import start_backfill

        installation_ready.connect(start_backfill, dispatch_uid="usage.start_backfill")
