from django.apps import AppConfig


class CopilotConfig(AppConfig):
    name = "copilot"
    verbose_name = "Copilot"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from usage.imports.kinds import register_kind
        from usage.reporting.annotations import register_org_links
        from usage.signals import month_collected

        from .collection.report_kind import COPILOT_KIND
        from .collection.services import after_usage_month
        from .reporting.links import org_copilot_links

        month_collected.connect(after_usage_month, dispatch_uid="copilot.after_usage_month")
        register_org_links(org_copilot_links)
        register_kind(COPILOT_KIND)
