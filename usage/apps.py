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
        from usage.signals import data_changed
        from usage.web import export_files

        installation_ready.connect(start_backfill, dispatch_uid="usage.start_backfill")
        post_delete.connect(org_deleted, sender=Organization, dispatch_uid="usage.partitions")
        # Kept CSV exports go with the data they copy: older versions' files once a new
        # version commits, all of an org's files when the org's data is deleted.
        data_changed.connect(export_files.drop_older, dispatch_uid="usage.exports_older")
        post_delete.connect(
            export_files.drop_org, sender=Organization, dispatch_uid="usage.exports_org"
        )
