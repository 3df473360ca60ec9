"""The contacts search's trigram indexes batch their changes again, in a short pending
list.

0004 turned GIN's pending list off: with the default limit (4 MB an index) it grew long
enough after a load benchmark that the planner turned the name search into a sequential
scan (8 → 88 ms on 100,000 contacts). Without it, though, each contact written or moved
updates the three indexes at once, entry by entry: importing contacts on PostgreSQL went
from 6,416 to 3,019 rows a second. Capped at 256 kB an index, the list still takes a
batch of changes in one merge, and a search reads at most 32 pending pages of each.
"""

from django.db import migrations

INDEXES = ["contact_name_trgm", "contact_email_trgm", "contact_company_trgm"]
PENDING_LIST_KB = 256


def with_short_pending_list(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(
            f"ALTER INDEX {index} SET (fastupdate = on, gin_pending_list_limit = {PENDING_LIST_KB})"
        )


def without_pending_list(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(f"ALTER INDEX {index} RESET (gin_pending_list_limit)")
        schema_editor.execute(f"ALTER INDEX {index} SET (fastupdate = off)")
        schema_editor.execute(f"SELECT gin_clean_pending_list('{index}'::regclass)")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0004_trigram_indexes_without_pending_list")]

    operations = [
        migrations.RunPython(with_short_pending_list, without_pending_list, elidable=False)
    ]
