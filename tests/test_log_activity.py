"""The Log activity page and dialog."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from activities.models import Activity, ActivityType
from contacts.models import Contact

URL = reverse("activity-log")
HTMX = {"HX-Request": "true", "HX-Target": "log-activity"}
PARTICIPANT_KEYS = {"name", "email", "is_host", "rsvp_status", "user_id", "contact_id"}


@pytest.fixture
def fox(workspace) -> Contact:
    return Contact.objects.create(workspace=workspace, name="Fox Mulder", email="fox@fbi.example")


def call(contact, **changes) -> dict:
    return {
        "type": "call",
        "subject": "Discovery call",
        "description": "Talked about pricing.",
        "when": "2024-01-15T09:30",
        "contacts": [str(contact.pk)],
    } | changes


def meeting(*contacts, **changes) -> dict:
    return {
        "type": "meeting",
        "subject": "Quarterly review",
        "description": "",
        "location": "https://meet.example/qbr",
        "start": "2024-01-15T14:00",
        "end": "2024-01-15T15:00",
        "participants": "Walter Skinner <skinner@fbi.example>\nkrycek@example.com (host)",
        "contacts": [str(contact.pk) for contact in contacts],
    } | changes


def only_activity() -> Activity:
    return Activity.objects.select_related("type").get()


# The form


def test_the_page_preselects_the_contact_and_defaults_to_now_in_the_users_zone(
    owner_client, contact
):
    owner_client.cookies["tz"] = "America/New_York"
    response = owner_client.get(URL, {"contact": contact.pk})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" in body
    assert f'name="contacts" value="{contact.pk}" checked' in body
    now = timezone.now().astimezone(ZoneInfo("America/New_York"))
    shown = body.split('name="when" value="')[1][:16]
    assert abs(datetime.fromisoformat(shown) - now.replace(tzinfo=None)) < timedelta(minutes=2)
    assert f'href="{reverse("contact-detail", args=[contact.pk])}"' in body


def test_the_contact_page_gets_a_dialog_that_opens_itself(owner_client, contact):
    response = owner_client.get(
        URL, {"contact": contact.pk}, headers={"HX-Request": "true", "HX-Target": "dialog-slot"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert body.lstrip().startswith('<dialog class="dialog" id="log-activity-dialog"')
    assert "data-autoshow" in body
    assert '<input type="hidden" name="dialog" value="1">' in body
    assert f'name="contacts" value="{contact.pk}" checked' in body
    assert "HX-Target" in response["Vary"]


def test_a_history_restore_gets_the_whole_page(owner_client):
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    assert b"<html" in owner_client.get(URL, headers=headers).content


def test_types_offered_are_the_loggable_ones(owner_client, workspace):
    ActivityType.objects.create(workspace=workspace, key="demo", name="Demo", loggable=True)
    ActivityType.objects.create(workspace=workspace, key="api:ping", name="Ping")
    form = owner_client.get(URL).context["form"]
    keys = [key for key, _ in form.fields["type"].choices]
    assert keys == ["call", "meeting", "email", "task", "other", "demo"]


def test_searching_without_javascript_reloads_the_page_with_matches(owner_client, contact, fox):
    response = owner_client.get(URL, {"q": "mulder", "contact": contact.pk})
    body = response.content.decode()
    assert f'name="contacts" value="{contact.pk}" checked' in body
    assert f'name="contacts" value="{fox.pk}">' in body
    assert 'value="mulder"' in body


def test_another_workspaces_contact_is_not_preselected(owner_client, outsider_contact):
    response = owner_client.get(URL, {"contact": [outsider_contact.pk, "junk"]})
    assert response.status_code == 200
    assert response.context["chosen"] == []
    assert f'value="{outsider_contact.pk}"' not in response.content.decode()


def test_the_page_takes_get_and_post_only(owner_client):
    assert owner_client.put(URL).status_code == 405
    assert owner_client.delete(URL).status_code == 405


# Logging


def test_logging_a_call_redirects_to_the_contact_with_a_message(owner_client, owner, contact):
    response = owner_client.post(URL, call(contact))
    assert response.status_code == 302
    assert response["Location"] == reverse("contact-detail", args=[contact.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Call logged."]
    activity = only_activity()
    assert activity.type.key == "call"
    assert (activity.title, activity.body) == ("Discovery call", "Talked about pricing.")
    assert activity.source == "ui"
    assert activity.actor_user == owner
    assert list(activity.contacts.all()) == [contact]


def test_logging_with_htmx_sends_the_browser_to_the_contact_page(owner_client, contact):
    response = owner_client.post(URL, call(contact), headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("contact-detail", args=[contact.pk])
    assert b"Discovery call" in owner_client.get(response["HX-Redirect"]).content


def test_the_new_entry_is_on_top_of_the_contact_page(owner_client, contact, actor):
    owner_client.post(URL, call(contact, subject="Older call", when="2024-01-10T09:00"))
    owner_client.post(URL, call(contact, subject="Newer call", when="2024-01-12T09:00"))
    page = owner_client.get(reverse("contact-detail", args=[contact.pk])).content.decode()
    timeline = page[page.index('id="timeline"') :]
    assert timeline.index("Newer call") < timeline.index("Older call")


def test_when_is_read_in_the_users_time_zone(owner_client, contact):
    owner_client.cookies["tz"] = "America/New_York"
    owner_client.post(URL, call(contact, when="2024-01-15T09:30"))
    assert only_activity().occurred_at == datetime(2024, 1, 15, 14, 30, tzinfo=UTC)


def test_a_safe_next_url_is_followed_and_another_host_is_not(owner_client, contact):
    response = owner_client.post(URL, call(contact, next="/activities/"))
    assert response["Location"] == "/activities/"
    response = owner_client.post(URL, call(contact, next="https://evil.example/"))
    assert response["Location"] == reverse("contact-detail", args=[contact.pk])


def test_the_first_contact_chosen_is_the_page_to_go_back_to(owner_client, contact, fox):
    response = owner_client.post(URL, call(contact, contacts=[str(fox.pk), str(contact.pk)]))
    assert response["Location"] == reverse("contact-detail", args=[fox.pk])


def test_a_subject_with_markup_shows_escaped(owner_client, contact):
    owner_client.post(URL, call(contact, subject="<script>alert(1)</script>"))
    page = owner_client.get(reverse("contact-detail", args=[contact.pk])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page


def test_logging_writes_exactly_one_entry(owner_client, contact, fox):
    owner_client.post(URL, call(contact, contacts=[str(contact.pk), str(fox.pk)]))
    assert Activity.objects.filter(type__key="call").count() == 1
    assert Activity.objects.count() == 1


# Meetings


def test_a_meeting_with_two_contacts_shows_on_both_pages_with_its_participants(
    owner_client, contact, fox
):
    response = owner_client.post(URL, meeting(contact, fox))
    assert response.status_code == 302
    for person in (contact, fox):
        page = owner_client.get(reverse("contact-detail", args=[person.pk])).content.decode()
        assert "Quarterly review" in page
        for name in ("Alice", "Dana Scully", "Fox Mulder", "Walter Skinner"):
            assert name in page.split('class="participants"')[1]


def test_a_meeting_has_reevos_metadata_shape(owner_client, owner, contact, fox):
    owner_client.cookies["tz"] = "America/New_York"
    owner_client.post(URL, meeting(contact, fox))
    activity = only_activity()
    start = datetime(2024, 1, 15, 19, 0, tzinfo=UTC)
    end = datetime(2024, 1, 15, 20, 0, tzinfo=UTC)
    assert (activity.occurred_at, activity.ended_at) == (start, end)
    metadata = activity.metadata
    assert set(metadata) == {
        "kind",
        "title",
        "location",
        "start_date",
        "end_date",
        "status",
        "meeting_type",
        "participants",
    }
    assert metadata["kind"] == "meeting"
    assert metadata["title"] == "Quarterly review"
    assert metadata["location"] == "https://meet.example/qbr"
    assert metadata["meeting_type"] == "video"
    assert metadata["status"] == "completed"
    assert parse_datetime(metadata["start_date"]) == start
    assert parse_datetime(metadata["end_date"]) == end
    assert parse_datetime(metadata["start_date"]).tzinfo is not None
    assert all(set(person) == PARTICIPANT_KEYS for person in metadata["participants"])
    by_email = {person["email"]: person for person in metadata["participants"]}
    assert by_email["alice@example.com"] | {"rsvp_status": ""} == {
        "name": "Alice",
        "email": "alice@example.com",
        "is_host": True,
        "rsvp_status": "",
        "user_id": owner.pk,
        "contact_id": None,
    }
    assert by_email["fox@fbi.example"]["contact_id"] == str(fox.pk)
    assert by_email["fox@fbi.example"]["is_host"] is False
    assert by_email["dana@fbi.example"]["contact_id"] == str(contact.pk)
    assert by_email["skinner@fbi.example"]["name"] == "Walter Skinner"
    assert by_email["krycek@example.com"]["is_host"] is True
    assert len(metadata["participants"]) == 5


def test_a_future_meeting_in_person_is_scheduled(owner_client, contact):
    start = timezone.localtime() + timedelta(days=2)
    owner_client.post(
        URL,
        meeting(
            contact,
            location="Their office",
            participants="",
            start=start.strftime("%Y-%m-%dT%H:%M"),
            end=(start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        ),
    )
    metadata = only_activity().metadata
    assert (metadata["status"], metadata["meeting_type"]) == ("scheduled", "in_person")
    assert [person["email"] for person in metadata["participants"]] == [
        "alice@example.com",
        "dana@fbi.example",
    ]


def test_a_meeting_needs_no_when_and_other_types_no_meeting_fields(owner_client, contact):
    assert owner_client.post(URL, meeting(contact, when="")).status_code == 302
    response = owner_client.post(URL, call(contact, start="junk", participants="not an email"))
    assert response.status_code == 422  # a bad date is still a bad date
    response = owner_client.post(URL, call(contact, participants="not an email"))
    assert response.status_code == 302
    assert Activity.objects.get(type__key="call").metadata == {}


# Invalid input


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({"subject": ""}, "subject", "This field is required."),
        ({"subject": "x" * 501}, "subject", "at most 500 characters"),
        ({"description": "x" * 50_001}, "description", "at most 50000 characters"),
        ({"when": ""}, "when", "Say when it happened."),
        ({"when": "yesterday-ish"}, "when", "Enter a valid date/time."),
        ({"type": "note_created"}, "type", "Select a valid choice."),
        ({"type": ""}, "type", "This field is required."),
        ({"contacts": []}, "contacts", "Choose at least one contact."),
        ({"contacts": ["not-a-uuid"]}, "contacts", "is not a valid UUID."),
    ],
)
def test_invalid_input_answers_422_with_the_error_by_its_field(
    owner_client, contact, changes, field, error
):
    data = call(contact, description="Keep me") | changes
    response = owner_client.post(URL, data)
    assert response.status_code == 422
    body = response.content.decode()
    assert f'id="log-{field}_error"' in body
    assert error in body
    assert "<html" in body
    assert "Keep me" in body or field == "description"
    assert not Activity.objects.exists()


def test_the_first_field_in_error_takes_the_focus(owner_client, contact):
    response = owner_client.post(URL, call(contact, subject="", when=""))
    body = response.content.decode()
    assert body.count("autofocus") == 1
    assert 'name="when" value="" autofocus' in body


def test_another_workspaces_contact_is_a_field_error(owner_client, contact, outsider_contact):
    data = call(contact, contacts=[str(contact.pk), str(outsider_contact.pk)])
    response = owner_client.post(URL, data)
    assert response.status_code == 422
    body = response.content.decode()
    assert "A contact you chose is not in this workspace." in body
    assert f'name="contacts" value="{contact.pk}" checked' in body
    assert str(outsider_contact.pk) not in body.split('id="contact-options"')[1]
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({"end": "2024-01-15T13:00"}, "end", "The end must be after the start."),
        ({"end": "2024-01-15T14:00"}, "end", "The end must be after the start."),
        ({"start": ""}, "start", "A meeting needs a start."),
        ({"end": ""}, "end", "A meeting needs an end."),
        ({"participants": "Ann <ann@x.example>\nBob <bob>"}, "participants", "Line 2"),
    ],
)
def test_invalid_meetings_answer_422(owner_client, contact, changes, field, error):
    response = owner_client.post(URL, meeting(contact, **changes))
    assert response.status_code == 422
    body = response.content.decode()
    assert f'id="log-{field}_error"' in body
    assert error in body
    assert "Quarterly review" in body
    assert not Activity.objects.exists()


def test_invalid_input_with_htmx_answers_the_form_alone(owner_client, contact):
    data = call(contact, subject="", dialog="1", description="Keep me")
    response = owner_client.post(URL, data, headers=HTMX)
    assert response.status_code == 422
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="log-activity">')
    assert "<html" not in body
    assert "Keep me" in body
    assert '<input type="hidden" name="dialog" value="1">' in body
    assert f'name="contacts" value="{contact.pk}" checked' in body
