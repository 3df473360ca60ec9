"""Invent's `GET /orgs/{org_id}/contacts/{contact_id}/activities` (seed 004)."""

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from ninja.responses import NinjaJSONEncoder

from activities import services
from activities.api.invent import ActivityItemOut
from activities.models import Activity
from activities.services import Actor
from contacts.models import ApiToken, Contact, SegmentMembership
from tests.test_query_plans import assert_index_range_scan, page_query

# The page's example response: one item.
PAGE_ITEM = {
    "id": "<string>",
    "type": "note_created",
    "created_at": "2023-11-07T05:31:56Z",
    "actor": {
        "id": "<string>",
        "name": "<string>",
        "email": "jsmith@example.com",
        "avatar": "<string>",
        "seen_at": "2023-11-07T05:31:56Z",
    },
    "assistant": {"id": "<string>", "name": "<string>", "avatar_url": "<string>"},
    "segment": {
        "id": "<string>",
        "name": "<string>",
        "color": "red",
        "contacts_count": 123,
        "boards": [{"board_id": "<string>", "board_name": "<string>", "column_id": "<string>"}],
        "created_at": "2023-11-07T05:31:56Z",
        "updated_at": "2023-11-07T05:31:56Z",
    },
    "broadcast": {"id": "<string>", "name": "<string>"},
    "note": {
        "id": "<string>",
        "contact_id": "<string>",
        "content": "<string>",
        "created_at": "2023-11-07T05:31:56Z",
        "updated_at": "2023-11-07T05:31:56Z",
        "user": {"id": "<string>", "name": "<string>", "avatar": "<string>"},
    },
    "metadata": {},
}
# The page marks these objects optional. Members have no avatars on this server (only an
# entry's actor may bring one), and only members sign in (integrations have no `seen_at`).
MAY_BE_NULL = {
    "actor",
    "assistant",
    "segment",
    "broadcast",
    "note",
    "note.user.avatar",
    "actor.avatar",
    "actor.seen_at",
}
# Objects whose keys are the sender's own.
FREE_FORM = {"metadata"}
UTC_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
LINK = re.compile(r'^<(http://testserver/[^>]+)>; rel="next"$')


def json_type(value) -> str:
    for kind, name in [(bool, "boolean"), ((int, float), "number"), (str, "string")]:
        if isinstance(value, kind):
            return name
    return {type(None): "null", list: "array", dict: "object"}[type(value)]


def assert_same_shape(actual, expected, where="", may_be_null=frozenset(), free_form=()):
    """The same keys at every level and the same JSON type of every value."""
    if actual is None and where in may_be_null:
        return
    assert json_type(actual) == json_type(expected), where
    if isinstance(expected, dict) and where not in free_form:
        assert set(actual) == set(expected), where
        for key, value in expected.items():
            path = f"{where}.{key}" if where else key
            assert_same_shape(actual[key], value, path, may_be_null, free_form)
    if isinstance(expected, list) and expected:
        for element in actual:
            assert_same_shape(element, expected[0], where, may_be_null, free_form)


def next_link(response) -> str | None:
    if "Link" not in response:
        return None
    return LINK.match(response["Link"]).group(1)


def timeline_path(workspace, contact) -> str:
    return f"/orgs/{workspace.pk}/contacts/{contact.pk}/activities"


def log(contact, type_key="call", **fields) -> Activity:
    activity, _ = services.log_activity(
        workspace=contact.workspace, type_key=type_key, contacts=[contact], **fields
    )
    return activity


@pytest.fixture
def member_actor(owner) -> Actor:
    owner.last_login = timezone.now()
    owner.save(update_fields=["last_login"])
    return Actor(
        kind=Activity.ActorKind.USER,
        user=owner,
        name="Alice",
        email=owner.email,
        avatar_url="https://img.example/alice.png",
    )


@pytest.fixture
def assistant() -> Actor:
    return Actor(
        kind=Activity.ActorKind.ASSISTANT,
        name="Ivy",
        external_id="asst_1",
        avatar_url="https://img.example/ivy.png",
    )


@pytest.fixture
def mailer() -> Actor:
    return Actor(
        kind=Activity.ActorKind.INTEGRATION,
        name="Mailer",
        external_id="mailer",
        email="mailer@example.com",
        avatar_url="https://img.example/mailer.png",
    )


@pytest.fixture
def page_entries(contact, segment, member_actor, assistant, mailer) -> dict[str, Activity]:
    """A segment entry, a note with its author, an assistant's entry and a broadcast's."""
    added = services.add_to_segment(contact=contact, segment=segment, actor=member_actor)
    note = services.add_note(contact=contact, content="Call back Monday", actor=member_actor)
    unsubscribed = services.unsubscribe_contact(contact=contact, actor=assistant)
    broadcast = log(
        contact,
        "contact_blocked",
        actor=mailer,
        object_type="broadcast",
        object_id="bc_42",
        object_name="Spring sale",
        metadata={"channel": "email"},
    )
    return {
        "segment": added,
        "note": note.activities.get(),
        "assistant": unsubscribed,
        "broadcast": broadcast,
    }


def test_the_page_example_is_answered_in_the_page_shape(api, workspace, contact, page_entries):
    response = api.get(timeline_path(workspace, contact))

    assert response.status_code == 200
    items = response.json()
    assert [item["id"] for item in items] == [
        str(page_entries[name].pk) for name in ["broadcast", "assistant", "note", "segment"]
    ]
    for item in items:
        assert_same_shape(item, PAGE_ITEM, may_be_null=MAY_BE_NULL, free_form=FREE_FORM)
    for name in ["actor", "assistant", "segment", "broadcast", "note"]:
        assert any(item[name] is not None for item in items), name


def test_a_member_without_a_name_is_named_by_their_username(
    api, workspace, contact, owner, page_entries
):
    owner.first_name = owner.last_name = ""
    owner.save()
    items = {item["type"]: item for item in api.get(timeline_path(workspace, contact)).json()}
    assert items["note_created"]["note"]["user"]["name"] == owner.username
    # The entry keeps the name it was written with.
    assert items["segment_added"]["actor"]["name"] == "Alice"


def test_items_carry_their_segment_note_actor_assistant_and_broadcast(
    api, workspace, contact, segment, owner, page_entries
):
    other = Contact.objects.create(workspace=workspace, name="Fox Mulder")
    SegmentMembership.objects.create(contact=other, segment=segment)

    items = {item["type"]: item for item in api.get(timeline_path(workspace, contact)).json()}

    added = items["segment_added"]
    assert added["segment"]["id"] == str(segment.pk)
    assert added["segment"]["contacts_count"] == 2
    assert added["segment"]["boards"] == []
    assert added["actor"] == {
        "id": str(owner.pk),
        "name": "Alice",
        "email": owner.email,
        "avatar": "https://img.example/alice.png",
        "seen_at": added["actor"]["seen_at"],
    }
    assert UTC_TIME.match(added["actor"]["seen_at"])
    note = items["note_created"]["note"]
    assert note["content"] == "Call back Monday"
    assert note["contact_id"] == str(contact.pk)
    assert note["user"] == {"id": str(owner.pk), "name": "Alice", "avatar": None}
    assert items["contact_unsubscribed"]["assistant"] == {
        "id": "asst_1",
        "name": "Ivy",
        "avatar_url": "https://img.example/ivy.png",
    }
    assert items["contact_unsubscribed"]["actor"] is None
    blocked = items["contact_blocked"]
    assert blocked["broadcast"] == {"id": "bc_42", "name": "Spring sale"}
    assert blocked["metadata"] == {"channel": "email"}
    assert blocked["actor"]["id"] == "mailer"
    assert blocked["created_at"] == page_entries["broadcast"].occurred_at.isoformat().replace(
        "+00:00", "Z"
    )


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_an_item_with_every_field_set_is_written_in_full(
    api, workspace, contact, segment, owner, member_actor
):
    SegmentMembership.objects.create(contact=contact, segment=segment)
    note = services.add_note(contact=contact, content="Call back Monday", actor=member_actor)
    activity = log(
        contact,
        "api:message",
        actor=member_actor,
        segment=segment,
        note=note,
        object_type="Broadcast",
        object_id="bc_42",
        object_name="Spring sale",
        metadata={"channel": "email", "opens": [1, 2]},
    )
    owner.refresh_from_db()
    segment.refresh_from_db()

    item = api.get(timeline_path(workspace, contact), {"take": 1}).json()[0]

    assert item == {
        "id": str(activity.pk),
        "type": "api:message",
        "created_at": iso(activity.occurred_at),
        "actor": {
            "id": str(owner.pk),
            "name": "Alice",
            "email": owner.email,
            "avatar": "https://img.example/alice.png",
            "seen_at": iso(owner.last_login),
        },
        "assistant": None,
        "segment": {
            "id": str(segment.pk),
            "name": "VIP",
            "color": "purple",
            "contacts_count": 1,
            "boards": [],
            "created_at": iso(segment.created_at),
            "updated_at": iso(segment.updated_at),
        },
        "broadcast": {"id": "bc_42", "name": "Spring sale"},
        "note": {
            "id": str(note.pk),
            "contact_id": str(contact.pk),
            "content": "Call back Monday",
            "created_at": iso(note.created_at),
            "updated_at": iso(note.updated_at),
            "user": {"id": str(owner.pk), "name": owner.get_full_name(), "avatar": None},
        },
        "metadata": {"channel": "email", "opens": [1, 2]},
    }


def test_the_answer_is_what_the_item_schema_makes_of_it(api, workspace, contact, page_entries):
    """Items are answered as built, not validated again: they must be the schema's."""
    log(contact, "call")
    response = api.get(timeline_path(workspace, contact))

    schema_made = [ActivityItemOut.model_validate(item).model_dump() for item in response.json()]

    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.content == json.dumps(schema_made, cls=NinjaJSONEncoder).encode()


def test_a_system_entry_has_every_key_with_nulls(api, workspace, contact):
    log(contact, "call")

    [item] = api.get(timeline_path(workspace, contact)).json()

    assert item | {"id": None, "created_at": None} == {
        "id": None,
        "type": "call",
        "created_at": None,
        "actor": None,
        "assistant": None,
        "segment": None,
        "broadcast": None,
        "note": None,
        "metadata": {},
    }


def test_a_type_added_after_a_page_was_read_shows_its_key(api, workspace, contact):
    log(contact, "call")
    path = timeline_path(workspace, contact)
    api.get(path)
    log(contact, "api:kudos", type_name="Kudos")

    assert [item["type"] for item in api.get(path).json()] == ["api:kudos", "call"]


def test_a_deleted_note_leaves_its_entries_without_a_note(api, workspace, contact, actor):
    note = services.add_note(contact=contact, content="Oops", actor=actor)
    services.delete_note(note=note, actor=actor)

    items = api.get(timeline_path(workspace, contact)).json()

    assert [item["type"] for item in items] == ["note_deleted", "note_created"]
    assert all(item["note"] is None for item in items)


def test_the_org_may_be_named_by_its_slug(read_api, workspace, contact):
    log(contact)

    response = read_api.get(f"/orgs/{workspace.slug}/contacts/{contact.pk}/activities")

    assert response.status_code == 200
    assert len(response.json()) == 1


# Paging


def test_next_tokens_page_through_once_while_entries_arrive(api, workspace, contact):
    start = timezone.now() - timedelta(days=3)
    existing = set()
    for index in range(45):
        # Entries three to a timestamp: the id breaks ties.
        existing.add(str(log(contact, occurred_at=start + timedelta(minutes=index // 3)).pk))
    seen = []
    response = api.get(timeline_path(workspace, contact), {"take": 10})
    seen += [item["id"] for item in response.json()]
    while url := next_link(response):
        log(contact, "email", title="new")
        response = api.get(url)
        assert response.status_code == 200
        seen += [item["id"] for item in response.json()]

    assert len(seen) == len(set(seen))
    assert set(seen) == existing


def test_take_defaults_to_20_and_page_counts_from_1(api, workspace, contact):
    start = timezone.now() - timedelta(days=1)
    ids = [str(log(contact, occurred_at=start + timedelta(minutes=i)).pk) for i in range(25)]
    newest_first = ids[::-1]
    path = timeline_path(workspace, contact)

    first = api.get(path)
    assert [item["id"] for item in first.json()] == newest_first[:20]
    assert next_link(first)
    assert [item["id"] for item in api.get(path, {"page": 2, "take": 10}).json()] == (
        newest_first[10:20]
    )
    last = api.get(path, {"page": 3, "take": 10})
    assert [item["id"] for item in last.json()] == newest_first[20:]
    assert "Link" not in last
    assert api.get(path, {"page": 9, "take": 10}).json() == []


def test_the_next_link_keeps_take_and_type(api, workspace, contact):
    for _ in range(3):
        log(contact, "call")
        log(contact, "email")

    response = api.get(timeline_path(workspace, contact), {"take": 2, "type": "call"})
    url = next_link(response)

    assert "take=2" in url
    assert "type=call" in url
    following = api.get(url).json()
    assert [item["type"] for item in following] == ["call"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"take": 0}, "take"),
        ({"take": 101}, "take"),
        ({"take": "ten"}, "take"),
        ({"page": 0}, "page"),
        ({"page": "1.5"}, "page"),
        ({"next": "not-a-token"}, "next"),
        ({"next": "x" * 5000}, "next"),
        ({"type": "no_such_type"}, "type"),
        ({"type": "call,no_such_type"}, "type"),
    ],
)
def test_bad_query_parameters_are_refused_naming_them(api, workspace, contact, params, field):
    response = api.get(timeline_path(workspace, contact), params)

    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]]


# Filtering by type


def test_type_filters_by_one_or_several_keys(api, workspace, contact, segment, actor):
    services.add_to_segment(contact=contact, segment=segment, actor=actor)
    services.remove_from_segment(contact=contact, segment=segment, actor=actor)
    services.add_note(contact=contact, content="Hello", actor=actor)
    log(contact, "api:message", type_name="Message")
    path = timeline_path(workspace, contact)

    def types_of(value):
        return [item["type"] for item in api.get(path, {"type": value}).json()]

    assert types_of("segment_added") == ["segment_added"]
    assert types_of("segment_added, note_created") == ["note_created", "segment_added"]
    assert types_of("api:message") == ["api:message"]
    assert len(types_of("")) == 4


# Queries


def test_queries_stay_few_whatever_take(
    api, workspace, contact, segment, page_entries, member_actor, django_assert_max_num_queries
):
    for index in range(50):
        services.add_note(contact=contact, content=f"Note {index}", actor=member_actor)
        log(contact, object_type="broadcast", object_id=f"bc_{index}")
        change = services.remove_from_segment if index % 2 else services.add_to_segment
        change(contact=contact, segment=segment, actor=member_actor)
    path = timeline_path(workspace, contact)
    api.get(path)  # the token's last use is recorded once a minute, not on every call

    counts = []
    for take in (2, 100):
        with CaptureQueriesContext(connection) as queries:
            params = {"take": take, "type": "note_created,segment_added,segment_removed"}
            assert len(api.get(path, params).json()) == take
        counts.append(len(queries))
    with django_assert_max_num_queries(6):
        api.get(path, {"take": 100, "page": 2})
    # The token, the contact, the type filter's types, the page, its segments, its notes.
    assert counts[0] == counts[1] <= 6

    # Without a filter, first page or deep: no types to look up, and the page query checks
    # the contact's workspace itself: the token, the page, its segments, its notes.
    with django_assert_max_num_queries(4):
        first = api.get(path, {"take": 50})
    with django_assert_max_num_queries(4):
        deep = api.get(first.headers["Link"].split(">")[0].lstrip("<"))
    assert len(first.json()) == len(deep.json()) == 50


def test_a_contact_without_entries_has_an_empty_timeline(api, workspace, contact):
    response = api.get(timeline_path(workspace, contact))

    assert response.status_code == 200
    assert response.json() == []
    assert "Link" not in response


@pytest.mark.parametrize("deep", [False, True])
def test_the_list_reads_the_timeline_index(api, workspace, long_timeline, deep):
    path = f"/orgs/{workspace.pk}/contacts/{long_timeline.pk}/activities"
    if deep:
        path = api.get(path, {"take": 50}).headers["Link"].split(">")[0].lstrip("<")
    sql = page_query(lambda: api.get(path, {} if deep else {"take": 50}))
    assert_index_range_scan(sql, "timeline_contact")


# Access


def test_another_workspace_cannot_read_the_timeline(
    api, outsider_api, workspace, other_workspace, contact, outsider_contact
):
    log(contact)
    log(outsider_contact)

    assert outsider_api.get(timeline_path(workspace, contact)).status_code == 404
    assert outsider_api.get(timeline_path(other_workspace, contact)).status_code == 404
    assert api.get(timeline_path(other_workspace, outsider_contact)).status_code == 404
    assert api.get(timeline_path(workspace, outsider_contact)).status_code == 404
    assert api.get(timeline_path(other_workspace, contact)).status_code == 404


@pytest.mark.parametrize("contact_id", ["not-a-uuid", "3c90c3cc-0d44-4b50-8888-8dd25736052a"])
def test_unknown_contacts_and_orgs_are_not_found(api, workspace, contact_id):
    assert api.get(f"/orgs/{workspace.pk}/contacts/{contact_id}/activities").status_code == 404
    assert api.get(f"/orgs/nowhere/contacts/{contact_id}/activities").status_code == 404


def test_no_bad_or_revoked_token_is_unauthorized(
    anonymous_api, api, workspace, contact, write_token
):
    path = timeline_path(workspace, contact)
    bad = anonymous_api.get(path, headers={"Authorization": "Bearer trl_nope"})
    missing = anonymous_api.get(path)
    ApiToken.objects.update(revoked_at=timezone.now())
    revoked = api.get(path)

    for response in (bad, missing, revoked):
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert response.json()["status"] == 401


def test_the_timeline_only_reads(api, workspace, contact):
    response = api.post(timeline_path(workspace, contact), {})

    assert response.status_code == 405
    assert response["Allow"] == "GET"
