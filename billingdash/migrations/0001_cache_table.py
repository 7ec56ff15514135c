"""The database cache's table (`CACHES["default"]`, `billingdash_cache`).

Django makes it with `createcachetable`, a step a standard deploy (`migrate` +
`collectstatic`) does not run: without it every install callback and collection task
failed. This migration runs the same command, so `migrate` prepares it; the command is
idempotent (an existing table is left as it is).
"""

from django.conf import settings
from django.core.management import call_command
from django.db import migrations


def cache_tables() -> list[str]:
    return [
        c["LOCATION"]
        for c in settings.CACHES.values()
        if c["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    ]


def create(apps, schema_editor) -> None:
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


def drop(apps, schema_editor) -> None:
    for table in cache_tables():
        schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(table)}")


class Migration(migrations.Migration):
    dependencies: list = []
    operations = [migrations.RunPython(create, drop, elidable=False)]
