"""Invariants the database itself guards: constraints, not form validation.

Each refusal runs inside `transaction.atomic()`, so the failed statement rolls back to a
savepoint and the test's own transaction stays usable (PostgreSQL requires it).
"""

import hashlib
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import RestrictedError
from django.utils import timezone

from activities import services, types
from activities.models import Activity, ActivityContact, ActivityType, Target
from contacts.models import ApiToken, Contact, Membership, Note, Segment


def _type(workspace, key: str = "call") -> ActivityType:
    return ActivityType.objects.get(workspace=workspace, key=key)


def _activity(workspace, **fields) -> Activity:
    return Activity.objects.create(workspace=workspace, type=_type(workspace), **fields)


# Activity


def test_activity_external_id_used_twice_in_one_workspace_is_refused(workspace):
    _activity(workspace, external_id="evt-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        _activity(workspace, external_id="evt-1")
    assert Activity.objects.filter(external_id="evt-1").count() == 1


def test_activity_external_id_may_repeat_across_workspaces(workspace, other_workspace):
    _activity(workspace, external_id="evt-1")
    _activity(other_workspace, external_id="evt-1")
    assert Activity.objects.filter(external_id="evt-1").count() == 2


def test_activity_external_id_may_be_null_many_times(workspace):
    _activity(workspace, external_id=None)
    _activity(workspace, external_id=None)
    assert Activity.objects.filter(workspace=workspace, external_id__isnull=True).count() == 2


def test_activity_ending_before_it_starts_is_refused(workspace):
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        _activity(workspace, occurred_at=now, ended_at=now - timedelta(minutes=1))
    assert not Activity.objects.exists()


def test_activity_ending_when_it_starts_is_allowed(workspace):
    now = timezone.now()
    activity = _activity(workspace, occurred_at=now, ended_at=now)
    assert activity.ended_at == activity.occurred_at


def test_activity_source_outside_the_choices_is_refused(workspace):
    with pytest.raises(IntegrityError), transaction.atomic():
        _activity(workspace, source="fax")


def test_activity_actor_kind_outside_the_choices_is_refused(workspace):
    with pytest.raises(IntegrityError), transaction.atomic():
        _activity(workspace, actor_kind="robot")


@pytest.mark.parametrize("link", ["reply_to", "react_to"])
def test_activity_cannot_be_its_own_parent(workspace, link):
    activity = _activity(workspace)
    with pytest.raises(IntegrityError), transaction.atomic():
        Activity.objects.filter(pk=activity.pk).update(**{link: activity})


# Contact


def test_contact_external_id_used_twice_in_one_workspace_is_refused(workspace):
    Contact.objects.create(workspace=workspace, name="One", external_id="42")
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(workspace=workspace, name="Two", external_id="42")
    assert Contact.objects.filter(external_id="42").count() == 1


def test_contact_external_id_may_repeat_across_workspaces(workspace, other_workspace):
    Contact.objects.create(workspace=workspace, name="One", external_id="42")
    Contact.objects.create(workspace=other_workspace, name="Two", external_id="42")
    assert Contact.objects.filter(external_id="42").count() == 2


def test_contact_external_id_may_be_null_many_times(workspace):
    Contact.objects.create(workspace=workspace, name="One", external_id=None)
    Contact.objects.create(workspace=workspace, name="Two", external_id=None)
    assert Contact.objects.filter(external_id__isnull=True).count() == 2


def test_contact_without_a_name_is_refused(workspace):
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(workspace=workspace, name="")


@pytest.mark.parametrize(
    ("name", "initials"),
    [
        ("Dana Scully", "DS"),
        ("fox william mulder", "FW"),
        ("Cher", "C"),
        ("élodie durand", "ÉD"),
        ("(The) Smoking Man", "SM"),
        ("", "?"),
        ("   ", "?"),
        ("- -", "?"),
    ],
)
def test_contact_initials_are_the_first_letters_of_two_words(name, initials):
    assert Contact(name=name).initials == initials


# Pinned entries


def _pinned_link(workspace, contact, *, pinned: bool) -> ActivityContact:
    activity = _activity(workspace)
    return ActivityContact.objects.create(
        activity=activity,
        contact=contact,
        occurred_at=activity.occurred_at,
        type=activity.type,
        pinned=pinned,
    )


def test_only_one_entry_per_contact_can_be_pinned(workspace, contact):
    _pinned_link(workspace, contact, pinned=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        _pinned_link(workspace, contact, pinned=True)
    assert ActivityContact.objects.filter(contact=contact, pinned=True).count() == 1


def test_each_contact_may_have_its_own_pinned_entry_and_many_unpinned(workspace, contact):
    other = Contact.objects.create(workspace=workspace, name="Walter Skinner")
    _pinned_link(workspace, contact, pinned=True)
    _pinned_link(workspace, other, pinned=True)
    _pinned_link(workspace, contact, pinned=False)
    _pinned_link(workspace, contact, pinned=False)
    assert ActivityContact.objects.filter(pinned=True).count() == 2
    assert ActivityContact.objects.filter(contact=contact).count() == 3


def test_an_activity_is_linked_to_a_contact_once(workspace, contact):
    link = _pinned_link(workspace, contact, pinned=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        ActivityContact.objects.create(
            activity=link.activity, contact=contact, occurred_at=link.occurred_at, type=link.type
        )


def test_a_link_s_type_is_checked_through_its_activity_only(workspace, contact):
    """The database checks the activity's type, not the link's copy of it (one check
    fewer per link at each commit); a type in use still cannot be deleted."""
    link = _pinned_link(workspace, contact, pinned=False)
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "activities_activitycontact")
    checked = {c["columns"][0]: c["foreign_key"] for c in constraints.values() if c["foreign_key"]}
    assert checked == {
        "activity_id": ("activities_activity", "id"),
        "contact_id": ("contacts_contact", "id"),
    }
    with pytest.raises(RestrictedError):
        link.type.delete()


# Segment


def test_segment_color_outside_the_palette_is_refused(workspace):
    with pytest.raises(IntegrityError), transaction.atomic():
        Segment.objects.create(workspace=workspace, name="Hot", color="chartreuse")
    assert not Segment.objects.filter(name="Hot").exists()


def test_segment_name_is_unique_per_workspace_ignoring_case(workspace, segment):
    with pytest.raises(IntegrityError), transaction.atomic():
        Segment.objects.create(workspace=workspace, name=segment.name.lower(), color="red")
    assert Segment.objects.filter(workspace=workspace).count() == 1


def test_segment_name_may_repeat_across_workspaces(segment, other_workspace):
    Segment.objects.create(workspace=other_workspace, name=segment.name, color="red")
    assert Segment.objects.filter(name=segment.name).count() == 2


# Target


def test_identity_target_without_an_id_is_refused(workspace):
    activity = _activity(workspace)
    with pytest.raises(IntegrityError), transaction.atomic():
        Target.objects.create(activity=activity, kind=Target.Kind.IDENTITY, target_id="")


def test_everyone_target_needs_no_id(workspace):
    activity = _activity(workspace)
    Target.objects.create(activity=activity, kind=Target.Kind.EVERYONE, target_id="")
    assert activity.targets.count() == 1


def test_target_kind_outside_the_choices_is_refused(workspace):
    activity = _activity(workspace)
    with pytest.raises(IntegrityError), transaction.atomic():
        Target.objects.create(activity=activity, kind="Robots", target_id="r2d2")


# ActivityType


def test_activity_type_key_is_unique_per_workspace(workspace):
    with pytest.raises(IntegrityError), transaction.atomic():
        ActivityType.objects.create(workspace=workspace, key="call", name="Phone call")
    assert ActivityType.objects.filter(workspace=workspace, key="call").count() == 1


def test_activity_type_key_may_repeat_across_workspaces(workspace, other_workspace):
    ActivityType.objects.create(workspace=workspace, key="api:message", name="Message")
    ActivityType.objects.create(workspace=other_workspace, key="api:message", name="Message")
    assert ActivityType.objects.filter(key="api:message").count() == 2


def test_activity_type_without_a_key_is_refused(workspace):
    with pytest.raises(IntegrityError), transaction.atomic():
        ActivityType.objects.create(workspace=workspace, key="", name="Nameless")


def test_activity_type_color_outside_the_palette_is_refused(workspace):
    with pytest.raises(IntegrityError), transaction.atomic():
        ActivityType.objects.create(workspace=workspace, key="x", name="X", color="mauve")


def test_create_workspace_installs_the_builtin_types(workspace):
    keys = set(ActivityType.objects.in_workspace(workspace).values_list("key", flat=True))
    invent = {
        "note_created",
        "segment_added",
        "segment_removed",
        "contact_blocked",
        "contact_unblocked",
        "contact_unsubscribed",
        "contact_resubscribed",
    }
    loggable = {"call", "meeting", "email", "task", "other"}
    assert invent | loggable <= keys
    assert set(types.INVENT_TYPES) == invent
    assert keys == set(types.BUILTIN_TYPES)
    assert not ActivityType.objects.in_workspace(workspace).filter(builtin=False).exists()
    offered = ActivityType.objects.in_workspace(workspace).filter(loggable=True)
    assert set(offered.values_list("key", flat=True)) == loggable


def test_each_workspace_gets_its_own_builtin_types(workspace, other_workspace):
    ours = ActivityType.objects.get(workspace=workspace, key="call")
    theirs = ActivityType.objects.get(workspace=other_workspace, key="call")
    assert ours.pk != theirs.pk


def test_installing_builtin_types_again_changes_nothing(workspace):
    before = ActivityType.objects.in_workspace(workspace).count()
    services.install_builtin_types(workspace)
    assert ActivityType.objects.in_workspace(workspace).count() == before


# Membership


def test_a_user_is_a_member_of_a_workspace_once(workspace, owner):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(workspace=workspace, user=owner, role="member")
    assert Membership.objects.filter(workspace=workspace, user=owner).count() == 1


def test_membership_role_outside_the_choices_is_refused(workspace):
    user = User.objects.create_user("eve")
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(workspace=workspace, user=user, role="owner")


def test_a_user_may_belong_to_several_workspaces(workspace, other_workspace, owner):
    services.add_member(workspace=other_workspace, user=owner, role="member")
    assert set(owner.workspaces.all()) == {workspace, other_workspace}


# Note


def test_empty_note_is_refused(workspace, contact):
    with pytest.raises(IntegrityError), transaction.atomic():
        Note.objects.create(workspace=workspace, contact=contact, content="")


# ApiToken


def test_api_token_stores_only_the_hash_of_the_secret(workspace, owner):
    token, raw = ApiToken.issue(workspace=workspace, scope="write", name="CI", created_by=owner)
    assert raw.startswith("trl_")
    assert raw.startswith(token.prefix)
    assert len(token.prefix) < len(raw)
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    secret = raw[len(token.prefix) :]
    for value in row.values():
        assert raw not in str(value)
        assert secret not in str(value)


def test_api_tokens_are_unique_and_unguessable(workspace):
    tokens = [ApiToken.issue(workspace=workspace) for _ in range(5)]
    raws = {raw for _, raw in tokens}
    assert len(raws) == 5
    assert all(len(raw) >= len("trl_") + 40 for raw in raws)


def test_api_token_hash_is_unique(workspace, other_workspace):
    token, _ = ApiToken.issue(workspace=workspace)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiToken.objects.create(
            workspace=other_workspace, prefix=token.prefix, token_hash=token.token_hash
        )


def test_api_token_scope_outside_the_choices_is_refused(workspace):
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiToken.objects.create(workspace=workspace, prefix="trl_x", token_hash="x", scope="admin")


def test_new_api_token_is_active_and_read_only_by_default(workspace):
    token, _ = ApiToken.issue(workspace=workspace)
    assert token.is_active
    assert not token.can_write
    token.revoked_at = timezone.now()
    assert not token.is_active
