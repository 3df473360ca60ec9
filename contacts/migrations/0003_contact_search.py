"""A trigram full-text index for the contacts search on SQLite.

On SQLite `icontains` is `LIKE '%text%'`, which reads every contact of the workspace.
An FTS5 table with the trigram tokenizer (SQLite 3.34 and later) finds the contacts whose
name, email or company contains a text of three or more characters from its index. FTS5
rows are keyed by an integer, and a contact's own rowid is not stable (VACUUM and table
rebuilds renumber it), so `contacts_contact_search_key` gives each contact a fixed one.
Triggers keep both in step with every write, whoever makes it. A later migration that
rebuilds `contacts_contact` on SQLite drops the triggers and must create them again
(the search tests fail if it does not).

PostgreSQL needs none of this: the trigram indexes of 0002 serve `icontains`.
"""

from django.db import migrations

CREATE = [
    "CREATE TABLE contacts_contact_search_key ("
    " id INTEGER PRIMARY KEY, contact_id char(32) NOT NULL UNIQUE)",
    "CREATE VIRTUAL TABLE contacts_contact_search USING fts5("
    " name, email, company, tokenize = 'trigram')",
    """CREATE TRIGGER contacts_contact_search_insert AFTER INSERT ON contacts_contact
    BEGIN
        INSERT INTO contacts_contact_search_key (contact_id) VALUES (new.id);
        INSERT INTO contacts_contact_search (rowid, name, email, company)
        VALUES (last_insert_rowid(), new.name, new.email, new.company);
    END""",
    """CREATE TRIGGER contacts_contact_search_update
    AFTER UPDATE OF name, email, company ON contacts_contact
    WHEN old.name IS NOT new.name OR old.email IS NOT new.email
        OR old.company IS NOT new.company
    BEGIN
        UPDATE contacts_contact_search
        SET name = new.name, email = new.email, company = new.company
        WHERE rowid = (SELECT id FROM contacts_contact_search_key WHERE contact_id = new.id);
    END""",
    """CREATE TRIGGER contacts_contact_search_delete AFTER DELETE ON contacts_contact
    BEGIN
        DELETE FROM contacts_contact_search
        WHERE rowid = (SELECT id FROM contacts_contact_search_key WHERE contact_id = old.id);
        DELETE FROM contacts_contact_search_key WHERE contact_id = old.id;
    END""",
    "INSERT INTO contacts_contact_search_key (contact_id) SELECT id FROM contacts_contact",
    "INSERT INTO contacts_contact_search (rowid, name, email, company)"
    " SELECT k.id, c.name, c.email, c.company FROM contacts_contact_search_key k"
    " JOIN contacts_contact c ON c.id = k.contact_id",
]

DROP = [
    "DROP TRIGGER IF EXISTS contacts_contact_search_insert",
    "DROP TRIGGER IF EXISTS contacts_contact_search_update",
    "DROP TRIGGER IF EXISTS contacts_contact_search_delete",
    "DROP TABLE IF EXISTS contacts_contact_search",
    "DROP TABLE IF EXISTS contacts_contact_search_key",
]


def run(statements):
    def on_sqlite(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for statement in statements:
                schema_editor.execute(statement)

    return on_sqlite


class Migration(migrations.Migration):
    dependencies = [("contacts", "0002_trigram_search_indexes")]

    operations = [migrations.RunPython(run(CREATE), run(DROP), elidable=False)]
