"""The admin: every page loads, and every change that belongs on a timeline writes its entry."""

import re
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.urls import reverse

from activities import services, types
from activities.models import Activity, ActivityType, Notification
from activities.services import TargetSpec
from contacts.models import ApiToken, Contact, Note, Segment, SegmentMembership


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "password")


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def entries(type_key: str) -> int:
    return Activity.objects.filter(type__key=type_key).count()


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


class FormData(HTMLParser):
    """What a browser would post from the page's form with this id."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.data: dict[str, list[str]] = {}
        self.select: str | None = None
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        elif not self.inside or "disabled" in attrs:
            return
        elif tag == "input":
            self.add_input(attrs)
        elif tag == "select":
            self.select = attrs["name"]
        elif tag == "option" and self.select and "selected" in attrs:
            self.add(self.select, attrs["value"])
        elif tag == "textarea":
            self.textarea, self.text = attrs["name"], ""

    def add_input(self, attrs: dict) -> None:
        kind = attrs.get("type", "text")
        if kind in ("submit", "button", "file") or "name" not in attrs:
            return
        if kind in ("checkbox", "radio") and "checked" not in attrs:
            return
        self.add(attrs["name"], attrs.get("value") or ("on" if kind == "checkbox" else ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea:
            # Browsers drop the newline that starts a textarea's content.
            self.add(self.textarea, self.text.removeprefix("\n"))
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.text += data

    def add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)


def change_form_data(client, obj) -> dict[str, list[str]]:
    response = client.get(url(type(obj), "change", obj.pk))
    assert response.status_code == 200
    parser = FormData(f"{obj._meta.model_name}_form")
    parser.feed(response.content.decode())
    return parser.data


# Every page


@pytest.fixture
def one_of_each(workspace, owner, actor, contact, segment):
    services.add_to_segment(contact=contact, segment=segment, actor=actor)
    services.add_note(contact=contact, content="Met at the expo.", actor=actor)
    services.log_activity(
        workspace=workspace,
        type_key=types.CALL,
        contacts=[contact],
        actor=actor,
        title="Intro call",
        targets=[TargetSpec(target_id=owner.username, notify=True)],
        attachments=[services.AttachmentSpec(kind="link", url="https://example.com/deck")],
    )
    ApiToken.issue(workspace=workspace, name="CI")
    Group.objects.create(name="Support")


@pytest.mark.usefixtures("one_of_each")
def test_every_admin_page_loads(admin_client, superuser, rf):
    request = rf.get("/admin/")
    request.user = superuser
    for model, model_admin in admin.site._registry.items():
        obj = model._default_manager.first()
        assert obj is not None, f"no {model.__name__} to open"
        assert admin_client.get(url(model, "changelist")).status_code == 200, model
        add_status = 200 if model_admin.has_add_permission(request) else 403
        assert admin_client.get(url(model, "add")).status_code == add_status, model
        assert admin_client.get(url(model, "change", obj.pk)).status_code == 200, model


# Contact actions


def run_action(client, action: str, contacts, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [c.pk for c in contacts], **extra}
    response = client.post(url(Contact, "changelist"), data)
    assert response.status_code == 302
    return response


@pytest.mark.parametrize(
    ("action", "flag", "value", "type_key"),
    [
        ("block", "blocked", True, types.CONTACT_BLOCKED),
        ("unsubscribe", "unsubscribed", True, types.CONTACT_UNSUBSCRIBED),
    ],
)
def test_flag_action_writes_one_entry_then_none(
    admin_client, contact, action, flag, value, type_key
):
    run_action(admin_client, action, [contact])
    run_action(admin_client, action, [contact])

    contact.refresh_from_db()
    assert getattr(contact, flag) is value
    assert entries(type_key) == 1
    entry = Activity.objects.get(type__key=type_key)
    assert entry.source == Activity.Source.UI
    assert entry.actor_name == "root"


@pytest.mark.parametrize(
    ("setup", "action", "flag", "type_key"),
    [
        (services.block_contact, "unblock", "blocked", types.CONTACT_UNBLOCKED),
        (services.unsubscribe_contact, "resubscribe", "unsubscribed", types.CONTACT_RESUBSCRIBED),
    ],
)
def test_undo_action_writes_one_entry(admin_client, contact, actor, setup, action, flag, type_key):
    setup(contact=contact, actor=actor)

    run_action(admin_client, action, [contact])

    contact.refresh_from_db()
    assert getattr(contact, flag) is False
    assert entries(type_key) == 1


def test_block_action_reports_how_many_changed(admin_client, contact, workspace, actor):
    blocked = Contact.objects.create(workspace=workspace, name="Already Blocked")
    services.block_contact(contact=blocked, actor=actor)

    response = run_action(admin_client, "block", [contact, blocked])

    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Blocked: 1 contact(s) changed, 1 unchanged."
    ]
    assert entries(types.CONTACT_BLOCKED) == 2


def test_add_to_segment_action_writes_one_entry(admin_client, contact, segment):
    run_action(admin_client, "add_to_segment", [contact], segment=segment.pk)
    run_action(admin_client, "add_to_segment", [contact], segment=segment.pk)

    assert list(contact.segments.all()) == [segment]
    assert entries(types.SEGMENT_ADDED) == 1
    assert Activity.objects.get(type__key=types.SEGMENT_ADDED).segment == segment


def test_add_to_segment_action_skips_contacts_of_other_workspaces(
    admin_client, contact, outsider_contact, segment
):
    response = run_action(
        admin_client, "add_to_segment", [contact, outsider_contact], segment=segment.pk
    )

    assert not outsider_contact.segments.exists()
    assert entries(types.SEGMENT_ADDED) == 1
    [message, _] = get_messages(response.wsgi_request)
    assert str(message).startswith("Skipped 1 contact(s) of other workspaces")


def test_add_to_segment_action_without_a_segment_changes_nothing(admin_client, contact):
    run_action(admin_client, "add_to_segment", [contact])

    assert not contact.segments.exists()
    assert entries(types.SEGMENT_ADDED) == 0


def test_remove_from_segment_action_writes_one_entry(admin_client, contact, segment, actor):
    services.add_to_segment(contact=contact, segment=segment, actor=actor)

    run_action(admin_client, "remove_from_segment", [contact], segment=segment.pk)

    assert not contact.segments.exists()
    assert entries(types.SEGMENT_REMOVED) == 1


# Contact change form


def test_saving_the_form_unchanged_writes_nothing(admin_client, contact):
    before = Activity.objects.count()

    data = change_form_data(admin_client, contact)
    response = admin_client.post(url(Contact, "change", contact.pk), data)

    assert response.status_code == 302
    assert Activity.objects.count() == before


def test_toggling_blocked_in_the_form_writes_one_entry(admin_client, contact):
    data = change_form_data(admin_client, contact)
    data["blocked"] = ["on"]

    response = admin_client.post(url(Contact, "change", contact.pk), data)

    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.blocked
    assert contact.blocked_changed_at is not None
    assert entries(types.CONTACT_BLOCKED) == 1


def test_changing_segments_in_the_form_writes_their_entries(admin_client, contact, actor):
    vip = Segment.objects.create(workspace=contact.workspace, name="VIP")
    churned = Segment.objects.create(workspace=contact.workspace, name="Churned")
    services.add_to_segment(contact=contact, segment=churned, actor=actor)
    data = change_form_data(admin_client, contact)
    assert data["in_segments"] == [str(churned.pk)]
    data["in_segments"] = [str(vip.pk)]

    response = admin_client.post(url(Contact, "change", contact.pk), data)

    assert response.status_code == 302
    assert list(contact.segments.all()) == [vip]
    assert entries(types.SEGMENT_ADDED) == 2  # churned's (setup) and vip's
    assert Activity.objects.get(type__key=types.SEGMENT_REMOVED).segment == churned


def test_saving_a_stale_form_keeps_what_changed_meanwhile(admin_client, contact, segment, actor):
    data = change_form_data(admin_client, contact)
    services.block_contact(contact=contact, actor=actor)
    services.add_to_segment(contact=contact, segment=segment, actor=actor)
    data["company"] = ["FBI, X-Files"]

    admin_client.post(url(Contact, "change", contact.pk), data)

    contact.refresh_from_db()
    assert contact.company == "FBI, X-Files"
    assert contact.blocked
    assert list(contact.segments.all()) == [segment]
    assert entries(types.CONTACT_UNBLOCKED) == entries(types.SEGMENT_REMOVED) == 0


def add_contact_data(workspace, **fields) -> dict:
    management = {
        f"{prefix}-{key}": value
        for prefix in ("notes", "activity_links")
        for key, value in [("TOTAL_FORMS", 0), ("INITIAL_FORMS", 0)]
    }
    return (
        {"workspace": workspace.pk, "name": "Fox Mulder", "custom_fields": "{}"}
        | management
        | fields
    )


def test_adding_a_contact_applies_its_status_and_segments(admin_client, workspace, segment):
    data = add_contact_data(
        workspace,
        unsubscribed="on",
        in_segments=[segment.pk],
        **{"notes-TOTAL_FORMS": 1, "notes-0-content": "Believes."},
    )

    response = admin_client.post(url(Contact, "add"), data)

    assert response.status_code == 302
    contact = Contact.objects.get(name="Fox Mulder")
    assert contact.unsubscribed
    assert list(contact.segments.all()) == [segment]
    assert entries(types.CONTACT_UNSUBSCRIBED) == 1
    assert entries(types.SEGMENT_ADDED) == 1
    assert entries(types.NOTE_CREATED) == 1
    assert entries(types.CONTACT_BLOCKED) == 0


def test_adding_a_contact_to_another_workspaces_segment_is_a_form_error(
    admin_client, other_workspace, segment
):
    response = admin_client.post(
        url(Contact, "add"), add_contact_data(other_workspace, in_segments=[segment.pk])
    )

    assert response.status_code == 200
    assert (
        "Choose from the same workspace."
        in response.context["adminform"].form.errors["in_segments"]
    )
    assert not Contact.objects.filter(name="Fox Mulder").exists()


def test_a_duplicate_external_id_is_a_form_error(admin_client, contact, workspace):
    Contact.objects.create(workspace=workspace, name="Other", external_id="42")
    data = change_form_data(admin_client, contact)
    data["external_id"] = ["42"]

    response = admin_client.post(url(Contact, "change", contact.pk), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()


def test_the_contact_page_shows_recent_activities_only(admin_client, contact, actor):
    for number in range(25):
        services.log_activity(
            workspace=contact.workspace,
            type_key="call",
            contacts=[contact],
            title=f"Call {number}",
            actor=actor,
        )

    response = admin_client.get(url(Contact, "change", contact.pk))

    recent = response.context["inline_admin_formsets"][1].formset
    assert len(recent.forms) == 20
    assert recent.forms[0].instance.activity.title == "Call 24"


# Notes


def test_adding_a_note_writes_note_created(admin_client, contact, superuser):
    response = admin_client.post(
        url(Note, "add"), {"contact": contact.pk, "content": "Called back."}
    )

    assert response.status_code == 302
    note = Note.objects.get()
    assert (note.workspace, note.author, note.content) == (
        contact.workspace,
        superuser,
        "Called back.",
    )
    assert Activity.objects.get(type__key=types.NOTE_CREATED).note == note


def test_adding_a_note_inline_writes_note_created(admin_client, contact):
    data = change_form_data(admin_client, contact)
    data["notes-0-content"] = ["Prefers email."]

    admin_client.post(url(Contact, "change", contact.pk), data)

    assert contact.notes.get().content == "Prefers email."
    assert entries(types.NOTE_CREATED) == 1


def test_editing_a_note_writes_note_updated(admin_client, contact, actor):
    note = services.add_note(contact=contact, content="Draft", actor=actor)
    data = change_form_data(admin_client, note)
    data["content"] = ["Final"]

    admin_client.post(url(Note, "change", note.pk), data)

    note.refresh_from_db()
    assert note.content == "Final"
    assert entries(types.NOTE_UPDATED) == 1
    assert Activity.objects.get(type__key=types.NOTE_CREATED).body == "Final"


def test_deleting_a_note_writes_note_deleted(admin_client, contact, actor):
    note = services.add_note(contact=contact, content="Oops", actor=actor)

    admin_client.post(url(Note, "delete", note.pk), {"post": "yes"})

    assert not Note.objects.exists()
    assert entries(types.NOTE_DELETED) == 1


def test_deleting_a_note_inline_writes_note_deleted(admin_client, contact, actor):
    services.add_note(contact=contact, content="Oops", actor=actor)
    data = change_form_data(admin_client, contact)
    data["notes-0-DELETE"] = ["on"]

    admin_client.post(url(Contact, "change", contact.pk), data)

    assert not contact.notes.exists()
    assert entries(types.NOTE_DELETED) == 1


# Segments and memberships


def test_adding_a_membership_writes_one_entry(admin_client, contact, segment):
    response = admin_client.post(
        url(SegmentMembership, "add"), {"contact": contact.pk, "segment": segment.pk}
    )

    assert response.status_code == 302
    assert list(contact.segments.all()) == [segment]
    assert entries(types.SEGMENT_ADDED) == 1


def test_a_membership_across_workspaces_is_a_form_error(admin_client, outsider_contact, segment):
    response = admin_client.post(
        url(SegmentMembership, "add"), {"contact": outsider_contact.pk, "segment": segment.pk}
    )

    assert response.status_code == 200
    assert not SegmentMembership.objects.exists()


def test_deleting_a_membership_writes_one_entry(admin_client, contact, segment, actor):
    services.add_to_segment(contact=contact, segment=segment, actor=actor)
    membership = SegmentMembership.objects.get()

    admin_client.post(url(SegmentMembership, "delete", membership.pk), {"post": "yes"})

    assert not contact.segments.exists()
    assert entries(types.SEGMENT_REMOVED) == 1


def test_renaming_a_segment_to_a_taken_name_is_a_form_error(admin_client, workspace, segment):
    other = Segment.objects.create(workspace=workspace, name="Leads")
    data = change_form_data(admin_client, other)
    data["name"] = ["vip"]

    response = admin_client.post(url(Segment, "change", other.pk), data)

    assert response.status_code == 200
    other.refresh_from_db()
    assert other.name == "Leads"


# Workspaces, tokens, activities


def test_adding_a_workspace_installs_the_builtin_types(admin_client):
    data = {"name": "Initech", "slug": "initech"} | {
        "memberships-TOTAL_FORMS": 0,
        "memberships-INITIAL_FORMS": 0,
    }

    response = admin_client.post(reverse("admin:contacts_workspace_add"), data)

    assert response.status_code == 302
    keys = set(ActivityType.objects.filter(workspace__slug="initech").values_list("key", flat=True))
    assert keys == set(types.BUILTIN_TYPES)


def test_adding_a_token_shows_it_once_and_stores_its_hash(admin_client, workspace, superuser):
    response = admin_client.post(
        url(ApiToken, "add"),
        {"workspace": workspace.pk, "name": "CI", "scope": "write"},
        follow=True,
    )

    token = ApiToken.objects.get()
    messages = " ".join(m.message for m in response.context["messages"])
    [raw] = re.findall(rf"{ApiToken.PREFIX}[\w-]{{40,}}", messages)
    assert token.token_hash == ApiToken.hash(raw)
    assert raw.startswith(token.prefix)
    assert (token.scope, token.created_by) == ("write", superuser)
    assert raw not in admin_client.get(url(ApiToken, "change", token.pk)).content.decode()


def test_revoke_action_revokes_active_tokens(admin_client, workspace):
    token, _ = ApiToken.issue(workspace=workspace)

    admin_client.post(
        url(ApiToken, "changelist"), {"action": "revoke", ACTION_CHECKBOX_NAME: [token.pk]}
    )

    token.refresh_from_db()
    assert token.revoked_at is not None


def test_editing_an_activity_keeps_its_timeline_links_in_step(admin_client, contact, actor):
    activity, _ = services.log_activity(
        workspace=contact.workspace, type_key="call", contacts=[contact], actor=actor, body="hi"
    )
    data = change_form_data(admin_client, activity)
    data["body"] = ["See https://example.com"]
    data["occurred_at_0"] = ["2024-01-02"]
    data["type"] = [str(ActivityType.objects.get(workspace=contact.workspace, key="meeting").pk)]

    response = admin_client.post(url(Activity, "change", activity.pk), data)

    assert response.status_code == 302
    activity.refresh_from_db()
    link = activity.links.get()
    assert (link.occurred_at, link.type_id) == (activity.occurred_at, activity.type_id)
    assert activity.occurred_at.year == 2024
    assert '<a href="https://example.com"' in activity.body_html


def test_an_activity_of_another_workspaces_type_is_a_form_error(
    admin_client, contact, actor, other_workspace
):
    activity, _ = services.log_activity(
        workspace=contact.workspace, type_key="call", contacts=[contact], actor=actor
    )
    data = change_form_data(admin_client, activity)
    data["type"] = [str(ActivityType.objects.get(workspace=other_workspace, key="call").pk)]

    response = admin_client.post(url(Activity, "change", activity.pk), data)

    assert response.status_code == 200
    assert "type" in response.context["adminform"].form.errors


# Query counts


def test_contact_changelist_queries_are_bounded(
    admin_client, workspace, segment, owner, django_assert_max_num_queries
):
    for number in range(60):
        Contact.objects.create(workspace=workspace, name=f"Contact {number}", owner=owner)

    with django_assert_max_num_queries(12):
        response = admin_client.get(url(Contact, "changelist"))

    assert response.status_code == 200


def test_activity_changelist_queries_are_bounded(
    admin_client, contact, actor, django_assert_max_num_queries
):
    for number in range(60):
        services.log_activity(
            workspace=contact.workspace,
            type_key=f"custom-{number % 5}",
            contacts=[contact],
            actor=actor,
        )

    with django_assert_max_num_queries(12):
        response = admin_client.get(url(Activity, "changelist"))

    assert response.status_code == 200


def test_notification_changelist_queries_are_bounded(
    admin_client, contact, actor, owner, django_assert_max_num_queries
):
    for _ in range(30):
        services.log_activity(
            workspace=contact.workspace,
            type_key="call",
            contacts=[contact],
            actor=actor,
            targets=[TargetSpec(target_id=owner.username, notify=True)],
        )
    assert Notification.objects.count() == 30

    with django_assert_max_num_queries(12):
        admin_client.get(url(Notification, "changelist"))
