"""Conquest's `POST /v1/activities` (seed 000)."""

import json
import re
import threading
import uuid

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from activities import services
from activities.models import Activity, ActivityType
from contacts.models import ApiToken, Contact

PATH = "/v1/activities"

# The page's example response.
PAGE_RESPONSE = {
    "activity": {
        "id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "externalId": "<string>",
        "title": "<string>",
        "message": "<string>",
        "replyTo": "<string>",
        "reactTo": "<string>",
        "inviteTo": "<string>",
        "source": "Api",
        "activityTypeId": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "channelId": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "eventId": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "memberId": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "workspaceId": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "createdAt": "2023-11-07T05:31:56Z",
        "updatedAt": "2023-11-07T05:31:56Z",
    }
}
UTC_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def json_type(value) -> str:
    for kind, name in [(bool, "boolean"), ((int, float), "number"), (str, "string")]:
        if isinstance(value, kind):
            return name
    return {type(None): "null", list: "array", dict: "object"}[type(value)]


def assert_same_shape(actual, expected, where="response") -> None:
    assert json_type(actual) == json_type(expected), where
    if isinstance(expected, dict):
        assert set(actual) == set(expected), where
        for key, value in expected.items():
            assert_same_shape(actual[key], value, f"{where}.{key}")


def post_activity(workspace, contact, **fields) -> Activity:
    activity, _ = services.log_activity(
        workspace=workspace, type_key="api:message", contacts=[contact], **fields
    )
    return activity


@pytest.fixture
def parent(workspace, contact) -> Activity:
    return post_activity(workspace, contact, title="Welcome to the community")


@pytest.fixture
def page_request(contact, parent) -> dict:
    """The page's example request, with ids of this workspace."""
    return {
        "activityTypeKey": "api:message",
        "externalId": "msg-1001",
        "title": "Re: welcome",
        "message": "Thanks, glad to be here!",
        "replyTo": str(parent.pk),
        "reactTo": str(parent.pk),
        "inviteTo": str(parent.pk),
        "channelId": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "eventId": "9f0e3c1a-0d44-4b50-8888-8dd25736052a",
        "memberId": str(contact.pk),
    }


@pytest.fixture
def minimal_request(contact) -> dict:
    return {"activityTypeKey": "api:message", "memberId": str(contact.pk), "title": "Said hello"}


# The page's example


def test_page_example_answers_200_with_the_page_shape(api, page_request):
    response = api.post(PATH, page_request)

    assert response.status_code == 200
    assert_same_shape(response.json(), PAGE_RESPONSE)


def test_answer_carries_what_was_stored(api, page_request, workspace, contact, parent):
    answer = api.post(PATH, page_request).json()["activity"]

    activity = Activity.objects.get(pk=answer["id"])
    assert answer == {
        "id": str(activity.pk),
        "externalId": "msg-1001",
        "title": "Re: welcome",
        "message": "Thanks, glad to be here!",
        "replyTo": str(parent.pk),
        "reactTo": str(parent.pk),
        "inviteTo": str(parent.pk),
        "source": "Api",
        "activityTypeId": str(activity.type_id),
        "channelId": page_request["channelId"],
        "eventId": page_request["eventId"],
        "memberId": str(contact.pk),
        "workspaceId": str(workspace.pk),
        "createdAt": answer["createdAt"],
        "updatedAt": answer["updatedAt"],
    }
    assert UTC_TIME.match(answer["createdAt"])
    assert UTC_TIME.match(answer["updatedAt"])


def test_page_example_is_stored_with_its_type_source_references_and_contact(
    api, page_request, workspace, contact, parent, write_token
):
    answer = api.post(PATH, page_request).json()["activity"]

    activity = Activity.objects.get(pk=answer["id"])
    assert activity.workspace == workspace
    assert activity.type.key == "api:message"
    assert activity.type == ActivityType.objects.get(workspace=workspace, key="api:message")
    assert activity.source == Activity.Source.API
    assert (activity.title, activity.body) == ("Re: welcome", "Thanks, glad to be here!")
    assert activity.external_id == "msg-1001"
    assert (activity.reply_to, activity.react_to, activity.invite_to) == (parent, parent, parent)
    assert (activity.channel_id, activity.event_id) == (
        page_request["channelId"],
        page_request["eventId"],
    )
    assert list(activity.contacts.all()) == [contact]
    assert activity.actor_kind == Activity.ActorKind.INTEGRATION
    assert activity.actor_name == ApiToken.objects.get(token_hash=ApiToken.hash(write_token)).name
    assert activity.payload == page_request


def test_absent_optional_fields_answer_null(api, minimal_request):
    answer = api.post(PATH, minimal_request).json()["activity"]

    for field in ["externalId", "message", "replyTo", "reactTo", "inviteTo", "channelId"]:
        assert answer[field] is None, field
    assert answer["eventId"] is None
    assert answer["title"] == "Said hello"


def test_posted_activity_shows_on_the_contacts_timeline(api, owner_client, contact):
    api.post(
        PATH,
        {
            "activityTypeKey": "api:message",
            "memberId": str(contact.pk),
            "title": "Asked about pricing",
            "message": "Which plan covers 40 seats?",
            "channelId": "discord-general",
        },
    )

    page = owner_client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "Asked about pricing" in page
    assert "Which plan covers 40 seats?" in page
    assert "discord-general" in page


def test_reply_shows_under_its_parent_on_the_timeline(api, owner_client, page_request, contact):
    api.post(PATH, page_request | {"reactTo": None, "inviteTo": None})

    page = owner_client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "Welcome to the community" in page
    assert "Thanks, glad to be here!" in page


def test_an_unknown_type_key_creates_the_type_once(api, minimal_request, workspace):
    first = api.post(PATH, minimal_request | {"activityTypeKey": "api:kudos"}).json()
    second = api.post(PATH, minimal_request | {"activityTypeKey": "api:kudos"}).json()

    kudos = ActivityType.objects.get(workspace=workspace, key="api:kudos")
    assert kudos.name == "Kudos"
    assert first["activity"]["activityTypeId"] == second["activity"]["activityTypeId"]
    assert first["activity"]["activityTypeId"] == str(kudos.pk)


def test_a_create_runs_a_fixed_few_statements(api, minimal_request, django_assert_num_queries):
    api.post(PATH, minimal_request)  # a token's first use is written once
    # The token, the member, the type; then in one savepoint the activity, its link and
    # the contact's last activity time.
    with django_assert_num_queries(8):
        response = api.post(PATH, minimal_request)
    assert response.status_code == 200
    assert Activity.objects.filter(title="Said hello").count() == 2


# Re-sending an external id


def test_resending_an_external_id_answers_the_stored_activity_and_stores_nothing(
    api, minimal_request
):
    first = api.post(PATH, minimal_request | {"externalId": "msg-7"})
    again = api.post(PATH, minimal_request | {"externalId": "msg-7", "title": "Changed"})

    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.json()["activity"]["title"] == "Said hello"
    assert Activity.objects.filter(external_id="msg-7").count() == 1


def test_resending_an_external_id_for_another_member_answers_the_stored_member(
    api, minimal_request, workspace, contact
):
    other = Contact.objects.create(workspace=workspace, name="Fox Mulder")
    first = api.post(PATH, minimal_request | {"externalId": "msg-9"})
    again = api.post(PATH, minimal_request | {"externalId": "msg-9", "memberId": str(other.pk)})

    assert first.json()["activity"]["memberId"] == str(contact.pk)
    assert again.json() == first.json()


def test_the_same_external_id_in_another_workspace_is_another_activity(
    api, outsider_api, minimal_request, outsider_contact
):
    ours = api.post(PATH, minimal_request | {"externalId": "msg-8"}).json()
    theirs = outsider_api.post(
        PATH, minimal_request | {"externalId": "msg-8", "memberId": str(outsider_contact.pk)}
    ).json()

    assert ours["activity"]["id"] != theirs["activity"]["id"]
    assert theirs["activity"]["workspaceId"] == str(outsider_contact.workspace_id)


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="a real race needs concurrent writers; SQLite runs writers one at a time. "
    "Run with DATABASE_URL=postgres://…",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_resends_of_one_external_id_store_one_activity(write_token, contact):
    count = 4
    barrier = threading.Barrier(count, timeout=10)
    body = json.dumps(
        {"activityTypeKey": "api:race", "memberId": str(contact.pk), "externalId": "race-1"}
    )
    answers: list = [None] * count

    def send(index: int) -> None:
        client = Client(headers={"Authorization": f"Bearer {write_token}"})
        try:
            barrier.wait()
            response = client.post(PATH, body, content_type="application/json")
            answers[index] = (response.status_code, response.json()["activity"]["id"])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    stored = Activity.objects.get(external_id="race-1")
    assert answers == [(200, str(stored.pk))] * count
    assert stored.links.count() == 1


# Ids outside the workspace: 404 naming the field


def error_fields(response) -> set[str]:
    return {error["field"] for error in response.json()["errors"]}


@pytest.mark.parametrize("member_id", [str(uuid.uuid4()), "not-a-uuid", ""])
def test_unknown_member_answers_404_naming_member_id(api, minimal_request, member_id):
    response = api.post(PATH, minimal_request | {"memberId": member_id})

    assert response.status_code == 404
    assert error_fields(response) == {"memberId"}
    assert not Activity.objects.exists()


def test_member_of_another_workspace_answers_404(api, minimal_request, outsider_contact):
    response = api.post(PATH, minimal_request | {"memberId": str(outsider_contact.pk)})

    assert response.status_code == 404
    assert error_fields(response) == {"memberId"}
    assert not outsider_contact.activities.exists()


def test_outsider_token_answers_404_for_our_contact(outsider_api, minimal_request, contact):
    response = outsider_api.post(PATH, minimal_request)

    assert response.status_code == 404
    assert not contact.activities.exists()


@pytest.mark.parametrize("field", ["replyTo", "reactTo", "inviteTo"])
def test_thread_parent_outside_the_workspace_answers_404_naming_it(
    api, minimal_request, other_workspace, outsider_contact, field
):
    theirs = post_activity(other_workspace, outsider_contact)

    for parent_id in [str(theirs.pk), str(uuid.uuid4()), "nope"]:
        response = api.post(PATH, minimal_request | {field: parent_id})
        assert response.status_code == 404
        assert error_fields(response) == {field}
    assert Activity.objects.count() == 1


def test_every_unknown_id_is_named(api, minimal_request):
    response = api.post(
        PATH, minimal_request | {"memberId": "x", "replyTo": "y", "inviteTo": str(uuid.uuid4())}
    )

    assert response.status_code == 404
    assert error_fields(response) == {"memberId", "replyTo", "inviteTo"}


# Authentication and permissions


def test_read_token_answers_403(read_api, minimal_request):
    response = read_api.post(PATH, minimal_request)

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert not Activity.objects.exists()


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic dXNlcjpwYXNz", "Bearer "])
def test_missing_or_bad_token_answers_401(client, minimal_request, header):
    headers = {"Authorization": header} if header else {}
    response = client.post(
        PATH, json.dumps(minimal_request), content_type="application/json", headers=headers
    )

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not Activity.objects.exists()


def test_revoked_token_answers_401(api, minimal_request, write_token):
    ApiToken.objects.filter(token_hash=ApiToken.hash(write_token)).update(revoked_at=timezone.now())

    response = api.post(PATH, minimal_request)

    assert response.status_code == 401
    assert "WWW-Authenticate" in response


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_other_methods_answer_405_with_allow(api, method):
    response = api.send(method, PATH, {})

    assert response.status_code == 405
    assert "POST" in response["Allow"]


# Bad bodies: 422 naming each bad field, never a 500


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"activityTypeKey": None}, {"activityTypeKey"}),
        ({"activityTypeKey": "   "}, {"activityTypeKey"}),
        ({"activityTypeKey": "k" * 101}, {"activityTypeKey"}),
        ({"activityTypeKey": ["api:message"]}, {"activityTypeKey"}),
        ({"memberId": None}, {"memberId"}),
        ({"memberId": 42}, {"memberId"}),
        ({"memberId": {"id": "x"}}, {"memberId"}),
        ({"memberId": "m" * 101}, {"memberId"}),
        ({"title": "t" * 501}, {"title"}),
        ({"title": 5}, {"title"}),
        ({"message": "m" * 50_001}, {"message"}),
        ({"externalId": "e" * 201}, {"externalId"}),
        ({"externalId": 12}, {"externalId"}),
        ({"replyTo": ["x"]}, {"replyTo"}),
        ({"channelId": "c" * 101}, {"channelId"}),
        ({"eventId": True}, {"eventId"}),
        ({"title": 1, "message": [], "channelId": {}}, {"title", "message", "channelId"}),
    ],
)
def test_invalid_fields_answer_422_naming_each(api, minimal_request, changes, fields):
    response = api.post(PATH, minimal_request | changes)

    assert response.status_code == 422
    assert error_fields(response) == fields
    assert not Activity.objects.exists()


def test_missing_required_fields_are_named(api):
    response = api.post(PATH, {"title": "Hello"})

    assert response.status_code == 422
    assert error_fields(response) == {"activityTypeKey", "memberId"}


@pytest.mark.parametrize("raw", ["{not json", "", "[1, 2]", '"text"', "null", "\x00\xff"])
def test_malformed_bodies_answer_422(api, raw):
    response = api.post(PATH, raw=raw)

    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


def test_unknown_fields_are_ignored(api, minimal_request):
    response = api.post(PATH, minimal_request | {"nested": {"garbage": [1, {"x": None}]}})

    assert response.status_code == 200


def test_a_body_over_the_size_bound_answers_413(api, minimal_request, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post(PATH, minimal_request | {"message": "m" * 2000})

    assert response.status_code == 413
    assert not Activity.objects.exists()


def test_the_operation_is_documented(client):
    operation = client.get("/api/openapi.json").json()["paths"][PATH]["post"]

    assert operation["operationId"] == "conquestCreateActivity"
    assert set(operation["responses"]) == {"200", "401", "403", "404", "405", "413", "422", "429"}
