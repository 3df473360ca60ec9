"""The contacts search's trigram indexes (0002) take each change at once, not through a
pending list.

A GIN index buffers new entries in a pending list by default (`fastupdate`), merged by
VACUUM or when it outgrows `gin_pending_list_limit`. Every activity logged moves its
contacts' `last_activity_at`, an indexed column, so each one adds entries to the three
indexes; a search must read the whole list, and the planner, counting it, turned to a
sequential scan of every contact: after one load benchmark the name search went from
8 to 88 ms on 100,000 contacts. Without the list each change costs its inserter a little
more and the search stays on the indexes.
"""

from django.db import migrations

INDEXES = ["contact_name_trgm", "contact_email_trgm", "contact_company_trgm"]


def without_pending_list(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(f"ALTER INDEX {index} SET (fastupdate = off)")
        # What the list holds already goes into the index now.
        schema_editor.execute(f"SELECT gin_clean_pending_list('{index}'::regclass)")


def with_pending_list(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(f"ALTER INDEX {index} RESET (fastupdate)")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0003_contact_search")]

    operations = [migrations.RunPython(without_pending_list, with_pending_list, elidable=False)]
