"""Contact search at scale: PostgreSQL answers it from trigram indexes."""

import pytest
from django.db import connection
from django.utils import timezone

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


TRIGRAM_INDEXES = ["contact_name_trgm", "contact_email_trgm", "contact_company_trgm"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's")
def test_the_trigram_indexes_keep_a_short_pending_list(db):
    """Changes go into the indexes in batches, through a pending list of 256 kB at most:
    each logged activity updates its contacts' rows, and a long list would make every
    search read it, or every contact."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s)", [TRIGRAM_INDEXES]
        )
        options = dict(cursor.fetchall())
    assert options == {
        name: ["fastupdate=on", "gin_pending_list_limit=256"] for name in TRIGRAM_INDEXES
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's")
def test_contact_updates_leave_at_most_the_capped_pending_list(workspace):
    contacts = Contact.objects.bulk_create(
        Contact(
            workspace=workspace,
            name=f"Person {i} Quartermaine-Ashby",
            email=f"person.{i}.quartermaine@example.com",
            company=f"Quartermaine Holdings {i}",
        )
        for i in range(3000)
    )
    for contact in contacts:  # one statement each, as activities arrive
        Contact.objects.filter(pk=contact.pk).update(last_activity_at=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pgstattuple")
        pending = {}
        for name in TRIGRAM_INDEXES:
            cursor.execute("SELECT pending_pages FROM pgstatginindex(%s)", [name])
            pending[name] = cursor.fetchone()[0]
    # 256 kB is 32 pages; the default limit (4 MB) would hold every change made here.
    assert max(pending.values()) <= 33, pending
