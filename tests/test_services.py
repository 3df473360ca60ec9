"""The services: each state change happens together with exactly one timeline entry."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, close_old_connections, connection
from django.utils import timezone

from activities import services, types
from activities.models import (
    Activity,
    ActivityContact,
    ActivityType,
    Attachment,
    Notification,
    Target,
)
from activities.services import SYSTEM, Actor, AttachmentSpec, TargetSpec
from contacts.models import Contact, Membership, Note, SegmentMembership

SCRIPT = "<script>alert('x')</script> & more"
ESCAPED = "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more"


class Boom(Exception):
    """Stands for any failure while the entry is being written."""


def _raise(*args, **kwargs):
    raise Boom


def entries(type_key: str):
    return Activity.objects.filter(type__key=type_key)


def the_entry(type_key: str) -> Activity:
    """The one entry of this type; fails if there is none or more than one."""
    found = list(entries(type_key))
    assert len(found) == 1, f"expected one {type_key} entry, found {len(found)}"
    return found[0]


def assert_on_timeline_of(entry: Activity, *contacts: Contact) -> None:
    links = list(ActivityContact.objects.filter(activity=entry))
    assert {link.contact_id for link in links} == {c.pk for c in contacts}
    for link in links:
        assert link.occurred_at == entry.occurred_at
        assert link.type_id == entry.type_id


def assert_by(entry: Activity, user) -> None:
    assert entry.actor_kind == Activity.ActorKind.USER
    assert entry.actor_user == user
    assert entry.actor_name == user.get_full_name()
    assert entry.actor_email == user.email


@pytest.fixture
def teammate_actor(teammate) -> Actor:
    return Actor.of(teammate)


# add_note


def test_adding_a_note_stores_it_and_writes_one_note_created_entry(contact, owner, actor):
    note = services.add_note(contact=contact, content="  Called about renewal.  ", actor=actor)

    note.refresh_from_db()
    assert note.content == "Called about renewal."
    assert note.contact == contact
    assert note.author == owner
    assert note.workspace_id == contact.workspace_id
    entry = the_entry(types.NOTE_CREATED)
    assert Activity.objects.count() == 1
    assert entry.workspace_id == contact.workspace_id
    assert entry.note == note
    assert entry.body == "Called about renewal."
    assert entry.occurred_at == note.created_at
    assert entry.source == Activity.Source.UI
    assert_by(entry, owner)
    assert_on_timeline_of(entry, contact)


def test_note_body_is_escaped_in_its_entry(contact, actor):
    services.add_note(contact=contact, content=SCRIPT, actor=actor)
    entry = the_entry(types.NOTE_CREATED)
    assert entry.body == SCRIPT
    assert ESCAPED in entry.body_html
    assert "<script>" not in entry.body_html


def test_note_links_and_line_breaks_are_rendered(contact, actor):
    services.add_note(contact=contact, content="See https://example.com\nthanks", actor=actor)
    html = the_entry(types.NOTE_CREATED).body_html
    assert '<a href="https://example.com" rel="nofollow">https://example.com</a>' in html
    assert "<br>" in html


@pytest.mark.parametrize("content", ["", "   \n "])
def test_empty_note_is_refused_and_writes_nothing(contact, actor, content):
    with pytest.raises(ValidationError):
        services.add_note(contact=contact, content=content, actor=actor)
    assert not Note.objects.exists()
    assert not Activity.objects.exists()


def test_overlong_note_is_refused_not_truncated(contact, actor):
    with pytest.raises(ValidationError):
        services.add_note(contact=contact, content="x" * 20_001, actor=actor)
    assert not Note.objects.exists()


def test_note_is_not_stored_when_its_entry_cannot_be_written(contact, actor, monkeypatch):
    monkeypatch.setattr(ActivityContact.objects, "bulk_create", _raise)
    with pytest.raises(Boom):
        services.add_note(contact=contact, content="Lost", actor=actor)
    assert not Note.objects.exists()
    assert not Activity.objects.exists()


# edit_note


def test_editing_a_note_updates_it_and_its_entry_and_writes_one_note_updated_entry(
    contact, teammate, teammate_actor, actor
):
    note = services.add_note(contact=contact, content="First draft", actor=actor)

    edit = services.edit_note(note=note, content=SCRIPT, actor=teammate_actor)

    note.refresh_from_db()
    assert note.content == SCRIPT
    assert note.updated_at >= note.created_at
    created = the_entry(types.NOTE_CREATED)
    assert created.body == SCRIPT
    assert ESCAPED in created.body_html
    assert "<script>" not in created.body_html
    assert edit == the_entry(types.NOTE_UPDATED)
    assert edit.note == note
    assert_by(edit, teammate)
    assert_on_timeline_of(edit, contact)


def test_editing_a_note_to_the_same_text_writes_nothing(contact, actor):
    note = services.add_note(contact=contact, content="Same", actor=actor)
    assert services.edit_note(note=note, content="  Same ", actor=actor) is None
    assert not entries(types.NOTE_UPDATED).exists()
    assert Activity.objects.count() == 1


def test_editing_a_note_to_nothing_is_refused(contact, actor):
    note = services.add_note(contact=contact, content="Keep me", actor=actor)
    with pytest.raises(ValidationError):
        services.edit_note(note=note, content=" ", actor=actor)
    note.refresh_from_db()
    assert note.content == "Keep me"


def test_note_edit_is_rolled_back_when_its_entry_cannot_be_written(contact, actor, monkeypatch):
    note = services.add_note(contact=contact, content="Original", actor=actor)
    monkeypatch.setattr(services, "_write_entry", _raise)
    with pytest.raises(Boom):
        services.edit_note(note=note, content="Changed", actor=actor)
    note.refresh_from_db()
    assert note.content == "Original"
    assert the_entry(types.NOTE_CREATED).body == "Original"


# delete_note


def test_deleting_a_note_removes_it_and_its_text_and_writes_one_note_deleted_entry(
    contact, owner, actor
):
    note = services.add_note(contact=contact, content="Secret plans", actor=actor)
    services.edit_note(note=note, content="Secret plans, revised", actor=actor)

    entry = services.delete_note(note=note, actor=actor)

    assert not Note.objects.exists()
    assert entry == the_entry(types.NOTE_DELETED)
    assert_by(entry, owner)
    assert_on_timeline_of(entry, contact)
    created = the_entry(types.NOTE_CREATED)
    assert created.body == ""
    assert created.body_html == ""
    assert created.note is None
    for activity in Activity.objects.all():
        assert "Secret" not in activity.body + activity.body_html + activity.title
    # The history stays on the timeline.
    assert ActivityContact.objects.filter(contact=contact).count() == 3


def test_note_survives_when_its_delete_entry_cannot_be_written(contact, actor, monkeypatch):
    note = services.add_note(contact=contact, content="Still here", actor=actor)
    monkeypatch.setattr(services, "_write_entry", _raise)
    with pytest.raises(Boom):
        services.delete_note(note=note, actor=actor)
    assert Note.objects.filter(pk=note.pk, content="Still here").exists()
    assert the_entry(types.NOTE_CREATED).body == "Still here"
    assert not entries(types.NOTE_DELETED).exists()


# add_to_segment / remove_from_segment


def test_adding_to_a_segment_makes_a_member_and_writes_one_entry(contact, segment, owner, actor):
    entry = services.add_to_segment(contact=contact, segment=segment, actor=actor)

    assert SegmentMembership.objects.filter(contact=contact, segment=segment).exists()
    assert entry == the_entry(types.SEGMENT_ADDED)
    assert entry.segment == segment
    assert entry.title == "Added to VIP"
    assert_by(entry, owner)
    assert_on_timeline_of(entry, contact)


def test_adding_to_a_segment_twice_writes_one_entry(contact, segment, actor):
    services.add_to_segment(contact=contact, segment=segment, actor=actor)
    assert services.add_to_segment(contact=contact, segment=segment, actor=actor) is None
    assert SegmentMembership.objects.filter(contact=contact, segment=segment).count() == 1
    assert entries(types.SEGMENT_ADDED).count() == 1


def test_segment_membership_is_rolled_back_when_its_entry_cannot_be_written(
    contact, segment, actor, monkeypatch
):
    monkeypatch.setattr(services, "_write_entry", _raise)
    with pytest.raises(Boom):
        services.add_to_segment(contact=contact, segment=segment, actor=actor)
    assert not SegmentMembership.objects.exists()


def test_removing_from_a_segment_ends_membership_and_writes_one_entry(
    contact, segment, owner, actor
):
    services.add_to_segment(contact=contact, segment=segment, actor=actor)

    entry = services.remove_from_segment(contact=contact, segment=segment, actor=actor)

    assert not SegmentMembership.objects.filter(contact=contact, segment=segment).exists()
    assert entry == the_entry(types.SEGMENT_REMOVED)
    assert entry.segment == segment
    assert entry.title == "Removed from VIP"
    assert_by(entry, owner)
    assert_on_timeline_of(entry, contact)


def test_removing_a_non_member_writes_nothing(contact, segment, actor):
    assert services.remove_from_segment(contact=contact, segment=segment, actor=actor) is None
    assert not Activity.objects.exists()


def test_segment_removal_is_rolled_back_when_its_entry_cannot_be_written(
    contact, segment, actor, monkeypatch
):
    services.add_to_segment(contact=contact, segment=segment, actor=actor)
    monkeypatch.setattr(services, "_write_entry", _raise)
    with pytest.raises(Boom):
        services.remove_from_segment(contact=contact, segment=segment, actor=actor)
    assert SegmentMembership.objects.filter(contact=contact, segment=segment).exists()


# block / unblock / unsubscribe / resubscribe

FLAG_CHANGES = [
    # (service, flag, value it sets, entry type, title)
    (services.block_contact, "blocked", True, types.CONTACT_BLOCKED, "Blocked"),
    (services.unblock_contact, "blocked", False, types.CONTACT_UNBLOCKED, "Unblocked"),
    (
        services.unsubscribe_contact,
        "unsubscribed",
        True,
        types.CONTACT_UNSUBSCRIBED,
        "Unsubscribed",
    ),
    (
        services.resubscribe_contact,
        "unsubscribed",
        False,
        types.CONTACT_RESUBSCRIBED,
        "Resubscribed",
    ),
]
FLAG_IDS = ["block", "unblock", "unsubscribe", "resubscribe"]


def _start_opposite(contact: Contact, flag: str, value: bool) -> None:
    Contact.objects.filter(pk=contact.pk).update(**{flag: not value})
    contact.refresh_from_db()


@pytest.mark.parametrize(
    ("service", "flag", "value", "type_key", "title"), FLAG_CHANGES, ids=FLAG_IDS
)
def test_status_change_sets_the_flag_and_writes_one_entry(
    contact, owner, actor, service, flag, value, type_key, title
):
    _start_opposite(contact, flag, value)
    before = timezone.now()

    entry = service(contact=contact, actor=actor, source="api")

    contact.refresh_from_db()
    assert getattr(contact, flag) is value
    assert getattr(contact, f"{flag}_changed_at") >= before
    assert entry == the_entry(type_key)
    assert Activity.objects.count() == 1
    assert entry.title == title
    assert entry.source == Activity.Source.API
    assert entry.occurred_at == getattr(contact, f"{flag}_changed_at")
    assert_by(entry, owner)
    assert_on_timeline_of(entry, contact)


@pytest.mark.parametrize(
    ("service", "flag", "value", "type_key", "title"), FLAG_CHANGES, ids=FLAG_IDS
)
def test_status_change_that_changes_nothing_writes_nothing(
    contact, actor, service, flag, value, type_key, title
):
    Contact.objects.filter(pk=contact.pk).update(**{flag: value})
    contact.refresh_from_db()

    assert service(contact=contact, actor=actor) is None

    contact.refresh_from_db()
    assert getattr(contact, flag) is value
    assert getattr(contact, f"{flag}_changed_at") is None
    assert not Activity.objects.exists()


def test_blocking_twice_writes_one_entry(contact, actor):
    services.block_contact(contact=contact, actor=actor)
    services.block_contact(contact=Contact.objects.get(pk=contact.pk), actor=actor)
    assert entries(types.CONTACT_BLOCKED).count() == 1


def test_blocking_a_stale_copy_of_a_blocked_contact_writes_nothing(contact, actor):
    stale = Contact.objects.get(pk=contact.pk)
    services.block_contact(contact=contact, actor=actor)
    assert not stale.blocked
    assert services.block_contact(contact=stale, actor=actor) is None
    assert entries(types.CONTACT_BLOCKED).count() == 1


@pytest.mark.parametrize(
    ("service", "flag", "value", "type_key", "title"), FLAG_CHANGES, ids=FLAG_IDS
)
def test_status_change_is_rolled_back_when_its_entry_cannot_be_written(
    contact, actor, monkeypatch, service, flag, value, type_key, title
):
    _start_opposite(contact, flag, value)
    monkeypatch.setattr(services, "_write_entry", _raise)

    with pytest.raises(Boom):
        service(contact=contact, actor=actor)

    stored = Contact.objects.get(pk=contact.pk)
    assert getattr(stored, flag) is (not value)
    assert getattr(stored, f"{flag}_changed_at") is None


def test_block_is_rolled_back_when_the_timeline_link_cannot_be_written(contact, actor, monkeypatch):
    monkeypatch.setattr(ActivityContact.objects, "bulk_create", _raise)
    with pytest.raises(Boom):
        services.block_contact(contact=contact, actor=actor)
    assert not Contact.objects.get(pk=contact.pk).blocked
    assert not Activity.objects.exists()


def test_system_actor_writes_a_system_entry(contact):
    entry = services.block_contact(contact=contact, actor=SYSTEM, source="system")
    assert entry.actor_kind == Activity.ActorKind.SYSTEM
    assert entry.actor_user is None
    assert entry.actor_display == "System"


# log_activity


def test_logging_an_activity_writes_it_on_every_contact_timeline(workspace, contact, owner, actor):
    other = Contact.objects.create(workspace=workspace, name="Walter Skinner")
    when = timezone.now() - timedelta(hours=2)

    activity, created = services.log_activity(
        workspace=workspace,
        type_key="call",
        contacts=[contact, other, contact],
        actor=actor,
        occurred_at=when,
        ended_at=when + timedelta(minutes=15),
        title="Discovery call",
        body=SCRIPT,
        status="completed",
    )

    assert created
    activity.refresh_from_db()
    assert activity.type.key == "call"
    assert activity.workspace == workspace
    assert activity.occurred_at == when
    assert activity.title == "Discovery call"
    assert activity.status == "completed"
    assert ESCAPED in activity.body_html
    assert "<script>" not in activity.body_html
    assert not activity.restricted
    assert_by(activity, owner)
    assert_on_timeline_of(activity, contact, other)
    assert Activity.objects.count() == 1


def test_logging_without_a_time_means_now(workspace, contact):
    before = timezone.now()
    activity, _ = services.log_activity(workspace=workspace, type_key="other", contacts=[contact])
    assert before <= activity.occurred_at <= timezone.now()


def test_logging_with_the_same_external_id_twice_stores_one_activity(workspace, contact):
    first, created = services.log_activity(
        workspace=workspace, type_key="email", contacts=[contact], external_id="msg-1", title="A"
    )
    again, created_again = services.log_activity(
        workspace=workspace, type_key="email", contacts=[contact], external_id="msg-1", title="B"
    )
    assert created
    assert not created_again
    assert again.pk == first.pk
    assert again.title == "A"
    assert Activity.objects.filter(external_id="msg-1").count() == 1
    assert ActivityContact.objects.filter(contact=contact).count() == 1


def test_same_external_id_in_two_workspaces_stores_two(workspace, other_workspace):
    _, first = services.log_activity(workspace=workspace, type_key="call", external_id="x")
    _, second = services.log_activity(workspace=other_workspace, type_key="call", external_id="x")
    assert first and second
    assert Activity.objects.filter(external_id="x").count() == 2


def test_empty_external_id_is_stored_as_null(workspace):
    for _ in range(2):
        services.log_activity(workspace=workspace, type_key="call", external_id="")
    assert Activity.objects.filter(external_id__isnull=True).count() == 2


def test_logging_refuses_a_contact_of_another_workspace(workspace, contact, outsider_contact):
    with pytest.raises(ValidationError):
        services.log_activity(
            workspace=workspace, type_key="call", contacts=[contact, outsider_contact]
        )
    assert not Activity.objects.exists()


@pytest.mark.parametrize("link", ["reply_to", "react_to", "invite_to"])
def test_logging_refuses_a_parent_of_another_workspace(workspace, other_workspace, link):
    theirs, _ = services.log_activity(workspace=other_workspace, type_key="call")
    with pytest.raises(ValidationError):
        services.log_activity(workspace=workspace, type_key="call", **{link: theirs})
    assert not Activity.objects.filter(workspace=workspace).exists()


def test_reply_is_linked_to_its_parent(workspace, contact):
    parent, _ = services.log_activity(workspace=workspace, type_key="call", contacts=[contact])
    reply, _ = services.log_activity(
        workspace=workspace, type_key="other", contacts=[contact], reply_to=parent
    )
    assert list(parent.replies.all()) == [reply]


def test_unknown_type_key_creates_the_type_on_first_use(workspace, other_workspace):
    activity, _ = services.log_activity(workspace=workspace, type_key="api:message")
    assert activity.type.key == "api:message"
    assert activity.type.name == "Message"
    assert not activity.type.builtin
    assert not ActivityType.objects.filter(workspace=other_workspace, key="api:message").exists()

    services.log_activity(workspace=workspace, type_key="api:message")
    assert ActivityType.objects.filter(workspace=workspace, key="api:message").count() == 1


def test_free_text_type_name_names_the_new_type(workspace):
    activity, _ = services.log_activity(
        workspace=workspace, type_key="external:viewed-a-demo", type_name="Viewed a Demo"
    )
    assert activity.type.key == "external:viewed-a-demo"
    assert activity.type.name == "Viewed a Demo"


def test_type_without_a_name_is_named_from_its_key(workspace):
    activity, _ = services.log_activity(workspace=workspace, type_key="external:viewed-a-demo")
    assert activity.type.name == "Viewed a demo"


def test_known_type_key_reuses_the_builtin_type(workspace):
    before = ActivityType.objects.in_workspace(workspace).count()
    activity, _ = services.log_activity(workspace=workspace, type_key="meeting", type_name="X")
    assert activity.type == ActivityType.objects.get(workspace=workspace, key="meeting")
    assert activity.type.name == "Meeting"
    assert ActivityType.objects.in_workspace(workspace).count() == before


@pytest.mark.parametrize("key", ["", "   ", "x" * 101])
def test_missing_or_overlong_type_key_is_refused(workspace, key):
    with pytest.raises(ValidationError):
        services.log_activity(workspace=workspace, type_key=key)
    assert not Activity.objects.exists()


@pytest.mark.parametrize("field", [{"source": "fax"}, {"actor": Actor(kind="robot")}])
def test_source_or_actor_kind_outside_the_choices_is_refused(workspace, field):
    with pytest.raises(ValidationError):
        services.log_activity(workspace=workspace, type_key="call", **field)
    assert not Activity.objects.exists()


def test_integration_actor_is_stored(workspace):
    actor = Actor(
        kind=Activity.ActorKind.INTEGRATION,
        name="Zapier",
        external_id="zap-9",
        email="bot@zapier.example",
        avatar_url="https://zapier.example/a.png",
    )
    activity, _ = services.log_activity(
        workspace=workspace, type_key="api:message", actor=actor, source="api"
    )
    assert activity.actor_kind == "integration"
    assert activity.actor_user is None
    assert activity.actor_display == "Zapier"
    assert activity.actor_external_id == "zap-9"
    assert activity.actor_email == "bot@zapier.example"
    assert activity.actor_avatar_url == "https://zapier.example/a.png"


def test_activity_is_not_stored_when_a_timeline_link_cannot_be_written(
    workspace, contact, monkeypatch
):
    monkeypatch.setattr(ActivityContact.objects, "bulk_create", _raise)
    with pytest.raises(Boom):
        services.log_activity(
            workspace=workspace, type_key="api:brand-new", contacts=[contact], external_id="e1"
        )
    assert not Activity.objects.exists()
    assert not ActivityType.objects.filter(key="api:brand-new").exists()


def test_activity_is_not_stored_when_its_notifications_cannot_be_written(
    workspace, contact, teammate, monkeypatch
):
    monkeypatch.setattr(Notification.objects, "bulk_create", _raise)
    with pytest.raises(Boom):
        services.log_activity(
            workspace=workspace,
            type_key="call",
            contacts=[contact],
            targets=[TargetSpec(target_id="bob", notify=True)],
        )
    assert not Activity.objects.exists()
    assert not Target.objects.exists()
    contact.refresh_from_db()
    assert contact.last_activity_at is None


# Audience


def _membership(workspace, user) -> Membership:
    return Membership.objects.select_related("user").get(workspace=workspace, user=user)


def _visible(workspace, user):
    return set(Activity.objects.visible_to(_membership(workspace, user)))


@pytest.mark.parametrize("identify", [lambda user: user.username, lambda user: str(user.pk)])
def test_identity_target_shows_the_entry_only_to_that_user(
    workspace, contact, owner, teammate, identify
):
    activity, _ = services.log_activity(
        workspace=workspace,
        type_key="call",
        contacts=[contact],
        targets=[TargetSpec(target_id=identify(teammate))],
    )
    assert activity.restricted
    assert activity in _visible(workspace, teammate)
    # Not even an admin sees an entry targeted at someone else.
    assert activity not in _visible(workspace, owner)


def test_administrators_target_shows_the_entry_to_admins_only(workspace, owner, teammate):
    activity, _ = services.log_activity(
        workspace=workspace, type_key="call", targets=[TargetSpec(target_id="administrators")]
    )
    assert activity.restricted
    assert activity in _visible(workspace, owner)
    assert activity not in _visible(workspace, teammate)


@pytest.mark.parametrize("kind", [Target.Kind.EVERYONE, Target.Kind.MEMBERS, Target.Kind.PUBLIC])
def test_widening_target_makes_the_entry_visible_to_everyone(workspace, owner, teammate, kind):
    activity, _ = services.log_activity(
        workspace=workspace,
        type_key="call",
        targets=[TargetSpec(target_id="alice"), TargetSpec(kind=kind)],
    )
    assert not activity.restricted
    assert activity in _visible(workspace, owner)
    assert activity in _visible(workspace, teammate)


def test_entry_without_targets_is_visible_to_every_member(workspace, owner, teammate):
    activity, _ = services.log_activity(workspace=workspace, type_key="call")
    assert not activity.restricted
    assert activity in _visible(workspace, owner)
    assert activity in _visible(workspace, teammate)


def test_targets_are_stored(workspace):
    activity, _ = services.log_activity(
        workspace=workspace,
        type_key="call",
        targets=[TargetSpec(target_id="bob", notify=True), TargetSpec(target_id="alice")],
    )
    assert set(activity.targets.values_list("kind", "target_id", "notify")) == {
        ("Identity", "bob", True),
        ("Identity", "alice", False),
    }


def test_notify_creates_an_unread_notification_for_targeted_users_only(
    workspace, owner, teammate, outsider
):
    activity, _ = services.log_activity(
        workspace=workspace,
        type_key="call",
        targets=[
            TargetSpec(target_id=str(teammate.pk), notify=True),
            TargetSpec(target_id="alice", notify=False),
            TargetSpec(target_id="mallory", notify=True),
        ],
    )
    notifications = Notification.objects.filter(activity=activity)
    assert [n.user for n in notifications] == [teammate]
    assert notifications.get().workspace == workspace
    assert notifications.unread().count() == 1


def test_notify_administrators_notifies_the_workspace_admins(workspace, owner, teammate, outsider):
    activity, _ = services.log_activity(
        workspace=workspace,
        type_key="call",
        targets=[TargetSpec(target_id="administrators", notify=True)],
    )
    assert {n.user for n in activity.notifications.all()} == {owner}


def test_notify_everyone_notifies_every_member_of_the_workspace(
    workspace, owner, teammate, outsider
):
    activity, _ = services.log_activity(
        workspace=workspace,
        type_key="call",
        targets=[TargetSpec(kind=Target.Kind.EVERYONE, notify=True)],
    )
    assert {n.user for n in activity.notifications.all()} == {owner, teammate}


def test_no_notify_means_no_notifications(workspace, owner, teammate):
    services.log_activity(
        workspace=workspace, type_key="call", targets=[TargetSpec(target_id="bob")]
    )
    assert not Notification.objects.exists()


def _notify(workspace, target_id: str) -> Activity:
    activity, _ = services.log_activity(
        workspace=workspace,
        type_key="call",
        targets=[TargetSpec(target_id=target_id, notify=True)],
    )
    return activity


def test_superscript_digit_target_id_notifies_nobody_instead_of_crashing(workspace, owner):
    assert not _notify(workspace, "²").notifications.exists()


def test_huge_numeric_target_id_notifies_nobody_instead_of_crashing(workspace, owner):
    assert not _notify(workspace, "99999999999999999999").notifications.exists()


# Attachments


def test_attachments_are_stored_with_the_activity(workspace, contact):
    activity, _ = services.log_activity(
        workspace=workspace,
        type_key="email",
        contacts=[contact],
        attachments=[
            AttachmentSpec(kind="link", url="https://example.com/deck", name="Deck"),
            AttachmentSpec(kind="file", external_id="att-7", name="quote.pdf"),
        ],
    )
    assert set(activity.attachments.values_list("kind", "url", "name", "external_id")) == {
        ("link", "https://example.com/deck", "Deck", ""),
        ("file", "", "quote.pdf", "att-7"),
    }


def test_attachment_kind_outside_the_choices_stores_nothing(workspace):
    with pytest.raises(IntegrityError):
        services.log_activity(
            workspace=workspace, type_key="email", attachments=[AttachmentSpec(kind="movie")]
        )
    assert not Activity.objects.exists()
    assert not Attachment.objects.exists()


# last_activity_at


def test_past_entry_moves_last_activity_forward(workspace, contact):
    earlier = timezone.now() - timedelta(days=2)
    later = timezone.now() - timedelta(days=1)
    services.log_activity(
        workspace=workspace, type_key="call", contacts=[contact], occurred_at=later
    )
    contact.refresh_from_db()
    assert contact.last_activity_at == later

    services.log_activity(
        workspace=workspace, type_key="call", contacts=[contact], occurred_at=earlier
    )
    contact.refresh_from_db()
    assert contact.last_activity_at == later


def test_future_entry_leaves_last_activity_alone(workspace, contact):
    past = timezone.now() - timedelta(hours=1)
    services.log_activity(
        workspace=workspace, type_key="call", contacts=[contact], occurred_at=past
    )
    services.log_activity(
        workspace=workspace,
        type_key="meeting",
        contacts=[contact],
        occurred_at=timezone.now() + timedelta(days=3),
    )
    contact.refresh_from_db()
    assert contact.last_activity_at == past


def test_status_change_and_note_update_last_activity(contact, actor):
    services.block_contact(contact=contact, actor=actor)
    contact.refresh_from_db()
    assert contact.last_activity_at == contact.blocked_changed_at

    note = services.add_note(contact=contact, content="Hi", actor=actor)
    contact.refresh_from_db()
    assert contact.last_activity_at == note.created_at


# save_activity_changes


def test_saving_an_edited_activity_keeps_its_timeline_links_in_step(workspace, contact):
    activity, _ = services.log_activity(
        workspace=workspace, type_key="call", contacts=[contact], body="old"
    )
    activity.occurred_at = timezone.now() - timedelta(days=5)
    activity.type = ActivityType.objects.get(workspace=workspace, key="meeting")
    activity.body = SCRIPT

    services.save_activity_changes(activity)

    activity.refresh_from_db()
    assert ESCAPED in activity.body_html
    assert "<script>" not in activity.body_html
    assert activity.updated_at >= activity.created_at
    assert_on_timeline_of(activity, contact)
    link = ActivityContact.objects.get(activity=activity)
    assert link.type.key == "meeting"


def test_moving_an_entry_later_moves_last_activity_forward(workspace, contact):
    activity, _ = services.log_activity(
        workspace=workspace,
        type_key="call",
        contacts=[contact],
        occurred_at=timezone.now() - timedelta(days=5),
    )
    activity.occurred_at = timezone.now() - timedelta(hours=1)
    services.save_activity_changes(activity)
    contact.refresh_from_db()
    assert contact.last_activity_at == activity.occurred_at


# Concurrency (PostgreSQL: SQLite's IMMEDIATE transactions serialise every writer)

needs_postgres = pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="a real race needs concurrent writers; SQLite (IMMEDIATE transactions, in-memory "
    "test database) runs writers one at a time. Run with DATABASE_URL=postgres://…",
)


def _race(count: int, work) -> list:
    """Run `work` in `count` threads released at the same instant; return their results."""
    barrier = threading.Barrier(count, timeout=10)
    results: list = [None] * count
    errors: list = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work()
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return results


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_resends_of_one_external_id_store_one_activity(workspace, contact):
    results = _race(
        4,
        lambda: services.log_activity(
            workspace=workspace,
            type_key="api:race",
            contacts=[contact],
            external_id="same-1",
        ),
    )
    assert Activity.objects.filter(external_id="same-1").count() == 1
    assert ActivityType.objects.filter(workspace=workspace, key="api:race").count() == 1
    assert {activity.pk for activity, _ in results} == {Activity.objects.get().pk}
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert ActivityContact.objects.filter(contact=contact).count() == 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_blocks_of_one_contact_write_one_entry(workspace, contact, actor):
    results = _race(
        4, lambda: services.block_contact(contact=Contact.objects.get(pk=contact.pk), actor=actor)
    )
    assert entries(types.CONTACT_BLOCKED).count() == 1
    assert sum(result is not None for result in results) == 1
    assert Contact.objects.get(pk=contact.pk).blocked


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_adds_to_one_segment_write_one_entry(workspace, contact, segment, actor):
    results = _race(
        4, lambda: services.add_to_segment(contact=contact, segment=segment, actor=actor)
    )
    assert SegmentMembership.objects.filter(contact=contact, segment=segment).count() == 1
    assert entries(types.SEGMENT_ADDED).count() == 1
    assert sum(result is not None for result in results) == 1
