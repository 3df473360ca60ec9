"""Contact search at scale: PostgreSQL answers it from trigram indexes."""

import pytest
from django.db import connection

from contacts.models import Contact


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's")
def test_contact_search_uses_the_trigram_indexes(workspace):
    Contact.objects.bulk_create(
        Contact(workspace=workspace, name=f"Person {i}", email=f"p{i}@example.com")
        for i in range(2000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_contact")
        cursor.execute("SET enable_seqscan = off")
    query = Contact.objects.filter(name__icontains="son 12") | Contact.objects.filter(
        email__icontains="p12@"
    )
    plan = query.explain()
    assert "contact_name_trgm" in plan
    assert "contact_email_trgm" in plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's")
def test_the_trigram_indexes_take_changes_without_a_pending_list(db):
    """Each logged activity updates its contacts' rows; through GIN's pending list those
    updates would make every search read the list, or every contact."""
    names = ["contact_name_trgm", "contact_email_trgm", "contact_company_trgm"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s)", [names])
        options = dict(cursor.fetchall())
    assert options == {name: ["fastupdate=off"] for name in names}
