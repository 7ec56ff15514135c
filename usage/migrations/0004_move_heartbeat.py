"""`ServiceHeartbeat` moved to `billingdash` (state only; the table stays, see
billingdash.0002_serviceheartbeat)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("usage", "0003_service_heartbeat"),
        ("billingdash", "0002_serviceheartbeat"),
    ]
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ServiceHeartbeat")],
            database_operations=[],
        )
    ]
