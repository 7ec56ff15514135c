"""The Celery app: configuration comes from Django settings under the CELERY_ namespace."""

import logging
import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger
from celery.worker import consumer, state

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billingdash.settings")

log = logging.getLogger(__name__)


class Consumer(consumer.Consumer):
    """Celery's consumer, surviving the loss of a Redis broker while it holds messages.

    Celery 5.7 closes the lost connection (``on_connection_error_after_connected``); with
    unacknowledged messages (an acks_late task running, a countdown waiting) kombu 5.7's
    Redis channel then restores them through a transport whose client is already gone,
    and the AttributeError it raises ended the worker ("Unrecoverable error"). Treat it
    as the broken connection it is: finish the clean-up and reconnect. Those messages
    stay in Redis for the visibility timeout (or are gone with a Redis that restarted
    empty); the sweepers re-send the work either way (tests/faults/test_redis_down.py).
    """

    def on_connection_error_after_connected(self, exc):
        try:
            super().on_connection_error_after_connected(exc)
        except AttributeError:
            log.warning("the lost broker connection could not be closed cleanly", exc_info=True)
            if self.app.conf.worker_cancel_long_running_tasks_on_connection_loss:
                # What the interrupted method had left to do.
                for request in tuple(state.active_requests):
                    if request.task.acks_late and not request.acknowledged:
                        request.cancel(self.pool)


def redact_celery_logs(logger: logging.Logger, **kwargs) -> None:
    """Celery (worker and beat) replaces the root logger's handlers with its own, which
    dropped the redaction filter of our LOGGING: put it on every handler Celery set up,
    for the root logger and for the task logger (``after_setup_logger``,
    ``after_setup_task_logger``). A filter on a handler sees every record it writes,
    including those propagated from other loggers and redirected stdout/stderr."""
    from billingdash.logging import RedactSecretsFilter

    for handler in logger.handlers:
        if not any(isinstance(f, RedactSecretsFilter) for f in handler.filters):
            handler.addFilter(RedactSecretsFilter())


after_setup_logger.connect(redact_celery_logs, weak=False, dispatch_uid="billingdash.redact")
after_setup_task_logger.connect(
    redact_celery_logs, weak=False, dispatch_uid="billingdash.redact-task"
)


app = Celery("billingdash")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.worker_consumer = "billingdash.celery:Consumer"
app.autodiscover_tasks()
