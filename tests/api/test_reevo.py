"""Reevo's "Log a manual activity": POST /api/v2/activity (seeds/002)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from activities.models import Activity
from contacts.models import ApiToken, Contact
from tests.api.conftest import ApiClient

URL = "/api/v2/activity"
PAGE_ID = "3c90c3cc-0d44-4b50-8888-8dd25736052a"

# The page's example answer, as printed.
PAGE_RESPONSE = {
    "data": {
        "id": PAGE_ID,
        "created_at": "2023-11-07T05:31:56Z",
        "updated_at": "2023-11-07T05:31:56Z",
        "attributes": {
            "type": {"value": "<string>", "value_type": "enum"},
            "sub_type": {"value": "<string>", "value_type": "enum"},
            "status": {"value": "<string>", "value_type": "enum"},
            "priority": {"value": "<string>", "value_type": "enum"},
            "display_name": {"value": "<string>", "value_type": "string"},
            "owner_user_id": {
                "value": {"related_record_id": PAGE_ID, "related_record_type": "<string>"},
                "value_type": "record_reference",
            },
            "ended_at": {"value": "2023-11-07T05:31:56Z", "value_type": "timestamp"},
            "badge_status": {"value": "<string>", "value_type": "string"},
            "location": {"value": "<string>", "value_type": "string"},
        },
        "record_type": "activity",
        "metadata": {
            "title": "<string>",
            "kind": "meeting",
            "location": "<string>",
            "start_date": "2023-11-07T05:31:56Z",
            "end_date": "2023-11-07T05:31:56Z",
            "status": "<string>",
            "meeting_type": "<string>",
            "participants": [
                {
                    "name": "<string>",
                    "email": "<string>",
                    "is_host": True,
                    "rsvp_status": "<string>",
                    "user_id": PAGE_ID,
                    "contact_id": PAGE_ID,
                }
            ],
        },
    }
}
# What a manual activity has no value for (and `metadata`, null for it as the page says).
ABSENT_FOR_MANUAL = {
    "data.attributes.status.value",
    "data.attributes.priority.value",
    "data.attributes.owner_user_id.value",
    "data.attributes.ended_at.value",
    "data.attributes.badge_status.value",
    "data.attributes.location.value",
    "data.metadata",
}
# Nothing this call takes sets a priority; a participant is a user or a contact.
ABSENT_FOR_MEETING = {
    "data.attributes.priority.value",
    "data.metadata.participants[].user_id",
    "data.metadata.participants[].contact_id",
}

ACCOUNT = str(uuid.uuid4())
OPPORTUNITY = str(uuid.uuid4())
SEQUENCE = str(uuid.uuid4())
PIPELINE_VALUE = str(uuid.uuid4())


def page_request(*contacts, **metadata) -> dict:
    """The page's example request, with real contact ids."""
    return {
        "attributes": {
            "metadata": {
                "activity_time": "2023-11-07T05:31:56Z",
                "subject": "Discovery call",
                "description": "Talked budgets.\nFollow up in May.",
                "category": "OTHER",
            }
            | metadata,
            "account_id": ACCOUNT,
            "opportunity_id": OPPORTUNITY,
            "contact_ids": [str(contact.pk) for contact in contacts],
            "sequence_id": SEQUENCE,
            "pipeline_select_list_value_id": PIPELINE_VALUE,
        }
    }


def meeting_request(*contacts, start=None, **metadata) -> dict:
    start = start or timezone.now() + timedelta(days=2)
    return {
        "attributes": {
            "type": "MEETING",
            "metadata": {
                "title": "Quarterly review",
                "kind": "meeting",
                "location": "Room 4, Hoover Building",
                "start_date": start.isoformat(),
                "end_date": (start + timedelta(hours=1)).isoformat(),
                "status": "scheduled",
                "meeting_type": "in_person",
                "participants": [
                    {
                        "name": "Walter Skinner",
                        "email": "skinner@fbi.example",
                        "is_host": True,
                        "rsvp_status": "accepted",
                        "user_id": PAGE_ID,
                        "contact_id": None,
                    }
                ]
                + [
                    {
                        "name": contact.name,
                        "email": contact.email,
                        "is_host": False,
                        "rsvp_status": "tentative",
                        "user_id": None,
                        "contact_id": str(contact.pk),
                    }
                    for contact in contacts
                ],
            }
            | metadata,
        }
    }


def json_type(value) -> str:
    return {
        dict: "object",
        list: "array",
        str: "string",
        bool: "boolean",
        int: "integer",
        float: "number",
        type(None): "null",
    }[type(value)]


def assert_shape(ours, page, absent=frozenset(), path=""):
    """Same keys at every level and the same JSON type for every value (null where absent)."""
    if ours is None and path in absent:
        return
    assert json_type(ours) == json_type(page), path
    if isinstance(page, dict):
        assert set(ours) == set(page), path
        for key in page:
            assert_shape(ours[key], page[key], absent, f"{path}.{key}".lstrip("."))
    elif isinstance(page, list):
        assert ours, path
        for item in ours:
            assert_shape(item, page[0], absent, f"{path}[]")


def field_errors(response) -> set[str]:
    return {error["field"] for error in response.json()["errors"]}


@pytest.fixture
def owner_api(client, workspace, owner):
    """A read-write token made by the owner, who therefore owns what it logs."""
    _, raw = ApiToken.issue(workspace=workspace, scope=ApiToken.Scope.WRITE, created_by=owner)
    return ApiClient(client, raw)


# The page's examples


def test_page_example_logs_a_manual_activity_in_the_page_shape(api, contact):
    response = api.post(URL, page_request(contact))

    assert response.status_code == 200
    body = response.json()
    assert_shape(body, PAGE_RESPONSE, ABSENT_FOR_MANUAL)
    data = body["data"]
    activity = Activity.objects.get()
    assert data["id"] == str(activity.pk)
    assert data["record_type"] == "activity"
    assert data["metadata"] is None
    assert data["attributes"]["type"] == {"value": "MANUAL_ACTIVITY", "value_type": "enum"}
    assert data["attributes"]["sub_type"] == {"value": "OTHER", "value_type": "enum"}
    assert data["attributes"]["display_name"] == {"value": "Discovery call", "value_type": "string"}
    assert data["attributes"]["ended_at"] == {"value": None, "value_type": "timestamp"}
    assert data["created_at"].endswith("Z")


def test_manual_activity_is_stored_with_its_references(api, contact, write_token):
    api.post(URL, page_request(contact))

    activity = Activity.objects.select_related("type").get()
    assert activity.type.key == "other"
    assert activity.source == Activity.Source.API
    assert activity.occurred_at == datetime(2023, 11, 7, 5, 31, 56, tzinfo=UTC)
    assert activity.title == "Discovery call"
    assert activity.body == "Talked budgets.\nFollow up in May."
    assert activity.category == "OTHER"
    assert (activity.account_id, activity.opportunity_id) == (ACCOUNT, OPPORTUNITY)
    assert (activity.sequence_id, activity.pipeline_stage_id) == (SEQUENCE, PIPELINE_VALUE)
    assert list(activity.contacts.all()) == [contact]
    assert activity.actor_kind == Activity.ActorKind.INTEGRATION
    assert activity.actor_external_id == str(ApiToken.objects.get().pk)
    assert activity.payload["attributes"]["metadata"]["subject"] == "Discovery call"
    assert activity.metadata == {}


def test_manual_activity_shows_on_the_contacts_timeline(api, contact, owner, client):
    api.post(URL, page_request(contact))

    client.force_login(owner)
    html = client.get(reverse("contact-detail", args=[contact.pk])).content.decode()
    assert "Discovery call" in html
    assert "Talked budgets." in html


def test_meeting_answers_exactly_the_page_shape(owner_api, contact, owner):
    start = timezone.now().replace(microsecond=0) + timedelta(days=2)
    response = owner_api.post(URL, meeting_request(contact, start=start))

    assert response.status_code == 200
    body = response.json()
    assert_shape(body, PAGE_RESPONSE, ABSENT_FOR_MEETING)
    attributes = body["data"]["attributes"]
    assert attributes["type"]["value"] == "MEETING"
    assert attributes["sub_type"]["value"] == "in_person"
    assert attributes["status"]["value"] == "scheduled"
    assert attributes["location"]["value"] == "Room 4, Hoover Building"
    assert attributes["badge_status"]["value"] == "upcoming"
    assert attributes["priority"] == {"value": None, "value_type": "enum"}
    assert attributes["ended_at"]["value"] == (start + timedelta(hours=1)).astimezone(
        UTC
    ).isoformat().replace("+00:00", "Z")
    assert attributes["owner_user_id"]["value"] == {
        "related_record_id": str(owner.pk),
        "related_record_type": "user",
    }
    metadata = body["data"]["metadata"]
    assert metadata["kind"] == "meeting"
    assert metadata["participants"][1]["contact_id"] == str(contact.pk)


def test_meeting_is_stored_as_the_contact_page_shows_it(api, contact, owner, client):
    start = datetime(2030, 1, 15, 14, 0, tzinfo=UTC)
    api.post(URL, meeting_request(contact, start=start))

    activity = Activity.objects.select_related("type").get()
    assert activity.type.key == "meeting"
    assert (activity.occurred_at, activity.ended_at) == (start, start + timedelta(hours=1))
    assert activity.title == "Quarterly review"
    assert activity.metadata["start_date"] == "2030-01-15T14:00:00Z"
    assert activity.meeting["start"] == start
    client.force_login(owner)
    html = client.get(reverse("contact-detail", args=[contact.pk])).content.decode()
    assert "Quarterly review" in html
    assert "Room 4, Hoover Building" in html
    assert "Walter Skinner" in html


# Types and metadata


@pytest.mark.parametrize(
    ("category", "type_key"),
    [("CALL", "call"), ("email", "email"), ("TASK", "task"), ("LINKEDIN", "other")],
)
def test_a_manual_activitys_category_picks_its_timeline_type(api, contact, category, type_key):
    response = api.post(URL, page_request(contact, category=category))

    assert response.status_code == 200
    activity = Activity.objects.select_related("type").get()
    assert (activity.type.key, activity.category) == (type_key, category)


def test_a_matching_type_is_accepted(api, contact):
    manual = page_request(contact)
    manual["attributes"]["type"] = "MANUAL_ACTIVITY"

    assert api.post(URL, manual).status_code == 200
    assert api.post(URL, meeting_request(contact)).status_code == 200
    assert Activity.objects.count() == 2


@pytest.mark.parametrize(
    ("activity_type", "metadata"),
    [
        ("MEETING", {"activity_time": "2023-11-07T05:31:56Z", "subject": "Call"}),
        (
            "MANUAL_ACTIVITY",
            {"kind": "meeting", "title": "Review", "start_date": "2030-01-01T10:00:00Z"},
        ),
    ],
)
def test_metadata_that_does_not_match_the_type_is_refused(api, contact, activity_type, metadata):
    body = {"attributes": {"type": activity_type, "metadata": metadata}}

    response = api.post(URL, body)

    assert response.status_code == 422
    assert field_errors(response) == {"attributes.metadata"}
    assert "does not match type" in response.json()["errors"][0]["message"]
    assert not Activity.objects.exists()


def test_an_unknown_kind_or_type_is_refused(api):
    unknown_kind = {"attributes": {"metadata": {"kind": "webinar", "title": "x"}}}
    unknown_type = page_request()
    unknown_type["attributes"]["type"] = "NOTE"

    assert field_errors(api.post(URL, unknown_kind)) == {"attributes.metadata"}
    assert field_errors(api.post(URL, unknown_type)) == {"attributes.type"}
    assert not Activity.objects.exists()


def test_several_contacts_share_one_activity(api, workspace, contact):
    other = Contact.objects.create(workspace=workspace, name="Fox Mulder")

    api.post(URL, page_request(contact, other, contact))

    activity = Activity.objects.get()
    assert set(activity.contacts.all()) == {contact, other}


def test_participants_that_are_contacts_get_the_meeting_too(api, workspace, contact):
    other = Contact.objects.create(workspace=workspace, name="Fox Mulder")
    body = meeting_request(other)
    body["attributes"]["contact_ids"] = [str(contact.pk)]

    api.post(URL, body)

    assert set(Activity.objects.get().contacts.all()) == {contact, other}


def test_times_without_an_offset_are_utc(api, contact):
    body = page_request(contact, activity_time="2023-11-07T05:31:56")
    meeting = meeting_request(contact, start=datetime(2030, 1, 15, 15, 0))
    meeting["attributes"]["metadata"]["end_date"] = "2030-01-15T17:00:00+01:00"

    api.post(URL, body)
    response = api.post(URL, meeting)

    times = {a.occurred_at for a in Activity.objects.all()}
    assert times == {
        datetime(2023, 11, 7, 5, 31, 56, tzinfo=UTC),
        datetime(2030, 1, 15, 15, 0, tzinfo=UTC),
    }
    assert response.json()["data"]["metadata"]["end_date"] == "2030-01-15T16:00:00Z"


def test_an_overdue_task_has_a_badge(api, contact):
    body = page_request(contact, category="TASK")

    response = api.post(URL, body)

    assert response.json()["data"]["attributes"]["badge_status"]["value"] == "overdue"


# Invalid bodies: 422 naming each bad field, and nothing written


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"attributes"}),
        ({"attributes": None}, {"attributes"}),
        ({"attributes": {}}, {"attributes.metadata"}),
        ({"attributes": {"metadata": "call"}}, {"attributes.metadata"}),
        (
            page_request(activity_time="last tuesday"),
            {"attributes.metadata.manual_activity.activity_time"},
        ),
        (page_request(activity_time=None), {"attributes.metadata.manual_activity.activity_time"}),
        (page_request(subject=42), {"attributes.metadata.manual_activity.subject"}),
        (page_request(subject="x" * 501), {"attributes.metadata.manual_activity.subject"}),
        (page_request(subject="a\x00b"), {"attributes.metadata.subject"}),
        (
            page_request(description="x" * 50_001),
            {"attributes.metadata.manual_activity.description"},
        ),
        (page_request(category=["OTHER"]), {"attributes.metadata.manual_activity.category"}),
        (
            {
                "attributes": {
                    "metadata": {"activity_time": "9999-12-31T23:00:00-05:00", "subject": "x"}
                }
            },
            {"attributes.metadata.manual_activity.activity_time"},
        ),
        (
            {
                "attributes": {
                    "metadata": {"activity_time": "2023-11-07T05:31:56Z", "subject": "x"},
                    "account_id": "acme",
                    "opportunity_id": 7,
                    "contact_ids": ["not-a-uuid"],
                    "sequence_id": {"id": 1},
                    "pipeline_select_list_value_id": [],
                }
            },
            {
                "attributes.account_id",
                "attributes.opportunity_id",
                "attributes.contact_ids.0",
                "attributes.sequence_id",
                "attributes.pipeline_select_list_value_id",
            },
        ),
        (
            {
                "attributes": {
                    "metadata": {"activity_time": "2023-11-07T05:31:56Z", "subject": "x"},
                    "contact_ids": [str(uuid.uuid4())] * 101,
                }
            },
            {"attributes.contact_ids"},
        ),
        (
            {
                "attributes": {
                    "metadata": {
                        "kind": "meeting",
                        "title": "x",
                        "start_date": "2030-01-02T00:00:00Z",
                        "end_date": "2030-01-01T00:00:00Z",
                    }
                }
            },
            {"attributes.metadata.meeting"},
        ),
        (
            {
                "attributes": {
                    "metadata": {
                        "kind": "meeting",
                        "title": "x",
                        "start_date": "2030-01-02T00:00:00Z",
                        "participants": [{"is_host": "yes", "contact_id": "me"}],
                    }
                }
            },
            {
                "attributes.metadata.meeting.participants.0.is_host",
                "attributes.metadata.meeting.participants.0.contact_id",
            },
        ),
        (
            {
                "attributes": {
                    "metadata": {
                        "kind": "meeting",
                        "title": "x",
                        "start_date": "2030-01-02T00:00:00Z",
                        "participants": [{}] * 201,
                    }
                }
            },
            {"attributes.metadata.meeting.participants"},
        ),
    ],
)
def test_invalid_bodies_name_each_bad_field(api, body, fields):
    response = api.post(URL, body)

    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert field_errors(response) == fields
    assert not Activity.objects.exists()


@pytest.mark.parametrize("raw", ["{not json", "[]", '"x"', "[" * 100_000 + "]" * 100_000])
def test_malformed_json_is_refused(api, raw):
    response = api.post(URL, raw=raw)

    assert response.status_code == 422
    assert response.json()["status"] == 422


def test_a_body_over_the_size_bound_answers_413(api, contact):
    body = page_request(contact, description="x" * 2_000_000)

    response = api.post(URL, body)

    assert response.status_code == 413
    assert not Activity.objects.exists()


# Contacts of other workspaces, and tokens


def test_unknown_or_foreign_contacts_answer_404_naming_the_field(api, contact, outsider_contact):
    body = page_request(contact, outsider_contact)
    body["attributes"]["contact_ids"].append(str(uuid.uuid4()))

    response = api.post(URL, body)

    assert response.status_code == 404
    assert field_errors(response) == {"attributes.contact_ids.1", "attributes.contact_ids.2"}
    assert not Activity.objects.exists()


def test_a_foreign_participant_answers_404_naming_it(api, outsider_contact):
    response = api.post(URL, meeting_request(outsider_contact))

    assert response.status_code == 404
    assert field_errors(response) == {"attributes.metadata.participants.1.contact_id"}


def test_an_outsiders_token_cannot_reach_our_contacts(outsider_api, contact):
    response = outsider_api.post(URL, page_request(contact))

    assert response.status_code == 404
    assert not Activity.objects.exists()


def test_a_read_token_cannot_log(read_api, contact):
    response = read_api.post(URL, page_request(contact))

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert not Activity.objects.exists()


@pytest.mark.parametrize("token", [None, "trl_not-a-token"])
def test_no_or_a_bad_token_answers_401(client, contact, token):
    response = ApiClient(client, token).post(URL, page_request(contact))

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert not Activity.objects.exists()


def test_a_revoked_token_answers_401(api, contact):
    ApiToken.objects.update(revoked_at=timezone.now())

    response = api.post(URL, page_request(contact))

    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_answer_405(api, method):
    response = api.send(method, URL)

    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
    assert response.headers["Allow"] == "POST"


def test_the_operation_is_documented(client):
    operation = client.get("/api/openapi.json").json()["paths"][URL]["post"]

    assert operation["operationId"] == "reevo_log_activity"
    assert {"200", "401", "403", "404", "422"} <= set(operation["responses"])
