"""Trigram indexes for the contacts search on PostgreSQL.

The search is `icontains` on name, email and company, which PostgreSQL runs as
`UPPER(col) LIKE UPPER('%text%')`; a GIN trigram index on `UPPER(col)` serves it without
reading every contact. SQLite has no such index and scans.
"""

from django.db import migrations

COLUMNS = ["name", "email", "company"]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS contact_{column}_trgm ON contacts_contact "
            f"USING gin (UPPER({column}) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS contact_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
