import logging

from django.apps import AppConfig
from django.conf import settings

log = logging.getLogger(__name__)


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from usage.reporting.annotations import register_day_markers, register_org_links
        from usage.signals import month_collected

        from .markers import anomaly_markers, org_alert_links
        from .receivers import evaluate_after_collection

        month_collected.connect(evaluate_after_collection, dispatch_uid="alerts.evaluate")
        register_day_markers(anomaly_markers)
        register_org_links(org_alert_links)
        if settings.ALERTS_ALLOWED_PRIVATE_NETWORKS or settings.ALERTS_ALLOW_HTTP:
            log.warning(
                "alerts: the SSRF guard has exceptions (ALERTS_ALLOWED_PRIVATE_NETWORKS=%s, "
                "ALERTS_ALLOW_HTTP=%s); meant for the demo and tests only",
                ",".join(settings.ALERTS_ALLOWED_PRIVATE_NETWORKS) or "-",
                settings.ALERTS_ALLOW_HTTP,
            )
