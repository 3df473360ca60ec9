"""Timeline queries compiled once (`config.compiled`) answer what the ORM answers."""

from dataclasses import astuple
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db.models.functions import Upper
from django.utils import timezone

from activities import services, timeline
from activities.models import Activity, ActivityContact, Target
from activities.services import AttachmentSpec, TargetSpec
from config import compiled
from contacts.models import Contact, Membership


def _entries_as_tuples(entries):
    return [astuple(entry) for entry in entries]


def _orm_page(contact, membership, cursor):
    rows = timeline.contact_entries(contact, membership).exclude(
        activity_id=contact.pinned_activity_id
    )
    return timeline.page_entries(timeline.for_page(rows, contact), cursor)


@pytest.fixture
def busy_contact(contact, owner, teammate):
    """70 entries: some restricted to the teammate or to admins, some on two contacts,
    with attachments, replies and reactions."""
    workspace = contact.workspace
    other = Contact.objects.create(workspace=workspace, name="Fox Mulder")
    start = timezone.now() - timedelta(days=30)
    for index in range(70):
        targets = ()
        if index % 7 == 0:
            targets = [TargetSpec(target_id=teammate.username)]
        elif index % 11 == 0:
            targets = [TargetSpec(target_id="admins")]
        entry, _ = services.log_activity(
            workspace=workspace,
            type_key=["call", "email", "meeting"][index % 3],
            contacts=[contact, other] if index % 5 == 0 else [contact],
            title=f"Entry {index}",
            # Pairs at the same time, so the cursor's tie on the id is exercised.
            occurred_at=start + timedelta(hours=index // 2),
            targets=targets,
            attachments=[AttachmentSpec(name="deck.pdf", url="https://example.com/d")]
            if index % 4 == 0
            else (),
        )
        if index % 3 == 0:
            services.log_activity(
                workspace=workspace, type_key="note_created", title="reply", reply_to=entry
            )
        if index % 6 == 0:
            for title in ("+1", "+1", "heart"):
                services.log_activity(
                    workspace=workspace, type_key="note_created", title=title, react_to=entry
                )
    assert Activity.objects.filter(restricted=True).count() > 10
    pinned = ActivityContact.objects.filter(contact=contact, activity__title="Entry 43")
    pinned.update(pinned=True)
    contact.pinned_activity_id = pinned.get().activity_id  # as the pages read the contact
    return contact


def _membership(user):
    return Membership.objects.select_related("user").get(user=user)


@pytest.mark.parametrize("member", ["owner", "teammate"])
def test_contact_page_is_the_orm_page_for_each_member_and_cursor(request, busy_contact, member):
    membership = _membership(request.getfixturevalue(member))
    cursor = None
    pages = 0
    titles = []
    while True:
        expected = _orm_page(busy_contact, membership, cursor)
        page = timeline.contact_page(
            busy_contact, membership, cursor, pinned_id=busy_contact.pinned_activity_id
        )
        assert _entries_as_tuples(page.entries) == _entries_as_tuples(expected.entries)
        assert page.next_cursor == expected.next_cursor
        titles += [entry.title for entry in page.entries]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 2
    assert "Entry 43" not in titles  # the pinned one stands above the pages
    assert "Entry 41" in titles


def test_members_see_their_own_entries_through_the_same_compiled_query(busy_contact, teammate):
    """Who the member is is a parameter: another member is not shown the teammate's rows."""
    carol = User.objects.create_user("carol")
    services.add_member(workspace=busy_contact.workspace, user=carol, role=Membership.Role.MEMBER)
    for_teammate = set(
        Target.objects.filter(target_id=teammate.username).values_list("activity__title", flat=True)
    )
    titles = {}
    for user in (teammate, carol):
        entries = timeline.contact_page(busy_contact, _membership(user), None).entries
        titles[user.username] = {entry.title for entry in entries}
    assert for_teammate & titles["bob"]
    assert not for_teammate & titles["carol"]
    assert "Entry 55" not in titles["bob"] | titles["carol"]  # for admins only


def test_the_second_contact_gets_its_own_rows(busy_contact, owner):
    membership = _membership(owner)
    timeline.contact_page(busy_contact, membership, None)
    lone = Contact.objects.create(workspace=busy_contact.workspace, name="Walter Skinner")
    services.log_activity(
        workspace=lone.workspace, type_key="call", contacts=[lone], title="Lone call"
    )
    page = timeline.contact_page(lone, membership, None)
    assert [entry.title for entry in page.entries] == ["Lone call"]


@pytest.mark.parametrize("member", ["owner", "teammate"])
def test_feed_page_is_the_orm_page_for_each_member_and_cursor(request, busy_contact, member):
    membership = _membership(request.getfixturevalue(member))
    workspace = busy_contact.workspace
    rows = timeline.for_page(timeline.feed_entries(workspace, membership))
    cursor = None
    pages = 0
    while True:
        expected = timeline.page_entries(rows, cursor)
        page = timeline.feed_page(workspace, membership, cursor)
        assert _entries_as_tuples(page.entries) == _entries_as_tuples(expected.entries)
        assert page.next_cursor == expected.next_cursor
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages >= 2


@pytest.mark.parametrize("member", ["owner", "teammate"])
@pytest.mark.parametrize("pinned", [True, False])
def test_replies_and_reactions_are_those_of_the_orm(request, busy_contact, member, pinned):
    membership = _membership(request.getfixturevalue(member))
    page = timeline.contact_page(busy_contact, membership, None)
    ids = [entry.id for entry in page.entries]
    pinned_id = ids.pop() if pinned else None
    values = timeline._viewer_values(membership) | {
        "ids": ids + ([pinned_id] if pinned else []),
        "pinned_id": pinned_id,
        "contact_id": busy_contact.pk if pinned else None,
    }
    for name, build in (("replies", timeline._reply_rows), ("reactions", timeline._reaction_rows)):
        if name == "reactions":
            values = {key: values[key] for key in ("ids", "user_id", "username", "is_admin")}
        expected = list(build(**values))
        assert expected
        assert compiled.rows(name, build, values) == expected


def test_prepare_loads_replies_reactions_and_the_pinned_entry(busy_contact, owner):
    membership = _membership(owner)
    entries = timeline.contact_page(busy_contact, membership, None).entries
    pinned = entries.pop()
    found = timeline.prepare(entries, membership, contact=busy_contact, pinned_id=pinned.id)
    assert found.id == pinned.id
    replied = [entry for entry in entries if entry.reply_list]
    reacted = [entry for entry in entries if entry.reaction_counts]
    assert replied and all(e.reply_list[0].title == "reply" for e in replied)
    assert reacted and all(e.reaction_counts == [("+1", 2), ("heart", 1)] for e in reacted)


def test_a_builder_that_ignores_a_value_is_refused(db):
    def build(contact_id, title):
        return Activity.objects.filter(title=title).values_list("id")

    with pytest.raises(ImproperlyConfigured, match="contact_id"):
        compiled.rows("ignores-a-value", build, {"contact_id": 7, "title": "x"})


def test_literal_values_are_part_of_the_shape(db, contact):
    """None, booleans and lists of other lengths compile a query of their own."""

    def build(ids, done):
        rows = Activity.objects.filter(links__contact_id__in=ids)
        return rows.filter(done_at__isnull=not done).values_list("title")

    services.log_activity(
        workspace=contact.workspace, type_key="call", contacts=[contact], title="Open"
    )
    other = Contact.objects.create(workspace=contact.workspace, name="Other")
    assert compiled.rows("literals", build, {"ids": [contact.pk], "done": False}) == [("Open",)]
    assert compiled.rows("literals", build, {"ids": [contact.pk], "done": True}) == []
    two = {"ids": [other.pk, contact.pk], "done": False}
    assert compiled.rows("literals", build, two) == [("Open",)]


def test_instances_are_the_orm_s_with_their_relations_and_annotations(
    contact, owner, django_assert_num_queries
):
    contact.custom_fields = {"plan": "gold", "seats": 12}
    contact.owner = owner
    contact.save()

    def build(workspace_id):
        rows = Contact.objects.filter(workspace_id=workspace_id).order_by("name")
        return rows.annotate(named=Upper("name"))

    with django_assert_num_queries(1):
        (found,) = compiled.instances(
            "contacts-with-owner",
            Contact,
            build,
            {"workspace_id": contact.workspace_id},
            related=["workspace", "owner"],
            annotations=["named"],
        )
        assert found.workspace.name == contact.workspace.name
        assert found.owner.username == owner.username
    expected = Contact.objects.select_related("workspace", "owner").get(pk=contact.pk)
    assert [getattr(found, f.attname) for f in Contact._meta.concrete_fields] == [
        getattr(expected, f.attname) for f in Contact._meta.concrete_fields
    ]
    assert found.custom_fields == {"plan": "gold", "seats": 12}
    assert found.named == contact.name.upper()
    assert found._state.adding is False
    found.name = "Renamed"
    found.save()
    assert Contact.objects.get(pk=contact.pk).name == "Renamed"
