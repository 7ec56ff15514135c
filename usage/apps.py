from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "usage"
    verbose_name = "Billing usage"

    def ready(self) -> None:
        from accounts.signals import installation_ready
        from usage.collection.receivers import start_backfill

        installation_ready.connect(start_backfill, dispatch_uid="usage.start_backfill")

        from django.db.models.signals import post_delete

        from accounts.models import Organization
        from usage.signals import data_changed
        from usage.web import export_files

        # Kept CSV exports go with the data they copy: older versions' files once a new
        # version commits, all of an org's files when the org's data is deleted.
        data_changed.connect(export_files.drop_older, dispatch_uid="usage.exports_older")
        post_delete.connect(
            export_files.drop_org, sender=Organization, dispatch_uid="usage.exports_org"
        )
