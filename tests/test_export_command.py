"""manage.py export_timeline: a contact's timeline or the feed as CSV, the same file as the
pages' export for the same filters, read in keyset chunks."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from activities import exporting, services, timeline
from activities.services import Actor
from contacts.models import Contact

WHEN = datetime(2024, 3, 10, 12, tzinfo=UTC)


def export(*args) -> str:
    out = io.StringIO()
    call_command("export_timeline", *args, stdout=out)
    return out.getvalue()


def page_export(client, url: str, query: dict) -> str:
    response = client.get(url, query)
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


@pytest.fixture
def entries(workspace, contact, owner):
    """A few entries on Dana's timeline and one on someone else's."""
    other = Contact.objects.create(workspace=workspace, name="Fox Mulder", external_id="fox")
    actor = Actor.of(owner)

    def log(type_key, day, title, contacts=(contact,), **fields):
        return services.log_activity(
            workspace=workspace,
            type_key=type_key,
            contacts=list(contacts),
            actor=actor,
            occurred_at=WHEN.replace(day=day),
            title=title,
            **fields,
        )[0]

    log("call", 1, "=cmd|' /C calc'!A0", body="Formula-looking title")
    log("email", 5, "Quarterly review", body="Line one\nline two, with a comma", external_id="e-5")
    log("call", 9, "Follow-up", contacts=(contact, other))
    log("meeting", 12, "Not Dana's", contacts=(other,))
    log("note_created", 20, "Later note")


def test_a_contact_export_equals_the_page_export(owner_client, workspace, contact, entries):
    url = reverse("contact-timeline-csv", args=[contact.pk])
    assert export("acme", "--contact", str(contact.pk)) == page_export(owner_client, url, {})
    filtered = export(
        "acme", "--contact", str(contact.pk), "--type", "call", "--type", "email",
        "--since", "2024-03-02", "--until", "2024-03-09",
    )  # fmt: skip
    query = {"type": ["call", "email"], "since": "2024-03-02", "until": "2024-03-09"}
    assert filtered == page_export(owner_client, url, query)
    rows = list(csv.reader(io.StringIO(filtered)))
    assert rows[0] == exporting.CSV_HEADER
    assert [row[3] for row in rows[1:]] == ["Follow-up", "Quarterly review"]
    assert rows[1][7] == "Dana Scully; Fox Mulder"
    assert rows[2][8] == "e-5"


def test_the_feed_export_equals_the_page_export(owner_client, workspace, entries):
    url = reverse("activity-feed-csv")
    assert export("acme") == page_export(owner_client, url, {})
    assert export("acme", "--text", "review", "--source", "ui") == page_export(
        owner_client, url, {"q": "review", "source": "ui"}
    )
    rows = list(csv.reader(io.StringIO(export("acme"))))
    assert [row[3] for row in rows[1:]] == [
        "Later note",
        "Not Dana's",
        "Follow-up",
        "Quarterly review",
        "'=cmd|' /C calc'!A0",  # a spreadsheet shows it as text, never runs it
    ]


def test_a_contact_is_found_by_its_external_id(workspace, entries):
    rows = list(csv.reader(io.StringIO(export("acme", "--contact", "fox"))))
    assert [row[3] for row in rows[1:]] == ["Not Dana's", "Follow-up"]


def test_the_export_is_read_in_keyset_chunks(workspace, contact, entries, monkeypatch):
    chunks = []
    iter_all = timeline.iter_all

    def small_chunks(rows, chunk=1000):
        for entries in iter_all(rows, chunk=2):
            chunks.append(len(entries))
            yield entries

    monkeypatch.setattr(timeline, "iter_all", small_chunks)
    rows = list(csv.reader(io.StringIO(export("acme", "--contact", str(contact.pk)))))
    assert chunks == [2, 2]
    assert [row[3] for row in rows[1:]] == [
        "Later note",
        "Follow-up",
        "Quarterly review",
        "'=cmd|' /C calc'!A0",
    ]


def test_the_export_goes_to_a_file(tmp_path, workspace, contact, entries):
    path = tmp_path / "timeline.csv"
    out = io.StringIO()
    call_command(
        "export_timeline", "acme", "--contact", str(contact.pk), "-o", str(path), stdout=out
    )
    assert out.getvalue() == f"Wrote 4 entries to {path}.\n"
    with open(path, newline="", encoding="utf-8") as file:
        assert file.read() == export("acme", "--contact", str(contact.pk))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "No workspace"),
        (["acme", "--type", "unknown"], "Invalid filters"),
        (["acme", "--since", "last week"], "Invalid filters"),
        (["acme", "--contact", "nobody"], "No contact"),
    ],
)
def test_bad_arguments_are_errors(workspace, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("export_timeline", *args, stdout=io.StringIO())


def test_another_workspaces_contact_is_not_found(workspace, outsider_contact):
    with pytest.raises(CommandError, match="No contact"):
        call_command(
            "export_timeline", "acme", "--contact", str(outsider_contact.pk), stdout=io.StringIO()
        )


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's page cache")
def test_the_export_reads_through_a_small_page_cache(workspace, contact, entries):
    """The settings give each connection 62.5 MiB; an export, which reads each page once,
    would only grow by it."""

    def cache_size(size: int | None = None) -> int:
        with connection.cursor() as cursor:
            if size is not None:
                cursor.execute(f"PRAGMA cache_size = {size}")
            cursor.execute("PRAGMA cache_size")
            return cursor.fetchone()[0]

    before = cache_size()
    try:
        assert cache_size(-64000) == -64000
        export("acme", "--contact", str(contact.pk))
        assert cache_size() == -2000
    finally:
        cache_size(before)
