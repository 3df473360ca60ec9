"""The native endpoints: contacts, notes, contact status, segments and the workspace feed."""

import base64
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import Activity
from contacts import services as contact_services
from contacts.forms import SegmentForm
from contacts.models import ApiToken, Contact, Segment, SegmentMembership
from tests.api.test_invent import (
    FREE_FORM,
    MAY_BE_NULL,
    PAGE_ITEM,
    UTC_TIME,
    assert_same_shape,
    json_type,
    next_link,
)

CONTACT_KEYS = {
    "id",
    "name",
    "email",
    "phone",
    "company",
    "avatar_url",
    "external_id",
    "blocked",
    "blocked_changed_at",
    "unsubscribed",
    "unsubscribed_changed_at",
    "custom_fields",
    "segments",
    "last_activity_at",
    "created_at",
    "updated_at",
}
SEGMENT_KEYS = {
    "id",
    "name",
    "color",
    "contacts_count",
    "boards",
    "description",
    "created_at",
    "updated_at",
}
FEED_ITEM = PAGE_ITEM | {
    "source": "api",
    "title": "<string>",
    "body": "<string>",
    "contact_ids": ["<string>"],
}
STATUS_ACTIONS = {
    "block": ("blocked", True, "contact_blocked"),
    "unblock": ("blocked", False, "contact_unblocked"),
    "unsubscribe": ("unsubscribed", True, "contact_unsubscribed"),
    "resubscribe": ("unsubscribed", False, "contact_resubscribed"),
}
# Every endpoint, as (method, path, body): paths name {org}, {contact} and {segment}.
ENDPOINTS = [
    ("GET", "/orgs/{org}/contacts", None),
    ("POST", "/orgs/{org}/contacts", {"name": "Walter Skinner"}),
    ("GET", "/orgs/{org}/contacts/{contact}", None),
    ("PATCH", "/orgs/{org}/contacts/{contact}", {"company": "CIA"}),
    ("POST", "/orgs/{org}/contacts/{contact}/notes", {"content": "Hello"}),
    *[("POST", f"/orgs/{{org}}/contacts/{{contact}}/{action}", None) for action in STATUS_ACTIONS],
    ("GET", "/orgs/{org}/segments", None),
    ("POST", "/orgs/{org}/segments", {"name": "Leads"}),
    ("PUT", "/orgs/{org}/segments/{segment}/contacts/{contact}", None),
    ("DELETE", "/orgs/{org}/segments/{segment}/contacts/{contact}", None),
    ("GET", "/orgs/{org}/activities", None),
]
WRITES = [endpoint for endpoint in ENDPOINTS if endpoint[0] != "GET"]
WITH_IDS = [endpoint for endpoint in ENDPOINTS if "{contact}" in endpoint[1]]


def errors_of(response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


def entries_of(contact) -> list[str]:
    return list(
        Activity.objects.filter(contacts=contact)
        .order_by("occurred_at", "id")
        .values_list("type__key", flat=True)
    )


def contact_path(workspace, contact, action="") -> str:
    return f"/orgs/{workspace.pk}/contacts/{contact.pk}{action}"


def make_contacts(workspace, count, **fields) -> list[Contact]:
    return [
        Contact.objects.create(workspace=workspace, name=f"Contact {index:03}", **fields)
        for index in range(count)
    ]


def assert_contact_shape(item) -> None:
    assert set(item) == CONTACT_KEYS
    for key in ("created_at", "updated_at"):
        assert UTC_TIME.match(item[key])
    for segment in item["segments"]:
        assert set(segment) == {"id", "name", "color"}


# Every endpoint: authentication, tokens' scope, workspaces


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_every_endpoint_wants_a_token(
    anonymous_api, workspace, contact, segment, method, path, body
):
    url = path.format(org=workspace.pk, contact=contact.pk, segment=segment.pk)

    response = anonymous_api.send(method, url, body)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_a_read_token_cannot_write(read_api, workspace, contact, segment, method, path, body):
    url = path.format(org=workspace.pk, contact=contact.pk, segment=segment.pk)

    response = read_api.send(method, url, body)

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert not Activity.objects.exists()


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_another_workspace_finds_nothing(
    api, outsider_api, workspace, other_workspace, contact, segment, method, path, body
):
    ours = path.format(org=workspace.pk, contact=contact.pk, segment=segment.pk)
    theirs = path.format(org=other_workspace.pk, contact=contact.pk, segment=segment.pk)

    assert outsider_api.send(method, ours, body).status_code == 404
    assert api.send(method, theirs, body).status_code == 404
    assert (
        api.send(method, path.format(org="nowhere", contact=1, segment=2), body).status_code == 404
    )
    contact.refresh_from_db()
    assert not contact.blocked
    assert not Activity.objects.exists()
    assert Contact.objects.count() == 1


@pytest.mark.parametrize(("method", "path", "body"), WITH_IDS)
def test_ids_of_another_workspace_or_none_are_not_found(
    api, workspace, contact, segment, outsider_contact, other_workspace, method, path, body
):
    their_segment = Segment.objects.create(workspace=other_workspace, name="VIP")
    urls = [
        path.format(org=workspace.pk, contact=outsider_contact.pk, segment=segment.pk),
        path.format(org=workspace.pk, contact="not-a-uuid", segment=segment.pk),
        path.format(org=workspace.pk, contact=contact.pk.hex[::-1], segment=segment.pk),
    ]
    if "{segment}" in path:
        urls.append(path.format(org=workspace.pk, contact=contact.pk, segment=their_segment.pk))
        urls.append(path.format(org=workspace.pk, contact=contact.pk, segment="1"))

    for url in urls:
        assert api.send(method, url, body).status_code == 404, url
    assert not Activity.objects.exists()


# Contacts: the list


def test_contacts_are_listed_by_name_with_their_segments(api, workspace, contact, segment):
    SegmentMembership.objects.create(contact=contact, segment=segment)
    Contact.objects.create(workspace=workspace, name="Alex Krycek")

    response = api.get(f"/orgs/{workspace.slug}/contacts")

    assert response.status_code == 200
    items = response.json()
    assert [item["name"] for item in items] == ["Alex Krycek", "Dana Scully"]
    for item in items:
        assert_contact_shape(item)
    assert items[1]["segments"] == [{"id": str(segment.pk), "name": "VIP", "color": "purple"}]
    assert items[1]["email"] == "dana@fbi.example"
    assert items[1]["phone"] is None


@pytest.mark.parametrize("text", ["scul", "FBI.EXAMPLE", "fbi"])
def test_q_searches_name_email_and_company(api, workspace, contact, text):
    Contact.objects.create(workspace=workspace, name="Alex Krycek", company="Syndicate")

    items = api.get(f"/orgs/{workspace.pk}/contacts", {"q": text}).json()

    assert [item["id"] for item in items] == [str(contact.pk)]


def test_contacts_filter_by_segment_blocked_and_unsubscribed(
    api, workspace, contact, segment, actor
):
    krycek = Contact.objects.create(workspace=workspace, name="Alex Krycek")
    SegmentMembership.objects.create(contact=krycek, segment=segment)
    services.block_contact(contact=contact, actor=actor)
    services.unsubscribe_contact(contact=krycek, actor=actor)
    path = f"/orgs/{workspace.pk}/contacts"

    def names(params):
        return [item["name"] for item in api.get(path, params).json()]

    assert names({"segment": str(segment.pk)}) == ["Alex Krycek"]
    assert names({"blocked": "true"}) == ["Dana Scully"]
    assert names({"blocked": "false"}) == ["Alex Krycek"]
    assert names({"unsubscribed": "true", "blocked": "false"}) == ["Alex Krycek"]
    assert names({"unsubscribed": "false"}) == ["Dana Scully"]


def test_contacts_page_through_by_name_once_each(api, workspace):
    # Same names, so the id breaks ties.
    expected = {str(c.pk) for c in make_contacts(workspace, 12) + make_contacts(workspace, 12)}
    seen = []
    response = api.get(f"/orgs/{workspace.pk}/contacts", {"take": 5})
    seen += [item["id"] for item in response.json()]
    while url := next_link(response):
        assert "take=5" in url
        Contact.objects.create(workspace=workspace, name="Aaron (new)")
        response = api.get(url)
        seen += [item["id"] for item in response.json()]

    assert len(seen) == len(set(seen))
    assert set(seen) == expected


def test_the_contacts_next_link_keeps_the_filters(api, workspace):
    make_contacts(workspace, 3, company="Lone Gunmen")
    make_contacts(workspace, 3)

    first = api.get(f"/orgs/{workspace.pk}/contacts", {"take": 2, "q": "gunmen"})
    rest = api.get(next_link(first)).json()

    assert len(rest) == 1
    assert rest[0]["company"] == "Lone Gunmen"


def test_a_long_unicode_name_pages_on(api, workspace):
    for letter in "abc":
        Contact.objects.create(workspace=workspace, name=letter + "ж" * 199)

    first = api.get(f"/orgs/{workspace.pk}/contacts", {"take": 1})
    second = api.get(next_link(first))

    assert second.status_code == 200
    assert second.json()[0]["name"].startswith("b")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"take": 0}, "take"),
        ({"take": 101}, "take"),
        ({"blocked": "maybe"}, "blocked"),
        ({"unsubscribed": "2"}, "unsubscribed"),
        ({"segment": "not-a-uuid"}, "segment"),
        ({"segment": "3c90c3cc-0d44-4b50-8888-8dd25736052a"}, "segment"),
        ({"q": "x" * 201}, "q"),
        ({"q": "ada\x00"}, "q"),
        ({"next": "not-a-token"}, "next"),
        ({"next": "bm90LWEtdXVpZHxEYW5h"}, "next"),  # not-a-uuid|Dana
        ({"next": base64.urlsafe_b64encode(b"[" * 1400).decode()}, "next"),
    ],
)
def test_bad_contact_filters_are_refused_naming_them(api, workspace, params, field):
    response = api.get(f"/orgs/{workspace.pk}/contacts", params)

    assert response.status_code == 422
    assert errors_of(response) == [field]


def test_another_workspaces_segment_is_no_filter(api, workspace, other_workspace):
    theirs = Segment.objects.create(workspace=other_workspace, name="Theirs")

    response = api.get(f"/orgs/{workspace.pk}/contacts", {"segment": str(theirs.pk)})

    assert response.status_code == 422
    assert errors_of(response) == ["segment"]


def test_listing_contacts_takes_few_queries_whatever_take(api, workspace, segment):
    for contact in make_contacts(workspace, 60):
        SegmentMembership.objects.create(contact=contact, segment=segment)
    path = f"/orgs/{workspace.pk}/contacts"
    api.get(path)

    counts = []
    for take in (2, 50):
        with CaptureQueriesContext(connection) as queries:
            params = {"take": take, "segment": str(segment.pk), "q": "contact"}
            assert len(api.get(path, params).json()) == take
        counts.append(len(queries))

    assert counts[0] == counts[1] <= 5


# Contacts: create, read, update


def test_a_contact_is_created(api, workspace):
    body = {
        "name": "  Fox Mulder ",
        "email": "fox@fbi.example",
        "phone": "+1 202 555 0143",
        "company": "FBI",
        "external_id": "crm-7",
        "custom_fields": {"shirt": "L", "tags": ["x-files"]},
        "unknown": "ignored",
    }

    response = api.post(f"/orgs/{workspace.pk}/contacts", body)

    assert response.status_code == 201
    item = response.json()
    assert_contact_shape(item)
    contact = Contact.objects.get(pk=item["id"])
    assert contact.workspace == workspace
    assert (contact.name, contact.external_id, contact.custom_fields["tags"]) == (
        "Fox Mulder",
        "crm-7",
        ["x-files"],
    )
    assert item["name"] == "Fox Mulder"
    assert item["segments"] == []
    assert item["blocked"] is False
    assert item["avatar_url"] is None
    assert not Activity.objects.exists()


def test_a_taken_external_id_is_refused(api, workspace, contact):
    contact_services.update_contact(contact=contact, external_id="crm-7")

    response = api.post(f"/orgs/{workspace.pk}/contacts", {"name": "Fox", "external_id": "crm-7"})

    assert response.status_code == 422
    assert errors_of(response) == ["external_id"]
    assert Contact.objects.count() == 1


def test_an_external_id_taken_meanwhile_is_refused(workspace, contact, monkeypatch):
    contact_services.update_contact(contact=contact, external_id="crm-7")
    # The first check misses the other request's contact; the database's constraint does not.
    checks = iter([False, True])
    monkeypatch.setattr(contact_services, "_external_id_taken", lambda _: next(checks))

    with pytest.raises(ValidationError) as refused:
        contact_services.create_contact(workspace=workspace, name="Fox", external_id="crm-7")

    assert list(refused.value.message_dict) == ["external_id"]
    assert Contact.objects.count() == 1


def test_external_ids_are_per_workspace(api, workspace, outsider_contact):
    contact_services.update_contact(contact=outsider_contact, external_id="crm-7")

    response = api.post(f"/orgs/{workspace.pk}/contacts", {"name": "Fox", "external_id": "crm-7"})

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["name"]),
        ({"name": None}, ["name"]),
        ({"name": ""}, ["name"]),
        ({"name": "   "}, ["name"]),
        ({"name": 7}, ["name"]),
        ({"name": "x" * 201}, ["name"]),
        ({"name": "Fox", "email": "not an email"}, ["email"]),
        ({"name": "Fox", "email": "a@b.co" + "m" * 260}, ["email"]),
        ({"name": "Fox", "phone": "1" * 51}, ["phone"]),
        ({"name": "Fox", "company": ["FBI"]}, ["company"]),
        ({"name": "Fox", "avatar_url": "javascript:alert(1)"}, ["avatar_url"]),
        ({"name": "Fox", "external_id": "x" * 101}, ["external_id"]),
        ({"name": "Fox", "custom_fields": ["a"]}, ["custom_fields"]),
        ({"name": "Fox", "blocked": True}, ["blocked"]),
        ({"name": "Fox", "unsubscribed": False}, ["unsubscribed"]),
        ({"email": "bad", "phone": 5}, ["phone", "name"]),
    ],
)
def test_bad_contacts_are_refused_naming_each_field(api, workspace, body, fields):
    response = api.post(f"/orgs/{workspace.pk}/contacts", body)

    assert response.status_code == 422
    assert sorted(errors_of(response)) == sorted(fields)
    assert not Contact.objects.exists()


@pytest.mark.parametrize("raw", ["{not json", "[]", '"Fox"', "null", '{"name": {"a": [1, {}]}}'])
def test_malformed_bodies_are_refused(api, workspace, raw):
    response = api.post(f"/orgs/{workspace.pk}/contacts", raw=raw)

    assert response.status_code == 422
    assert response.json()["status"] == 422


def test_a_body_over_the_size_bound_is_refused(api, workspace, settings):
    body = {"name": "Fox", "custom_fields": {"blob": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE}}

    response = api.post(f"/orgs/{workspace.pk}/contacts", body)

    assert response.status_code == 413
    assert not Contact.objects.exists()


def test_a_contact_is_read(read_api, workspace, contact, segment):
    SegmentMembership.objects.create(contact=contact, segment=segment)

    response = read_api.get(contact_path(workspace, contact))

    assert response.status_code == 200
    item = response.json()
    assert_contact_shape(item)
    assert item["id"] == str(contact.pk)
    assert json_type(item["custom_fields"]) == "object"
    assert [segment["name"] for segment in item["segments"]] == ["VIP"]


def test_a_patch_changes_only_the_fields_sent(api, workspace, contact):
    response = api.send(
        "PATCH",
        contact_path(workspace, contact),
        {"phone": "555", "company": None, "custom_fields": {"rank": "agent"}},
    )

    assert response.status_code == 200
    item = response.json()
    assert (item["name"], item["email"], item["phone"], item["company"]) == (
        "Dana Scully",
        "dana@fbi.example",
        "555",
        None,
    )
    contact.refresh_from_db()
    assert (contact.phone, contact.company, contact.custom_fields) == ("555", "", {"rank": "agent"})
    assert not Activity.objects.exists()


def test_an_edit_keeps_a_block_written_meanwhile(workspace, contact, actor):
    stale = Contact.objects.get(pk=contact.pk)
    services.block_contact(contact=contact, actor=actor)

    contact_services.update_contact(contact=stale, company="CIA", email="")

    stale.refresh_from_db()
    assert (stale.blocked, stale.company, stale.email) == (True, "CIA", "")
    assert stale.last_activity_at is not None


def test_an_edit_that_changes_nothing_writes_nothing(workspace, contact, django_assert_num_queries):
    with django_assert_num_queries(0):
        changed = contact_services.update_contact(contact=contact, name=" Dana Scully ")

    assert changed == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": None}, "name"),
        ({"name": " "}, "name"),
        ({"email": "nope"}, "email"),
        ({"blocked": True}, "blocked"),
        ({"unsubscribed": True}, "unsubscribed"),
        ({"custom_fields": "x"}, "custom_fields"),
        ({"external_id": "taken"}, "external_id"),
    ],
)
def test_bad_patches_are_refused_naming_the_field(api, workspace, contact, body, field):
    Contact.objects.create(workspace=workspace, name="Fox", external_id="taken")

    response = api.send("PATCH", contact_path(workspace, contact), body)

    assert response.status_code == 422
    assert errors_of(response) == [field]
    contact.refresh_from_db()
    assert (contact.name, contact.email, contact.blocked) == (
        "Dana Scully",
        "dana@fbi.example",
        False,
    )


def test_contacts_take_only_get_post_and_patch(api, workspace, contact):
    listing = api.send("DELETE", f"/orgs/{workspace.pk}/contacts")
    one = api.send("DELETE", contact_path(workspace, contact))

    assert (listing.status_code, one.status_code) == (405, 405)
    assert set(listing["Allow"].split(", ")) == {"GET", "POST"}
    assert set(one["Allow"].split(", ")) == {"GET", "PATCH"}


# Notes


def test_a_note_is_added_with_its_entry(api, owner_client, workspace, contact, write_token):
    response = api.post(contact_path(workspace, contact, "/notes"), {"content": "Trust no one"})

    assert response.status_code == 201
    note = response.json()
    assert_same_shape(note, PAGE_ITEM["note"], "note", may_be_null={"note.user"})
    assert note["user"] is None
    assert note["contact_id"] == str(contact.pk)
    entry = Activity.objects.get()
    assert (entry.type.key, entry.source, str(entry.note_id)) == ("note_created", "api", note["id"])
    assert entry.actor_kind == "integration"
    assert entry.actor_external_id == str(ApiToken.objects.get(scope="write").pk)
    assert list(entry.contacts.all()) == [contact]
    page = owner_client.get(reverse("contact-detail", args=[contact.pk]))
    assert "Trust no one" in page.content.decode()


@pytest.mark.parametrize(
    "body", [{}, {"content": ""}, {"content": "   "}, {"content": 5}, {"content": "x" * 20_001}]
)
def test_bad_notes_are_refused(api, workspace, contact, body):
    response = api.post(contact_path(workspace, contact, "/notes"), body)

    assert response.status_code == 422
    assert errors_of(response) == ["content"]
    assert not Activity.objects.exists()


# Contact status


@pytest.mark.parametrize("action", STATUS_ACTIONS)
def test_a_status_change_writes_one_entry_and_a_repeat_none(api, workspace, contact, actor, action):
    flag, value, type_key = STATUS_ACTIONS[action]
    if not value:
        (services.block_contact if flag == "blocked" else services.unsubscribe_contact)(
            contact=contact, actor=actor
        )
    before = entries_of(contact)
    path = contact_path(workspace, contact, f"/{action}")

    first = api.post(path)
    again = api.post(path)

    assert (first.status_code, again.status_code) == (200, 200)
    assert_contact_shape(first.json())
    assert first.json()[flag] is value
    assert UTC_TIME.match(first.json()[f"{flag}_changed_at"])
    assert again.json() == first.json()
    assert entries_of(contact) == [*before, type_key]
    entry = Activity.objects.get(type__key=type_key)
    assert (entry.source, entry.actor_kind) == ("api", "integration")
    contact.refresh_from_db()
    assert getattr(contact, flag) is value


def test_a_status_change_shows_on_the_timeline_page(api, owner_client, workspace, contact):
    api.post(contact_path(workspace, contact, "/block"))

    page = owner_client.get(reverse("contact-detail", args=[contact.pk])).content.decode()

    assert "Blocked" in page
    assert "write token" in page


# Segments


def test_segments_are_listed_with_exact_counts(read_api, workspace, contact, segment):
    SegmentMembership.objects.create(contact=contact, segment=segment)
    for other in make_contacts(workspace, 2):
        SegmentMembership.objects.create(contact=other, segment=segment)
    Segment.objects.create(workspace=workspace, name="Alumni", color="gray", description="Old")

    response = read_api.get(f"/orgs/{workspace.pk}/segments")

    assert response.status_code == 200
    items = response.json()
    assert [(item["name"], item["contacts_count"]) for item in items] == [("Alumni", 0), ("VIP", 3)]
    for item in items:
        assert set(item) == SEGMENT_KEYS
        assert_same_shape(
            {key: item[key] for key in PAGE_ITEM["segment"]}, PAGE_ITEM["segment"], "segment"
        )
    assert items[0]["description"] == "Old"


def test_listing_segments_takes_few_queries(api, workspace, django_assert_max_num_queries):
    for index in range(30):
        segment = Segment.objects.create(workspace=workspace, name=f"Segment {index}")
        SegmentMembership.objects.create(
            contact=Contact.objects.create(workspace=workspace, name=f"C{index}"), segment=segment
        )
    api.get(f"/orgs/{workspace.pk}/segments")

    with django_assert_max_num_queries(3):
        assert len(api.get(f"/orgs/{workspace.pk}/segments").json()) == 30


def test_a_segment_is_created(api, workspace):
    body = {"name": " Leads ", "color": "green", "description": "From the fair"}

    response = api.post(f"/orgs/{workspace.pk}/segments", body)

    assert response.status_code == 201
    item = response.json()
    assert set(item) == SEGMENT_KEYS
    assert (item["name"], item["color"], item["contacts_count"]) == ("Leads", "green", 0)
    segment = Segment.objects.get(pk=item["id"])
    assert (segment.workspace, segment.description) == (workspace, "From the fair")


def test_a_segment_defaults_to_blue(api, workspace):
    response = api.post(f"/orgs/{workspace.pk}/segments", {"name": "Leads"})

    assert response.json()["color"] == "blue"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "vip"}, "name"),
        ({"name": "VIP "}, "name"),
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": 1}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "Leads", "color": "teal"}, "color"),
        ({"name": "Leads", "description": "x" * 2001}, "description"),
    ],
)
def test_bad_segments_are_refused_naming_the_field(api, workspace, segment, body, field):
    response = api.post(f"/orgs/{workspace.pk}/segments", body)

    assert response.status_code == 422
    assert errors_of(response) == [field]
    assert Segment.objects.count() == 1


def test_a_segment_name_taken_meanwhile_is_refused(api, workspace, segment, monkeypatch):
    # The form's check misses the other request's segment; the database's constraint does not.
    monkeypatch.setattr(SegmentForm, "clean_name", lambda form: form.cleaned_data["name"])

    response = api.post(f"/orgs/{workspace.pk}/segments", {"name": "vip"})

    assert response.status_code == 422
    assert errors_of(response) == ["name"]
    assert Segment.objects.count() == 1


def test_the_same_segment_name_is_fine_in_another_workspace(api, workspace, other_workspace):
    Segment.objects.create(workspace=other_workspace, name="Leads")

    assert api.post(f"/orgs/{workspace.pk}/segments", {"name": "Leads"}).status_code == 201


# Segment membership


def test_adding_and_removing_a_member_writes_one_entry_each(api, workspace, contact, segment):
    path = f"/orgs/{workspace.pk}/segments/{segment.pk}/contacts/{contact.pk}"

    added = api.send("PUT", path)
    added_again = api.send("PUT", path)
    assert (added.status_code, added_again.status_code) == (200, 200)
    assert added.json()["segments"] == [{"id": str(segment.pk), "name": "VIP", "color": "purple"}]
    assert entries_of(contact) == ["segment_added"]

    removed = api.send("DELETE", path)
    removed_again = api.send("DELETE", path)
    assert (removed.status_code, removed_again.status_code) == (204, 204)
    assert removed.content == b""
    assert entries_of(contact) == ["segment_added", "segment_removed"]
    assert not SegmentMembership.objects.exists()
    assert set(Activity.objects.values_list("source", flat=True)) == {"api"}
    assert set(Activity.objects.values_list("segment", flat=True)) == {segment.pk}


def test_membership_takes_only_put_and_delete(api, workspace, contact, segment):
    response = api.post(f"/orgs/{workspace.pk}/segments/{segment.pk}/contacts/{contact.pk}")

    assert response.status_code == 405
    assert set(response["Allow"].split(", ")) == {"PUT", "DELETE"}


# The feed


@pytest.fixture
def feed(workspace, contact, segment, actor) -> dict[str, Activity]:
    krycek = Contact.objects.create(workspace=workspace, name="Alex Krycek")
    day = timezone.now() - timedelta(days=10)
    call, _ = services.log_activity(
        workspace=workspace,
        type_key="call",
        contacts=[contact, krycek],
        title="Called about the files",
        body="Left a message",
        occurred_at=day,
        source=Activity.Source.API,
    )
    return {
        "call": call,
        "segment": services.add_to_segment(contact=contact, segment=segment, actor=actor),
        "block": services.block_contact(contact=krycek, actor=actor),
        "krycek": krycek,
    }


def test_the_feed_lists_every_entry_newest_first(read_api, workspace, contact, feed):
    response = read_api.get(f"/orgs/{workspace.pk}/activities")

    assert response.status_code == 200
    items = response.json()
    assert [item["id"] for item in items] == [
        str(feed[name].pk) for name in ["block", "segment", "call"]
    ]
    for item in items:
        assert_same_shape(item, FEED_ITEM, may_be_null=MAY_BE_NULL, free_form=FREE_FORM)
    call = items[2]
    assert sorted(call["contact_ids"]) == sorted([str(contact.pk), str(feed["krycek"].pk)])
    assert (call["title"], call["body"], call["source"]) == (
        "Called about the files",
        "Left a message",
        "api",
    )
    assert items[1]["segment"]["contacts_count"] == 1


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"type": "call"}, ["call"]),
        ({"type": "call,contact_blocked"}, ["block", "call"]),
        ({"source": "api"}, ["call"]),
        ({"source": "ui,api"}, ["block", "segment", "call"]),
        ({"q": "FILES"}, ["call"]),
        ({"since": "{today}"}, ["block", "segment"]),
        ({"until": "{yesterday}"}, ["call"]),
    ],
)
def test_the_feed_takes_the_timeline_filters(api, workspace, feed, params, expected):
    today = timezone.localdate()
    dates = {"today": today.isoformat(), "yesterday": (today - timedelta(days=1)).isoformat()}
    params = {key: value.format(**dates) for key, value in params.items()}

    items = api.get(f"/orgs/{workspace.pk}/activities", params).json()

    assert [item["id"] for item in items] == [str(feed[name].pk) for name in expected]


def test_the_feed_filters_by_contact_and_actor(api, workspace, contact, owner, feed):
    path = f"/orgs/{workspace.pk}/activities"

    by_contact = api.get(path, {"contact": str(feed["krycek"].pk)}).json()
    by_actor = api.get(path, {"actor": str(owner.pk)}).json()

    assert [item["id"] for item in by_contact] == [str(feed["block"].pk), str(feed["call"].pk)]
    assert [item["id"] for item in by_actor] == [str(feed["block"].pk), str(feed["segment"].pk)]


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"type": "nope"}, ["type"]),
        ({"source": "fax"}, ["source"]),
        ({"since": "last week"}, ["since"]),
        ({"until": "2024-02-30"}, ["until"]),
        ({"contact": "not-a-uuid"}, ["contact"]),
        ({"actor": "999999"}, ["actor"]),
        ({"actor": "x" * 21}, ["actor"]),
        ({"take": 1000}, ["take"]),
        ({"next": "%%%"}, ["next"]),
    ],
)
def test_bad_feed_filters_are_refused_naming_them(api, workspace, params, fields):
    response = api.get(f"/orgs/{workspace.pk}/activities", params)

    assert response.status_code == 422
    assert errors_of(response) == fields


def test_another_workspaces_contact_is_no_feed_filter(api, workspace, feed, outsider_contact):
    response = api.get(f"/orgs/{workspace.pk}/activities", {"contact": str(outsider_contact.pk)})

    assert response.status_code == 422
    assert errors_of(response) == ["contact"]


def test_the_feed_pages_once_each_while_entries_arrive(api, workspace, contact):
    moment = timezone.now() - timedelta(hours=1)
    existing = set()
    for _ in range(23):
        activity, _ = services.log_activity(
            workspace=workspace, type_key="call", contacts=[contact], occurred_at=moment
        )
        existing.add(str(activity.pk))
    seen = []
    response = api.get(f"/orgs/{workspace.pk}/activities", {"take": 5, "type": "call"})
    seen += [item["id"] for item in response.json()]
    while url := next_link(response):
        assert "type=call" in url
        services.log_activity(workspace=workspace, type_key="call", contacts=[contact])
        response = api.get(url)
        seen += [item["id"] for item in response.json()]

    assert len(seen) == len(set(seen))
    assert set(seen) == existing


def test_the_feed_takes_few_queries_whatever_take(api, workspace, contact, segment, actor):
    for index in range(40):
        services.add_note(contact=contact, content=f"Note {index}", actor=actor)
        change = services.remove_from_segment if index % 2 else services.add_to_segment
        change(contact=contact, segment=segment, actor=actor)
    path = f"/orgs/{workspace.pk}/activities"
    api.get(path)

    counts = []
    for take in (2, 60):
        with CaptureQueriesContext(connection) as queries:
            params = {"take": take, "type": "note_created,segment_added,segment_removed"}
            params |= {"contact": str(contact.pk), "source": "ui", "q": "o"}
            assert len(api.get(path, params).json()) == take
        counts.append(len(queries))

    assert counts[0] == counts[1] <= 8


def test_the_feed_only_reads(api, workspace):
    response = api.post(f"/orgs/{workspace.pk}/activities", {})

    assert response.status_code == 405
    assert response["Allow"] == "GET"


# The OpenAPI document


def test_the_openapi_document_describes_every_endpoint(client):
    document = client.get("/api/openapi.json").json()
    paths = document["paths"]

    def responses(path, method):
        return set(paths[path][method]["responses"])

    assert responses("/orgs/{org_id}/contacts/{contact_id}/activities", "get") == {
        "200",
        "401",
        "404",
        "405",
        "422",
        "429",
    }
    assert responses("/orgs/{org_id}/contacts", "post") == {
        "201",
        "401",
        "403",
        "404",
        "405",
        "413",
        "422",
        "429",
    }
    assert responses("/orgs/{org_id}/segments/{segment_id}/contacts/{contact_id}", "delete") == {
        "204",
        "401",
        "403",
        "404",
        "405",
        "429",
    }
    operation_ids = {op["operationId"] for methods in paths.values() for op in methods.values()}
    assert {
        "list_contact_activities",
        "list_contacts",
        "create_contact",
        "get_contact",
        "update_contact",
        "create_note",
        "block_contact",
        "unblock_contact",
        "unsubscribe_contact",
        "resubscribe_contact",
        "list_segments",
        "create_segment",
        "add_to_segment",
        "remove_from_segment",
        "list_activities",
    } <= operation_ids
    patch_fields = document["components"]["schemas"]["ContactPatchIn"]["properties"]
    assert "name" in patch_fields
    assert "blocked" not in patch_fields
