"""`ServiceHeartbeat` moved from `usage` to `billingdash` (Django's state only: the table
`usage_serviceheartbeat` stays as it is; `usage.0004_move_heartbeat` drops it from usage's
state)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billingdash", "0001_cache_table"),
        ("usage", "0003_service_heartbeat"),
    ]
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ServiceHeartbeat",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(default="celery", max_length=50, unique=True)),
                        (
                            "beat_seen_at",
                            models.DateTimeField(
                                blank=True,
                                help_text="When beat sent the last heartbeat that ran.",
                                null=True,
                            ),
                        ),
                        (
                            "worker_seen_at",
                            models.DateTimeField(
                                blank=True, help_text="When a worker last ran a heartbeat.", null=True
                            ),
                        ),
                        ("worker_hostname", models.CharField(blank=True, max_length=200)),
                    ],
                    options={"db_table": "usage_serviceheartbeat"},
                )
            ],
            database_operations=[],
        )
    ]
