from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "usage"
    verbose_name = "Billing usage"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from accounts.models import Organization
        from accounts.signals import installation_ready
        from usage.collection.partitions import org_deleted
        from usage.collection.receivers import start_backfill

        installation_ready.connect(start_backfill, dispatch_uid="usage.start_backfill")
        post_delete.connect(org_deleted, sender=Organization, dispatch_uid="usage.partitions")
