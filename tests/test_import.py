"""manage.py import_contacts and import_activities: streaming, batched, idempotent imports
from CSV and JSON Lines, with bad rows reported by line number while the others load."""

import io
import json
import os
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import DataError, OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape, linebreaks, urlize

from activities import bulk, services
from activities.models import Activity, ActivityContact, ActivityType
from activities.text import render_text
from contacts.models import Contact

CONTACTS_HEADER = "name,email,phone,company,external_id,avatar_url,custom_fields\n"
ACTIVITIES_HEADER = "external_id,type,occurred_at,contacts,title,body,metadata,ended_at\n"


def run(command: str, *args, **options) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(command, *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def run_failing(command: str, *args, **options) -> tuple[str, str, CommandError]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command(command, *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue(), raised.value


def last_line(out: str) -> str:
    return out.strip().splitlines()[-1]


def write(tmp_path, name: str, text: str | bytes):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def people(workspace) -> dict[str, Contact]:
    """Three contacts of the workspace with external ids p1..p3."""
    return {
        f"p{n}": Contact.objects.create(
            workspace=workspace, name=f"Person {n}", external_id=f"p{n}"
        )
        for n in (1, 2, 3)
    }


# Contacts


def test_contacts_import_from_csv(tmp_path, workspace):
    path = write(
        tmp_path,
        "contacts.csv",
        CONTACTS_HEADER
        + "Dana Scully,dana@fbi.example,+1 555,FBI,c-1,https://img.example/d.png,"
        + '"{""title"": ""Agent""}"\n'
        + "Fox Mulder,,,,,,\n",
    )
    out, err = run("import_contacts", "acme", path)
    assert last_line(out) == "imported 2, skipped 0 (already present), failed 0"
    assert err == ""
    dana = Contact.objects.get(workspace=workspace, external_id="c-1")
    assert (dana.name, dana.email, dana.phone, dana.company) == (
        "Dana Scully",
        "dana@fbi.example",
        "+1 555",
        "FBI",
    )
    assert dana.avatar_url == "https://img.example/d.png"
    assert dana.custom_fields == {"title": "Agent"}
    fox = Contact.objects.get(workspace=workspace, name="Fox Mulder")
    assert fox.external_id is None and fox.email == "" and fox.custom_fields == {}
    assert not Activity.objects.exists()  # creating contacts writes no entries


def test_contacts_import_from_jsonl_by_workspace_id(tmp_path, workspace):
    lines = [
        {"name": "Dana Scully", "external_id": 2400, "custom_fields": {"plan": "pro"}},
        {"name": "Fox Mulder", "email": "fox@fbi.example", "external_id": None},
    ]
    path = write(tmp_path, "contacts.jsonl", "\n".join(json.dumps(line) for line in lines))
    out, _ = run("import_contacts", str(workspace.pk), path)
    assert last_line(out) == "imported 2, skipped 0 (already present), failed 0"
    assert Contact.objects.get(external_id="2400").custom_fields == {"plan": "pro"}
    assert Contact.objects.get(name="Fox Mulder").email == "fox@fbi.example"


def test_bad_contact_rows_are_reported_with_their_lines_while_good_rows_load(tmp_path, workspace):
    path = write(
        tmp_path,
        "contacts.csv",
        CONTACTS_HEADER
        + "Good One,,,,g1,,\n"  # line 2
        + ",nobody@example.com,,,,,\n"  # 3: no name
        + "Bad Email,not-an-email,,,,,\n"  # 4
        + "Bad Json,,,,,,{oops\n"  # 5
        + f"{'x' * 201},,,,,,\n"  # 6: too long
        + "Bad Url,,,,,javascript:alert(1),\n"  # 7
        + "Too Few,,\n"  # 8
        + "Good Two,,,,g2,,\n",  # 9
    )
    out, err = run("import_contacts", "acme", path)
    assert last_line(out) == "imported 2, skipped 0 (already present), failed 6"
    assert err.splitlines() == [
        "line 3: name: required",
        "line 4: email: 'not-an-email' is not an email address",
        "line 5: custom_fields: not valid JSON",
        "line 6: name: at most 200 characters (this one has 201)",
        "line 7: avatar_url: 'javascript:alert(1)' is not a URL",
        "line 8: 3 values, but the header has 7 columns",
    ]
    assert set(Contact.objects.values_list("external_id", flat=True)) == {"g1", "g2"}


def test_importing_contacts_again_skips_those_with_an_external_id(tmp_path, workspace):
    path = write(
        tmp_path, "contacts.csv", CONTACTS_HEADER + "A,,,,a1,,\nB,,,,a2,,\nA again,,,,a1,,\n"
    )
    out, _ = run("import_contacts", "acme", path)
    assert last_line(out) == "imported 2, skipped 1 (already present), failed 0"
    out, _ = run("import_contacts", "acme", path)
    assert last_line(out) == "imported 0, skipped 3 (already present), failed 0"
    assert Contact.objects.count() == 2
    assert Contact.objects.get(external_id="a1").name == "A"


def test_update_replaces_the_non_empty_values_of_existing_contacts(tmp_path, workspace):
    dana = Contact.objects.create(
        workspace=workspace,
        name="Dana",
        email="old@fbi.example",
        company="FBI",
        external_id="d1",
        custom_fields={"plan": "free", "title": "Agent"},
    )
    before = dana.updated_at
    path = write(
        tmp_path,
        "contacts.csv",
        CONTACTS_HEADER
        + 'Dana Scully,new@fbi.example,,,d1,,"{""plan"": ""pro""}"\n'
        + "New Person,,,,n1,,\n",
    )
    out, _ = run("import_contacts", "acme", path, "--update")
    assert last_line(out) == "imported 1, updated 1, skipped 0 (already present), failed 0"
    dana.refresh_from_db()
    assert (dana.name, dana.email, dana.company) == ("Dana Scully", "new@fbi.example", "FBI")
    assert dana.custom_fields == {"plan": "pro", "title": "Agent"}
    assert dana.updated_at > before
    out, _ = run("import_contacts", "acme", path, "--update")
    assert last_line(out) == "imported 0, updated 0, skipped 2 (already present), failed 0"


def test_blocked_and_unsubscribed_are_not_importable(tmp_path, workspace):
    path = write(tmp_path, "contacts.csv", "name,blocked,unsubscribed\nDana,true,true\n")
    out, err = run("import_contacts", "acme", path)
    assert last_line(out) == "imported 1, skipped 0 (already present), failed 0"
    assert "Ignoring the column(s) blocked, unsubscribed" in err
    dana = Contact.objects.get(name="Dana")
    assert not dana.blocked and not dana.unsubscribed


def test_a_header_with_a_byte_order_mark_is_read(tmp_path, workspace):
    path = write(tmp_path, "contacts.csv", "\ufeffname,external_id\r\nDana,d1\r\n".encode())
    out, _ = run("import_contacts", "acme", path)
    assert last_line(out) == "imported 1, skipped 0 (already present), failed 0"


# Activities


def test_activities_land_on_their_contacts_timelines(tmp_path, workspace, people):
    path = write(
        tmp_path,
        "activities.csv",
        "external_id,type,type_name,occurred_at,ended_at,contacts,title,body,actor_name,"
        "category,status,priority,campaign_id,asset_type,asset_name,object_type,object_id,"
        "metadata\n"
        "e1,call,,2024-03-01T10:00:00+01:00,2024-03-01T10:30:00+01:00,p1,Call,"
        '"Hi <b>Dana</b>\nsee https://acme.example.com",Maya,sales,done,high,cmp-1,'
        'pdf,Deck,deal,42,"{""duration"": 1800}"\n'
        f"e2,webinar:attended,Attended a webinar,2024-03-02 09:00,,p1;{people['p2'].pk},"
        "Webinar,,,,,,,,,,,\n",
    )
    out, err = run("import_activities", "acme", path)
    assert last_line(out) == "imported 2, skipped 0 (already present), failed 0"
    assert err == ""

    call = Activity.objects.get(external_id="e1")
    assert call.workspace == workspace
    assert call.type.key == "call"
    assert call.source == Activity.Source.IMPORT
    assert call.occurred_at == datetime(2024, 3, 1, 9, tzinfo=UTC)
    assert call.ended_at == datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
    assert call.body_html == render_text(call.body)
    assert "&lt;b&gt;Dana&lt;/b&gt;" in call.body_html
    assert '<a href="https://acme.example.com" rel="nofollow">' in call.body_html
    assert (call.actor_name, call.actor_kind) == ("Maya", Activity.ActorKind.INTEGRATION)
    assert (call.category, call.status, call.priority) == ("sales", "done", "high")
    assert (call.campaign_id, call.asset_type, call.asset_name) == ("cmp-1", "pdf", "Deck")
    assert (call.object_type, call.object_id) == ("deal", "42")
    assert call.metadata == {"duration": 1800}

    webinar = Activity.objects.get(external_id="e2")
    new_type = ActivityType.objects.get(workspace=workspace, key="webinar:attended")
    assert webinar.type == new_type
    assert new_type.name == "Attended a webinar"
    assert webinar.occurred_at == datetime(2024, 3, 2, 9, tzinfo=UTC)  # naive is UTC
    assert webinar.body_html == ""

    links = ActivityContact.objects.filter(activity__in=[call, webinar])
    assert {(link.activity.external_id, link.contact.external_id) for link in links} == {
        ("e1", "p1"),
        ("e2", "p1"),
        ("e2", "p2"),
    }
    for link in links:
        assert link.occurred_at == link.activity.occurred_at
        assert link.type_id == link.activity.type_id
    people["p1"].refresh_from_db()
    people["p2"].refresh_from_db()
    assert people["p1"].last_activity_at == webinar.occurred_at
    assert people["p2"].last_activity_at == webinar.occurred_at


def test_activities_import_from_jsonl(tmp_path, workspace):
    eloqua = Contact.objects.create(workspace=workspace, name="Dana", external_id="2400")
    lines = [
        {
            "external_id": 1,
            "type": "email",
            "occurred_at": "2024-03-01T10:00:00Z",
            "contacts": [2400],
            "title": "Opened",
            "metadata": {"campaign": "spring"},
        },
        {"type": "note_created", "occurred_at": "2024-03-02", "contacts": "2400", "body": "x"},
    ]
    path = write(tmp_path, "activities.jsonl", "\n".join(json.dumps(line) for line in lines))
    out, _ = run("import_activities", "acme", path)
    assert last_line(out) == "imported 2, skipped 0 (already present), failed 0"
    opened = Activity.objects.get(external_id="1")
    assert opened.metadata == {"campaign": "spring"}
    assert list(opened.contacts.all()) == [eloqua]
    note = Activity.objects.get(type__key="note_created")
    assert note.occurred_at == datetime(2024, 3, 2, tzinfo=UTC)
    assert note.body_html == "<p>x</p>"


def test_bad_activity_rows_are_reported_with_their_lines_while_good_rows_load(
    tmp_path, workspace, people
):
    path = write(
        tmp_path,
        "activities.csv",
        ACTIVITIES_HEADER
        + 'a1,call,2024-03-01T10:00:00Z,p1,Good,"two\nlines",,\n'  # lines 2-3
        + "a2,call,yesterday,p1,Bad date,,,\n"  # 4
        + "a3,call,2024-03-01T10:00:00Z,nobody;p2,Unknown contact,,,\n"  # 5
        + f"a4,call,2024-03-01T10:00:00Z,p1,{'t' * 501},,,\n"  # 6
        + "a5,call,2024-03-01T10:00:00Z,p1,Ends first,,,2024-03-01T09:00:00Z\n"  # 7
        + "a6,call,2024-03-01T10:00:00Z,p1,Bad metadata,,{oops,\n"  # 8
        + 'a7,call,2024-03-01T10:00:00Z,p1,Not an object,,"[1, 2]",\n'  # 9
        + "a8,,,,,,,\n"  # 10
        + "a9,call,2024-03-02T10:00:00Z,p2,Good too,,,\n",  # 11
    )
    out, err = run("import_activities", "acme", path)
    assert last_line(out) == "imported 2, skipped 0 (already present), failed 7"
    assert err.splitlines() == [
        "line 4: occurred_at: 'yesterday' is not an ISO 8601 date and time",
        "line 5: contacts: no contact of this workspace has the id or external id 'nobody'",
        "line 6: title: at most 500 characters (this one has 501)",
        "line 7: ended_at: must not be before occurred_at",
        "line 8: metadata: not valid JSON",
        "line 9: metadata: must be a JSON object",
        "line 10: occurred_at: required; contacts: required (contact ids or external ids, "
        "separated by ';'); type: required (an activity type key such as call or api:message)",
    ]
    assert set(Activity.objects.values_list("external_id", flat=True)) == {"a1", "a9"}


def test_a_refused_row_creates_no_type(tmp_path, workspace, people):
    path = write(tmp_path, "a.csv", ACTIVITIES_HEADER + "x,brand-new,not a date,p1,,,,\n")
    run("import_activities", "acme", path)
    assert not ActivityType.objects.filter(key="brand-new").exists()


def test_importing_activities_again_stores_no_duplicates(tmp_path, workspace, people):
    path = write(
        tmp_path,
        "activities.csv",
        ACTIVITIES_HEADER
        + "a1,call,2024-03-01T10:00:00Z,p1,One,,,\n"
        + "a2,call,2024-03-02T10:00:00Z,p1;p2,Two,,,\n"
        + "a1,email,2024-03-03T10:00:00Z,p3,One again,,,\n"
        + "a3,call,never,p1,Bad,,,\n",
    )
    out, _ = run("import_activities", "acme", path)
    assert last_line(out) == "imported 2, skipped 1 (already present), failed 1"
    out, _ = run("import_activities", "acme", path, "--batch-size", "1")
    assert last_line(out) == "imported 0, skipped 3 (already present), failed 1"
    assert Activity.objects.count() == 2
    assert ActivityContact.objects.count() == 3
    assert Activity.objects.get(external_id="a1").title == "One"


def test_rows_without_an_external_id_are_always_inserted(tmp_path, workspace, people):
    path = write(tmp_path, "a.csv", ACTIVITIES_HEADER + ",call,2024-03-01T10:00:00Z,p1,,,,\n")
    run("import_activities", "acme", path)
    out, _ = run("import_activities", "acme", path)
    assert last_line(out) == "imported 1, skipped 0 (already present), failed 0"
    assert Activity.objects.count() == 2


def test_last_activity_at_is_the_latest_past_entry(tmp_path, workspace, people):
    p1, p2 = people["p1"], people["p2"]
    later = timezone.now() - timedelta(days=1)
    Contact.objects.filter(pk=p2.pk).update(last_activity_at=later)
    future = (timezone.now() + timedelta(days=30)).isoformat()
    path = write(
        tmp_path,
        "a.csv",
        ACTIVITIES_HEADER
        + "a1,call,2024-03-01T10:00:00Z,p1;p2,,,,\n"
        + "a2,call,2024-05-01T10:00:00Z,p1,,,,\n"
        + "a3,call,2024-04-01T10:00:00Z,p1,,,,\n"
        + f"a4,meeting,{future},p1;p2;p3,,,,\n",
    )
    run("import_activities", "acme", path, "--batch-size", "2")
    for contact in people.values():
        contact.refresh_from_db()
    assert p1.last_activity_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert p2.last_activity_at == later  # a later stored entry stays the latest
    assert people["p3"].last_activity_at is None  # only a scheduled one


def test_contacts_are_found_by_id_and_by_external_id(tmp_path, workspace, contact, people):
    path = write(
        tmp_path,
        "a.csv",
        ACTIVITIES_HEADER + f"a1,call,2024-03-01T10:00:00Z, {contact.pk} ; p1 ;,,,,\n",
    )
    out, _ = run("import_activities", "acme", path)
    assert last_line(out) == "imported 1, skipped 0 (already present), failed 0"
    assert set(Activity.objects.get().contacts.all()) == {contact, people["p1"]}


def test_another_workspaces_contacts_are_not_found(
    tmp_path, workspace, other_workspace, outsider_contact
):
    Contact.objects.filter(pk=outsider_contact.pk).update(external_id="theirs")
    path = write(
        tmp_path,
        "a.csv",
        ACTIVITIES_HEADER
        + "a1,call,2024-03-01T10:00:00Z,theirs,,,,\n"
        + f"a2,call,2024-03-01T10:00:00Z,{outsider_contact.pk},,,,\n",
    )
    out, err = run("import_activities", "acme", path)
    assert last_line(out) == "imported 0, skipped 0 (already present), failed 2"
    assert (
        "line 2: contacts: no contact of this workspace has the id or external id 'theirs'" in err
    )
    assert not Activity.objects.exists()
    assert not ActivityContact.objects.filter(contact=outsider_contact).exists()


def test_external_ids_are_per_workspace(tmp_path, workspace, other_workspace, people):
    Contact.objects.create(workspace=other_workspace, name="Twin", external_id="p1")
    path = write(tmp_path, "a.csv", ACTIVITIES_HEADER + "a1,call,2024-03-01T10:00:00Z,p1,,,,\n")
    run("import_activities", "globex", path)
    run("import_activities", "acme", path)
    assert Activity.objects.filter(external_id="a1").count() == 2
    assert Activity.objects.get(workspace=workspace).contacts.get() == people["p1"]


# Damaged files


def test_a_jsonl_line_that_is_not_json_is_reported_and_the_others_load(tmp_path, workspace, people):
    good = {"type": "call", "occurred_at": "2024-03-01T10:00:00Z", "contacts": "p1"}
    text = "\n".join(
        [
            json.dumps(good | {"external_id": "a1"}),
            '{"type": "call", "occurred_at": ',  # line 2: cut short
            "",
            "[1, 2]",  # line 4
            json.dumps(good | {"external_id": "a5", "occurred_at": float("nan")}),  # line 5
            json.dumps(good | {"external_id": "a6"}),
        ]
    )
    path = write(tmp_path, "a.jsonl", text)
    out, err = run("import_activities", "acme", path)
    assert last_line(out) == "imported 2, skipped 0 (already present), failed 3"
    lines = err.splitlines()
    assert lines[0].startswith("line 2: not valid JSON: Expecting value at column ")
    assert lines[1] == "line 4: not a JSON object"
    assert lines[2] == "line 5: not valid JSON: NaN is not a number that can be stored"
    assert set(Activity.objects.values_list("external_id", flat=True)) == {"a1", "a6"}


def test_invalid_utf8_in_the_middle_of_a_csv_fails_that_record_only(tmp_path, workspace, people):
    content = (
        ACTIVITIES_HEADER.encode()
        + b"a1,call,2024-03-01T10:00:00Z,p1,Caf\xc3\xa9,,,\n"  # line 2: fine
        + b'a2,call,2024-03-01T10:00:00Z,p1,Caf\xe9,"more\n\xff",,\n'  # lines 3-4
        + b"a3,call,2024-03-01T10:00:00Z,p1,Nul\x00,,,\n"  # line 5
        + b'a4,call,2024-03-01T10:00:00Z,p1,Fine,"but\n\xff",,\n'  # lines 6-7
        + b"a5,call,2024-03-01T10:00:00Z,p1,After,,,\n"
    )
    path = write(tmp_path, "a.csv", content)
    out, err = run("import_activities", "acme", path)
    assert last_line(out) == "imported 2, skipped 0 (already present), failed 3"
    assert err.splitlines() == [
        "line 3: not valid UTF-8 (byte 0xE9)",
        "line 5: holds a NUL character",
        "line 6: line 7 is not valid UTF-8 (byte 0xFF)",
    ]
    assert Activity.objects.get(external_id="a1").title == "Café"
    assert Activity.objects.filter(external_id="a5").exists()


def test_a_quote_never_closed_stops_reading_and_keeps_the_rows_before(tmp_path, workspace, people):
    csv_text = (
        ACTIVITIES_HEADER
        + "a1,call,2024-03-01T10:00:00Z,p1,Fine,,,\n"
        + "a2,call,2024-03-01T10:00:00Z,p1,Fine,,,\n"
        + 'a3,call,2024-03-01T10:00:00Z,p1,"Never closed,,,\n'  # line 4
        + ("x" * 1000 + "\n") * 200
    )
    path = write(tmp_path, "a.csv", csv_text)
    out, _, error = run_failing("import_activities", "acme", path, "--batch-size", "1")
    assert "line 4: malformed CSV (field larger than field limit" in str(error)
    assert last_line(out) == "imported 2, skipped 0 (already present), failed 0"
    assert Activity.objects.count() == 2


ROWS = b"call,2024-03-01T10:00:00Z,p1\n" * 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (b"\n\n", "The file is empty"),
        (b"type,occurred_at\n" + ROWS, "line 1: the header lacks the column(s) contacts"),
        (
            b"type,occurred_at,contacts,Type\n" + ROWS,
            "line 1: the header repeats the column(s) type",
        ),
        (b"type,,occurred_at,contacts\n" + ROWS, "line 1: the header has a column without a name"),
        (
            b"type,occ\xffurred_at,contacts\n" + ROWS,
            "line 1: the header cannot be read: not valid UTF-8",
        ),
        (b'"type,occurred_at,contacts\n' + ROWS, "line 3: the header lacks the column(s) type"),
    ],
)
def test_a_file_that_cannot_be_read_fails_before_writing(
    tmp_path, workspace, people, content, message
):
    path = write(tmp_path, "a.csv", content)
    out, _, error = run_failing("import_activities", "acme", path)
    assert str(error).startswith(message)
    assert last_line(out) == "imported 0, skipped 0 (already present), failed 0"
    assert not Activity.objects.exists()


def test_a_batch_the_database_refuses_is_reported_and_the_others_load(
    tmp_path, workspace, people, monkeypatch
):
    write_batch = services.import_activity_batch
    calls = []

    def flaky(**kwargs):
        calls.append(len(kwargs["rows"]))
        if len(calls) == 2:
            raise DataError("value too long")
        return write_batch(**kwargs)

    monkeypatch.setattr(services, "import_activity_batch", flaky)
    rows = "".join(f"a{n},call,2024-03-01T10:00:00Z,p1,,,,\n" for n in range(1, 6))
    path = write(tmp_path, "a.csv", ACTIVITIES_HEADER + rows)
    out, err = run("import_activities", "acme", path, "--batch-size", "2")
    assert err.splitlines() == [
        "lines 4-5: the batch of 2 rows was not saved (DataError: value too long)"
    ]
    assert last_line(out) == "imported 3, skipped 0 (already present), failed 2"
    assert set(Activity.objects.values_list("external_id", flat=True)) == {"a1", "a2", "a5"}


def on_batch(monkeypatch, number: int, act: Callable[[], None]) -> None:
    """Call `act` as the import writes its batch `number` (counting from 1)."""
    write_batch = services.import_activity_batch
    calls = []

    def acting(**kwargs):
        calls.append(len(kwargs["rows"]))
        if len(calls) == number:
            act()
        return write_batch(**kwargs)

    monkeypatch.setattr(services, "import_activity_batch", acting)


def raising(error: BaseException) -> Callable[[], None]:
    def act():
        raise error

    return act


def minutes_rows(count: int, contact: str) -> str:
    return "".join(
        f"a{n},call,2024-03-01T10:{n:02}:00Z,{contact},,,,\n" for n in range(1, count + 1)
    )


def test_a_database_failure_leaves_the_written_rows_contacts_up_to_date(
    tmp_path, workspace, people, monkeypatch
):
    on_batch(monkeypatch, 2, raising(OperationalError("server closed the connection")))
    path = write(tmp_path, "a.csv", ACTIVITIES_HEADER + minutes_rows(4, "p1"))
    out, _, error = run_failing("import_activities", "acme", path, "--batch-size", "2")
    assert str(error) == "line 4: the database failed; stopped"
    assert last_line(out) == "imported 2, skipped 0 (already present), failed 2"
    people["p1"].refresh_from_db()
    assert people["p1"].last_activity_at == datetime(2024, 3, 1, 10, 2, tzinfo=UTC)


def sigterm():
    os.kill(os.getpid(), signal.SIGTERM)


@pytest.mark.parametrize(
    "interrupt", [raising(KeyboardInterrupt()), sigterm], ids=["ctrl-c", "sigterm"]
)
def test_an_interrupted_import_moves_the_last_activity_of_what_it_wrote(
    tmp_path, workspace, people, monkeypatch, interrupt
):
    on_batch(monkeypatch, 23, interrupt)
    path = write(tmp_path, "a.csv", ACTIVITIES_HEADER + minutes_rows(30, "p1"))
    on_terminate = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):
        run("import_activities", "acme", path, "--batch-size", "1")
    assert Activity.objects.count() == 22
    people["p1"].refresh_from_db()
    assert people["p1"].last_activity_at == datetime(2024, 3, 1, 10, 22, tzinfo=UTC)
    assert signal.getsignal(signal.SIGTERM) is on_terminate


def test_an_import_moves_last_activity_times_once(tmp_path, workspace, people, monkeypatch):
    moves = []
    advance = services.advance_last_activity

    def recorded(latest):
        moves.append(dict(latest))
        advance(latest)

    monkeypatch.setattr(services, "advance_last_activity", recorded)
    path = write(tmp_path, "a.csv", ACTIVITIES_HEADER + minutes_rows(30, "p1"))
    run("import_activities", "acme", path, "--batch-size", "1")
    assert moves == [{people["p1"].pk: datetime(2024, 3, 1, 10, 30, tzinfo=UTC)}]
    people["p1"].refresh_from_db()
    assert people["p1"].last_activity_at == datetime(2024, 3, 1, 10, 30, tzinfo=UTC)


# The command itself


def test_standard_input_is_read_with_a_format(workspace, people, monkeypatch):
    data = ACTIVITIES_HEADER + "a1,call,2024-03-01T10:00:00Z,p1,,,,\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data.encode())))
    out, _ = run("import_activities", "acme", "-", "--format", "csv")
    assert last_line(out) == "imported 1, skipped 0 (already present), failed 0"
    _, _, error = run_failing("import_activities", "acme", "-")
    assert "--format" in str(error)


def test_the_format_comes_from_the_extension_or_the_option(tmp_path, workspace, people):
    path = write(tmp_path, "activities.txt", ACTIVITIES_HEADER)
    _, _, error = run_failing("import_activities", "acme", path)
    assert "Cannot tell the format" in str(error)
    out, _ = run("import_activities", "acme", path, "--format", "csv")
    assert last_line(out) == "imported 0, skipped 0 (already present), failed 0"


def test_an_unknown_workspace_or_file_is_an_error(tmp_path, workspace):
    _, _, error = run_failing("import_contacts", "nope", str(tmp_path / "c.csv"))
    assert "No workspace" in str(error)
    _, _, error = run_failing("import_contacts", "acme", str(tmp_path / "missing.csv"))
    assert "Cannot read" in str(error)


# Rendering


@pytest.mark.parametrize(
    "body",
    [
        "Plain text.",
        "Two\nlines\r\nand\rmore\n\n\nparagraphs",
        "<script>alert('x')</script> & \"quotes\"",
        "mail dana@fbi.example now",
        "see https://acme.example/a?b=1&c=2.",
        "HTTP://SHOUTING.EXAMPLE and WWW.ACME.ORG",
        "acme.com, (www.acme.net) [x.org]",
        "Ends with an entity &amp; a.com;",
        "not.a.link but e.g. this... and 3.14",
        "Unicode café — naïve.ORG \u017f.com \u212a.COM",
        "a@b",
        "Notes: https://docs.example.com/calls/review\nNext: send the pricing sheet.",
        "(see https://a.example/x), then www.b.org.\tor mail <c@d.example>; 'e.net'",
        'two https://x.example https://x.example and "http://q.example/?a=1&b=2"',
        "",
    ],
)
def test_render_text_renders_as_urlize_would(body):
    full = linebreaks(urlize(escape(body), nofollow=True, autoescape=False)) if body else ""
    assert render_text(body) == full


def test_a_batch_looks_up_its_external_ids_in_one_query_on_postgresql(
    tmp_path, workspace, monkeypatch
):
    """PostgreSQL takes a batch's ids as one array (`= ANY`); SQLite, lists of at most
    SQLITE_IN_LIST (here 2) parameters. Either way every id is found."""
    monkeypatch.setattr(bulk, "SQLITE_IN_LIST", 2)
    for n in range(5):
        Contact.objects.create(workspace=workspace, name=f"Person {n}", external_id=f"p{n}")
    rows = "".join(f"a{n},call,2024-03-0{n + 1}T10:00:00Z,p{n},,,,\n" for n in range(5))
    path = write(tmp_path, "a.csv", ACTIVITIES_HEADER + rows)
    out, _ = run("import_activities", "acme", path)
    assert last_line(out) == "imported 5, skipped 0 (already present), failed 0"
    with CaptureQueriesContext(connection) as captured:
        out, _ = run("import_activities", "acme", path)
    assert last_line(out) == "imported 0, skipped 5 (already present), failed 0"
    lookups = [q["sql"] for q in captured if '"external_id"' in q["sql"].split("WHERE")[-1]]
    contact_lookups = [sql for sql in lookups if 'FROM "contacts_contact"' in sql]
    activity_lookups = [sql for sql in lookups if 'FROM "activities_activity"' in sql]
    if connection.vendor == "postgresql":
        assert len(contact_lookups) == len(activity_lookups) == 1
        assert all("= ANY(" in sql for sql in lookups)
    else:  # contacts by external id or id: 1 a list; activities: 2 a list
        assert (len(contact_lookups), len(activity_lookups)) == (5, 3)
    assert {a.external_id: a.contacts.get().external_id for a in Activity.objects.all()} == {
        f"a{n}": f"p{n}" for n in range(5)
    }
