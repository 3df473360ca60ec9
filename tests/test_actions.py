"""The contact page's actions: notes, segments, status, pins and tasks."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import Activity, ActivityContact
from activities.services import Actor, TargetSpec
from contacts.models import Contact, Note, Segment, SegmentMembership

HTMX = {"HX-Request": "true", "HX-Target": "contact-page"}


def entries(type_key: str) -> int:
    return Activity.objects.filter(type__key=type_key).count()


def page_of(contact: Contact) -> str:
    return reverse("contact-detail", args=[contact.pk])


def message_texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def assert_contact_fragment(response, status: int = 200) -> str:
    assert response.status_code == status
    body = response.content.decode()
    assert 'id="contact-page"' in body
    assert "<html" not in body
    return body


def timeline_part(body: str) -> str:
    """The page from its timeline on, so that text found is an entry's."""
    return body[body.index('id="timeline"') :]


@pytest.fixture
def older_call(contact, actor):
    entry, _ = services.log_activity(
        workspace=contact.workspace,
        type_key="call",
        contacts=[contact],
        actor=actor,
        title="An older call",
        occurred_at=timezone.now() - timedelta(hours=2),
    )
    return entry


@pytest.fixture
def owners_note(contact, actor) -> Note:
    return services.add_note(contact=contact, content="Likes the annual plan", actor=actor)


@pytest.fixture
def teammates_note(contact, teammate) -> Note:
    return services.add_note(contact=contact, content="Bob's own note", actor=Actor.of(teammate))


def note_entry(note: Note) -> Activity:
    return note.activities.get(type__key="note_created")


# Adding a note


def test_adding_a_note_redirects_to_the_contact_with_a_message(owner_client, contact):
    url = reverse("contact-note-create", args=[contact.pk])
    response = owner_client.post(url, {"content": "Wants a demo on Friday"})
    assert response.status_code == 302
    assert response["Location"] == page_of(contact)
    assert message_texts(response) == ["Note added."]
    assert entries("note_created") == 1
    assert Note.objects.get().content == "Wants a demo on Friday"


def test_adding_a_note_with_htmx_shows_it_on_top_at_once(owner_client, contact, older_call):
    url = reverse("contact-note-create", args=[contact.pk])
    response = owner_client.post(url, {"content": "Wants a demo on Friday"}, headers=HTMX)
    body = timeline_part(assert_contact_fragment(response))
    assert body.index("Wants a demo on Friday") < body.index("An older call")
    assert '"showMessage"' in response["HX-Trigger"]
    assert entries("note_created") == 1


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_an_empty_note_answers_422_with_the_error_by_the_textarea(owner_client, contact, headers):
    url = reverse("contact-note-create", args=[contact.pk])
    response = owner_client.post(url, {"content": "   "}, headers=headers)
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="note-errors"' in body
    assert "This field is required." in body
    assert ("<html" in body) is not headers
    assert entries("note_created") == 0


def test_a_too_long_note_answers_422_keeping_the_typed_text(owner_client, contact):
    text = "Long story. " * 1700
    url = reverse("contact-note-create", args=[contact.pk])
    response = owner_client.post(url, {"content": text}, headers=HTMX)
    body = assert_contact_fragment(response, 422)
    assert "at most 20000 characters" in body
    assert text.strip() in body
    assert entries("note_created") == 0


def test_note_text_is_shown_escaped(owner_client, contact):
    url = reverse("contact-note-create", args=[contact.pk])
    response = owner_client.post(url, {"content": "<script>alert(1)</script>"}, headers=HTMX)
    body = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script>alert(1)" not in body


def test_adding_a_note_needs_a_post(owner_client, contact):
    assert owner_client.get(reverse("contact-note-create", args=[contact.pk])).status_code == 405


def test_adding_a_note_to_another_workspaces_contact_is_not_found(owner_client, outsider_contact):
    url = reverse("contact-note-create", args=[outsider_contact.pk])
    assert owner_client.post(url, {"content": "Hello"}).status_code == 404
    assert entries("note_created") == 0


# Editing and deleting a note


def test_the_edit_form_is_a_page_without_htmx(owner_client, owners_note):
    response = owner_client.get(reverse("note-edit", args=[owners_note.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" in body
    assert "Likes the annual plan</textarea>" in body
    assert f'href="{page_of(owners_note.contact)}"' in body


def test_the_edit_form_takes_the_place_of_its_entry_with_htmx(owner_client, owners_note):
    entry = note_entry(owners_note)
    contact_url = page_of(owners_note.contact)
    response = owner_client.get(
        reverse("note-edit", args=[owners_note.pk]),
        headers={
            "HX-Request": "true",
            "HX-Target": f"entry-{entry.pk}",
            "HX-Current-URL": f"http://testserver{contact_url}?q=plan",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert f'<article class="entry entry--editing" id="entry-{entry.pk}">' in body
    assert f'hx-target="#entry-{entry.pk}"' in body
    assert f'hx-get="{contact_url}?q=plan"' in body
    assert "Likes the annual plan</textarea>" in body


def test_the_edit_form_on_the_feed_is_a_plain_form_back_to_the_feed(owner_client, owners_note):
    response = owner_client.get(
        reverse("note-edit", args=[owners_note.pk]),
        headers={
            "HX-Request": "true",
            "HX-Target": f"entry-{note_entry(owners_note).pk}",
            "HX-Current-URL": "http://testserver/activities/?q=plan",
        },
    )
    body = response.content.decode()
    assert "hx-post" not in body
    assert 'href="/activities/?q=plan"' in body


def test_saving_a_note_redirects_and_writes_one_entry(owner_client, owners_note):
    url = reverse("note-edit", args=[owners_note.pk])
    response = owner_client.post(url, {"content": "Prefers the monthly plan"})
    assert response.status_code == 302
    assert response["Location"] == page_of(owners_note.contact)
    assert message_texts(response) == ["Note saved."]
    owners_note.refresh_from_db()
    assert owners_note.content == "Prefers the monthly plan"
    assert entries("note_updated") == 1


def test_saving_a_note_with_htmx_answers_the_whole_contact_page(owner_client, owners_note):
    url = reverse("note-edit", args=[owners_note.pk])
    headers = HTMX | {"HX-Target": f"entry-{note_entry(owners_note).pk}"}
    response = owner_client.post(url, {"content": "Prefers the monthly plan"}, headers=headers)
    body = assert_contact_fragment(response)
    assert response["HX-Retarget"] == "#contact-page"
    assert "Prefers the monthly plan" in timeline_part(body)


def test_saving_a_note_unchanged_writes_no_entry(owner_client, owners_note):
    url = reverse("note-edit", args=[owners_note.pk])
    response = owner_client.post(url, {"content": "Likes the annual plan"})
    assert response.status_code == 302
    assert entries("note_updated") == 0


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_an_emptied_note_answers_422_with_the_form(owner_client, owners_note, headers):
    url = reverse("note-edit", args=[owners_note.pk])
    response = owner_client.post(url, {"content": ""}, headers=headers)
    assert response.status_code == 422
    body = response.content.decode()
    assert "This field is required." in body
    assert 'class="entry entry--editing"' in body
    assert ("<html" in body) is not headers
    owners_note.refresh_from_db()
    assert owners_note.content == "Likes the annual plan"


def test_a_too_long_edit_keeps_the_typed_text(owner_client, owners_note):
    text = "x" * 20_001
    response = owner_client.post(reverse("note-edit", args=[owners_note.pk]), {"content": text})
    assert response.status_code == 422
    assert text in response.content.decode()


def test_a_teammate_may_not_edit_or_delete_someone_elses_note(teammate_client, owners_note):
    assert teammate_client.get(reverse("note-edit", args=[owners_note.pk])).status_code == 403
    url = reverse("note-edit", args=[owners_note.pk])
    assert teammate_client.post(url, {"content": "Mine now"}).status_code == 403
    assert teammate_client.post(reverse("note-delete", args=[owners_note.pk])).status_code == 403
    assert Note.objects.get().content == "Likes the annual plan"
    assert entries("note_updated") == entries("note_deleted") == 0


def test_an_admin_may_edit_a_teammates_note(owner_client, teammates_note):
    url = reverse("note-edit", args=[teammates_note.pk])
    assert owner_client.post(url, {"content": "Fixed a typo"}).status_code == 302
    teammates_note.refresh_from_db()
    assert teammates_note.content == "Fixed a typo"


def test_the_author_may_edit_their_own_note(teammate_client, teammates_note):
    url = reverse("note-edit", args=[teammates_note.pk])
    assert teammate_client.post(url, {"content": "Fixed a typo"}).status_code == 302


def test_another_workspaces_note_is_not_found(outsider_client, owners_note):
    assert outsider_client.get(reverse("note-edit", args=[owners_note.pk])).status_code == 404
    assert outsider_client.post(reverse("note-delete", args=[owners_note.pk])).status_code == 404
    assert Note.objects.exists()


def test_deleting_a_note_redirects_and_writes_one_entry(owner_client, owners_note):
    response = owner_client.post(reverse("note-delete", args=[owners_note.pk]))
    assert response.status_code == 302
    assert response["Location"] == page_of(owners_note.contact)
    assert message_texts(response) == ["Note deleted."]
    assert not Note.objects.exists()
    assert entries("note_deleted") == 1


def test_deleting_a_note_with_htmx_shows_it_gone(owner_client, owners_note):
    response = owner_client.post(reverse("note-delete", args=[owners_note.pk]), headers=HTMX)
    body = timeline_part(assert_contact_fragment(response))
    assert "Likes the annual plan" not in body
    assert "This note was deleted." in body


def test_note_edit_and_delete_take_their_methods(owner_client, owners_note):
    assert owner_client.put(reverse("note-edit", args=[owners_note.pk])).status_code == 405
    assert owner_client.get(reverse("note-delete", args=[owners_note.pk])).status_code == 405


# Segments


def test_adding_to_a_segment_redirects_and_writes_one_entry(owner_client, contact, segment):
    url = reverse("contact-segment-add", args=[contact.pk])
    response = owner_client.post(url, {"segment": segment.pk})
    assert response.status_code == 302
    assert message_texts(response) == ["Added to VIP."]
    assert SegmentMembership.objects.filter(contact=contact, segment=segment).exists()
    assert entries("segment_added") == 1


def test_adding_to_a_segment_with_htmx_shows_the_chip_and_the_entry(owner_client, contact, segment):
    url = reverse("contact-segment-add", args=[contact.pk])
    body = assert_contact_fragment(owner_client.post(url, {"segment": segment.pk}, headers=HTMX))
    assert f'action="{reverse("contact-segment-remove", args=[contact.pk, segment.pk])}"' in body
    assert "Added to VIP" in timeline_part(body)


def test_adding_to_a_segment_twice_writes_one_entry(owner_client, contact, segment):
    url = reverse("contact-segment-add", args=[contact.pk])
    owner_client.post(url, {"segment": segment.pk})
    response = owner_client.post(url, {"segment": segment.pk})
    assert response.status_code == 302
    assert message_texts(response)[-1] == "Dana Scully was already in VIP."
    assert entries("segment_added") == 1


@pytest.mark.parametrize(
    "value", ["", "not-a-uuid", "00000000-0000-0000-0000-000000000000", "theirs"]
)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_adding_to_an_unknown_segment_answers_422(
    owner_client, contact, other_workspace, value, headers
):
    if value == "theirs":
        value = Segment.objects.create(workspace=other_workspace, name="Theirs").pk
    url = reverse("contact-segment-add", args=[contact.pk])
    response = owner_client.post(url, {"segment": value}, headers=headers)
    assert response.status_code == 422
    body = response.content.decode()
    if headers:
        assert_contact_fragment(response, 422)
        assert "message--error" not in body
        assert '"level": "error"' in response["HX-Trigger"]
    else:
        assert 'class="message message--error"' in body
    assert entries("segment_added") == 0


def test_adding_another_workspaces_contact_to_a_segment_is_not_found(
    owner_client, outsider_contact, segment
):
    url = reverse("contact-segment-add", args=[outsider_contact.pk])
    assert owner_client.post(url, {"segment": segment.pk}).status_code == 404


def test_removing_from_a_segment_writes_one_entry_and_a_second_none(
    owner_client, contact, segment, actor
):
    services.add_to_segment(contact=contact, segment=segment, actor=actor)
    url = reverse("contact-segment-remove", args=[contact.pk, segment.pk])
    body = assert_contact_fragment(owner_client.post(url, headers=HTMX))
    assert "Removed from VIP" in timeline_part(body)
    assert owner_client.post(url).status_code == 302
    assert not SegmentMembership.objects.exists()
    assert entries("segment_removed") == 1


def test_removing_from_another_workspaces_segment_is_not_found(
    owner_client, contact, other_workspace
):
    theirs = Segment.objects.create(workspace=other_workspace, name="Theirs")
    url = reverse("contact-segment-remove", args=[contact.pk, theirs.pk])
    assert owner_client.post(url).status_code == 404


def test_segment_actions_need_a_post(owner_client, contact, segment):
    assert owner_client.get(reverse("contact-segment-add", args=[contact.pk])).status_code == 405
    url = reverse("contact-segment-remove", args=[contact.pk, segment.pk])
    assert owner_client.get(url).status_code == 405


# Block, unblock, unsubscribe, resubscribe

STATUS_ACTIONS = [
    ("contact-block", "contact_blocked", "blocked", False, "Unblock"),
    ("contact-unblock", "contact_unblocked", "blocked", True, "Block"),
    ("contact-unsubscribe", "contact_unsubscribed", "unsubscribed", False, "Resubscribe"),
    ("contact-resubscribe", "contact_resubscribed", "unsubscribed", True, "Unsubscribe"),
]
ENTRY_TITLES = {
    "contact_blocked": "Blocked",
    "contact_unblocked": "Unblocked",
    "contact_unsubscribed": "Unsubscribed",
    "contact_resubscribed": "Resubscribed",
}


def with_flag(contact: Contact, flag: str, value: bool) -> Contact:
    Contact.objects.filter(pk=contact.pk).update(**{flag: value})
    contact.refresh_from_db()
    return contact


@pytest.mark.parametrize(("name", "type_key", "flag", "before", "button"), STATUS_ACTIONS)
def test_a_status_change_redirects_and_writes_one_entry(
    owner_client, contact, name, type_key, flag, before, button
):
    with_flag(contact, flag, before)
    response = owner_client.post(reverse(name, args=[contact.pk]))
    assert response.status_code == 302
    assert response["Location"] == page_of(contact)
    assert len(message_texts(response)) == 1
    contact.refresh_from_db()
    assert getattr(contact, flag) is not before
    assert entries(type_key) == 1


@pytest.mark.parametrize(("name", "type_key", "flag", "before", "button"), STATUS_ACTIONS)
def test_a_status_change_with_htmx_shows_the_new_state(
    owner_client, contact, name, type_key, flag, before, button
):
    with_flag(contact, flag, before)
    body = assert_contact_fragment(
        owner_client.post(reverse(name, args=[contact.pk]), headers=HTMX)
    )
    assert f"</svg> {button}</button>" in body
    first_title = timeline_part(body).split('class="entry__title">')[1].split("<")[0]
    assert first_title == ENTRY_TITLES[type_key]


@pytest.mark.parametrize(("name", "type_key", "flag", "before", "button"), STATUS_ACTIONS)
def test_repeating_a_status_change_writes_no_entry(
    owner_client, contact, name, type_key, flag, before, button
):
    with_flag(contact, flag, not before)
    response = owner_client.post(reverse(name, args=[contact.pk]), headers=HTMX)
    assert_contact_fragment(response)
    assert '"level": "info"' in response["HX-Trigger"]
    assert entries(type_key) == 0


@pytest.mark.parametrize("name", [action[0] for action in STATUS_ACTIONS])
def test_status_changes_need_a_post_and_our_contact(owner_client, contact, outsider_contact, name):
    assert owner_client.get(reverse(name, args=[contact.pk])).status_code == 405
    assert owner_client.post(reverse(name, args=[outsider_contact.pk])).status_code == 404
    assert not Activity.objects.exists()


def test_blocking_is_shown_on_the_page_after_the_redirect(owner_client, contact):
    response = owner_client.post(reverse("contact-block", args=[contact.pk]), follow=True)
    body = response.content.decode()
    assert "Dana Scully is blocked." in body
    assert "</svg> Blocked</span>" in body


# Pins


@pytest.fixture
def two_calls(contact, actor) -> list[Activity]:
    calls = []
    for hours, title in [(3, "First call"), (2, "Second call")]:
        entry, _ = services.log_activity(
            workspace=contact.workspace,
            type_key="call",
            contacts=[contact],
            actor=actor,
            title=title,
            occurred_at=timezone.now() - timedelta(hours=hours),
        )
        calls.append(entry)
    return calls


def pin_url(contact, entry, name="entry-pin") -> str:
    return reverse(name, args=[contact.pk, entry.pk])


def test_a_pinned_entry_shows_first_under_pinned(owner_client, contact, two_calls, owners_note):
    first, _ = two_calls
    response = owner_client.post(pin_url(contact, first), headers=HTMX)
    body = timeline_part(assert_contact_fragment(response))
    pinned = body.index('class="timeline-pinned"')
    assert pinned < body.index("First call") < body.index("Likes the annual plan")
    assert f'<article class="entry entry--pinned" id="entry-{first.pk}">' in body
    assert body.count("First call") == 1
    assert Activity.objects.count() == 3


def test_pinning_redirects_with_a_message(owner_client, contact, two_calls):
    response = owner_client.post(pin_url(contact, two_calls[0]))
    assert response.status_code == 302
    assert message_texts(response) == ["Pinned to the top of the timeline."]


def test_pinning_another_entry_unpins_the_first(owner_client, contact, two_calls):
    first, second = two_calls
    owner_client.post(pin_url(contact, first))
    owner_client.post(pin_url(contact, second))
    pinned = ActivityContact.objects.filter(contact=contact, pinned=True)
    assert list(pinned.values_list("activity_id", flat=True)) == [second.pk]


def test_unpinning(owner_client, contact, two_calls):
    owner_client.post(pin_url(contact, two_calls[0]))
    response = owner_client.post(pin_url(contact, two_calls[0], "entry-unpin"), headers=HTMX)
    assert 'class="timeline-pinned"' not in assert_contact_fragment(response)
    assert not ActivityContact.objects.filter(pinned=True).exists()


def test_pinning_an_entry_of_another_timeline_is_not_found(owner_client, contact, workspace, actor):
    other = Contact.objects.create(workspace=workspace, name="Fox Mulder")
    entry, _ = services.log_activity(workspace=workspace, type_key="call", contacts=[other])
    assert owner_client.post(pin_url(contact, entry)).status_code == 404


def test_pinning_an_entry_the_member_may_not_see_is_not_found(
    teammate_client, contact, workspace, owner
):
    secret, _ = services.log_activity(
        workspace=workspace,
        type_key="call",
        contacts=[contact],
        targets=[TargetSpec(target_id=owner.username)],
    )
    assert teammate_client.post(pin_url(contact, secret)).status_code == 404


def test_pinning_on_another_workspaces_contact_is_not_found(
    owner_client, outsider_contact, other_workspace
):
    entry, _ = services.log_activity(
        workspace=other_workspace, type_key="call", contacts=[outsider_contact]
    )
    assert owner_client.post(pin_url(outsider_contact, entry)).status_code == 404
    assert not ActivityContact.objects.filter(pinned=True).exists()


def test_pins_need_a_post(owner_client, contact, two_calls):
    assert owner_client.get(pin_url(contact, two_calls[0])).status_code == 405
    assert owner_client.get(pin_url(contact, two_calls[0], "entry-unpin")).status_code == 405


# Tasks


@pytest.fixture
def overdue_task(contact, actor) -> Activity:
    task, _ = services.log_activity(
        workspace=contact.workspace,
        type_key="task",
        contacts=[contact],
        actor=actor,
        title="Send the contract",
        occurred_at=timezone.now() - timedelta(days=1),
    )
    return task


def test_marking_a_task_done_removes_the_overdue_badge(owner_client, contact, overdue_task):
    assert "Overdue</span>" in owner_client.get(page_of(contact)).content.decode()
    url = reverse("task-done", args=[overdue_task.pk])
    response = owner_client.post(url, {"contact": contact.pk}, headers=HTMX)
    body = timeline_part(assert_contact_fragment(response))
    assert "Overdue</span>" not in body
    assert "</svg> Done</span>" in body
    overdue_task.refresh_from_db()
    assert overdue_task.done_at is not None
    assert Activity.objects.count() == 1


def test_marking_a_task_done_without_htmx_goes_back_to_the_page(
    owner_client, contact, overdue_task
):
    url = reverse("task-done", args=[overdue_task.pk])
    response = owner_client.post(url, {"contact": contact.pk})
    assert response.status_code == 302
    assert response["Location"] == page_of(contact)
    assert message_texts(response) == ["Task done."]


def test_marking_a_task_done_from_the_feed_answers_its_entry(owner_client, overdue_task):
    url = reverse("task-done", args=[overdue_task.pk])
    response = owner_client.post(
        url, headers={"HX-Request": "true", "HX-Target": f"entry-{overdue_task.pk}"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(f'<article class="entry" id="entry-{overdue_task.pk}">')
    assert "<html" not in body
    assert "</svg> Done</span>" in body
    assert owner_client.post(url).headers["Location"] == reverse("activity-feed")


def test_marking_a_done_task_done_again_changes_nothing(owner_client, contact, overdue_task):
    url = reverse("task-done", args=[overdue_task.pk])
    owner_client.post(url, {"contact": contact.pk})
    done_at = Activity.objects.get().done_at
    response = owner_client.post(url, {"contact": contact.pk})
    assert message_texts(response)[-1] == "That task was already done."
    assert Activity.objects.get().done_at == done_at


def test_only_a_task_of_the_workspace_can_be_marked_done(
    owner_client, contact, older_call, other_workspace, outsider_contact
):
    assert owner_client.post(reverse("task-done", args=[older_call.pk])).status_code == 404
    theirs, _ = services.log_activity(
        workspace=other_workspace, type_key="task", contacts=[outsider_contact]
    )
    assert owner_client.post(reverse("task-done", args=[theirs.pk])).status_code == 404
    url = reverse("task-done", args=[theirs.pk])
    assert owner_client.get(url).status_code == 405
    theirs.refresh_from_db()
    assert theirs.done_at is None


def test_marking_done_for_another_workspaces_contact_page_is_not_found(
    owner_client, overdue_task, outsider_contact
):
    url = reverse("task-done", args=[overdue_task.pk])
    assert owner_client.post(url, {"contact": outsider_contact.pk}).status_code == 404
    assert owner_client.post(url, {"contact": "nonsense"}).status_code == 404
    assert Activity.objects.get().done_at is None
