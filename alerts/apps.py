import logging

from django.apps import AppConfig
from django.conf import settings

log = logging.getLogger(__name__)


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        if settings.ALERTS_ALLOWED_PRIVATE_NETWORKS or settings.ALERTS_ALLOW_HTTP:
            log.warning(
                "alerts: the SSRF guard has exceptions (ALERTS_ALLOWED_PRIVATE_NETWORKS=%s, "
                "ALERTS_ALLOW_HTTP=%s); meant for the demo and tests only",
                ",".join(settings.ALERTS_ALLOWED_PRIVATE_NETWORKS) or "-",
                settings.ALERTS_ALLOW_HTTP,
            )
