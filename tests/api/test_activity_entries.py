"""The activity-stream SDK's `Post(ActivityEntry)` as `POST /api/activity-entries` (seed 001)."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from activities.api.activity_entries import past_tense
from activities.models import Activity, Attachment, Notification, Target
from contacts.models import ApiToken, Contact, Membership

PATH = "/api/activity-entries"


def json_type(value) -> str:
    for kind, name in [(bool, "boolean"), ((int, float), "number"), (str, "string")]:
        if isinstance(value, kind):
            return name
    return {type(None): "null", list: "array", dict: "object"}[type(value)]


def error_fields(response) -> set[str]:
    return {error["field"] for error in response.json()["errors"]}


def posted(response) -> Activity:
    assert response.status_code == 201, response.content
    return Activity.objects.get(pk=response.json()["id"])


@pytest.fixture
def accountant(workspace) -> User:
    """A member whose username is the "accounting" identity the page's examples target."""
    user = User.objects.create_user("accounting", first_name="Avery")
    Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def on_contact(contact) -> dict:
    return {"objectType": "contact", "objectId": str(contact.pk)}


# The page's five remarks


def test_basic_activity_for_everyone_answers_201_with_its_id(api, contact, on_contact):
    response = api.post(PATH, {"@type": "share", "actor": "Zendesk", **on_contact})

    assert response.status_code == 201
    assert set(response.json()) == {"id"}
    assert json_type(response.json()["id"]) == "string"
    activity = posted(response)
    assert activity.type.key == "stream:share"
    assert activity.type.name == "Share"
    assert activity.source == Activity.Source.API
    assert activity.title == "Zendesk shared contact Dana Scully"
    assert list(activity.contacts.all()) == [contact]
    assert (activity.object_type, activity.object_id) == ("", "")
    assert not activity.restricted
    assert activity.payload == {"@type": "share", "actor": "Zendesk", **on_contact}


def test_basic_activity_shows_on_the_contact_page_for_every_member(
    api, client, owner, teammate, contact, on_contact
):
    api.post(PATH, {"@type": "share", "actor": "Zendesk", **on_contact})

    for member in [owner, teammate]:
        client.force_login(member)
        page = client.get(f"/contacts/{contact.pk}/").content.decode()
        assert "Zendesk shared contact Dana Scully" in page, member


def test_activity_for_administrators_only_is_hidden_from_other_members(
    api, client, owner, teammate, contact, on_contact
):
    activity = posted(
        api.post(
            PATH,
            {"@type": "update", "actor": "Zendesk", "targets": [{"targetId": "administrators"}]}
            | on_contact,
        )
    )

    assert activity.restricted
    assert list(activity.targets.values_list("kind", "target_id", "notify")) == [
        (Target.Kind.IDENTITY, "administrators", False)
    ]
    assert not Notification.objects.exists()
    client.force_login(owner)
    assert "Zendesk updated contact" in client.get(f"/contacts/{contact.pk}/").content.decode()
    client.force_login(teammate)
    assert "Zendesk updated contact" not in client.get(f"/contacts/{contact.pk}/").content.decode()


def test_activity_for_administrators_and_accounting_notifies_accounting(
    api, client, owner, teammate, accountant, contact, on_contact
):
    activity = posted(
        api.post(
            PATH,
            {
                "@type": "assign",
                "actor": "Billing",
                "targets": [
                    {"@type": "Identity", "targetId": "administrators"},
                    {"@type": "Identity", "targetId": "accounting", "notify": True},
                ],
            }
            | on_contact,
        )
    )

    assert list(Notification.objects.values_list("user", "activity")) == [
        (accountant.pk, activity.pk)
    ]
    for member, sees in [(owner, True), (accountant, True), (teammate, False)]:
        client.force_login(member)
        page = client.get(f"/contacts/{contact.pk}/").content.decode()
        assert ("Billing assigned contact" in page) is sees, member


def test_activity_with_a_file_attachment(api, owner_client, contact, on_contact):
    activity = posted(
        api.post(PATH, {"@type": "share", "attachments": ["file-q3-report.pdf"], **on_contact})
    )

    assert list(activity.attachments.values_list("kind", "external_id", "url")) == [
        (Attachment.Kind.FILE, "file-q3-report.pdf", "")
    ]
    assert "file-q3-report.pdf" in owner_client.get(f"/contacts/{contact.pk}/").content.decode()


def test_activity_on_a_case_is_a_reference_in_the_feed(api, owner_client):
    activity = posted(
        api.post(
            PATH, {"@type": "update", "actor": "Zendesk", "objectType": "case", "objectId": "1234"}
        )
    )

    assert (activity.object_type, activity.object_id) == ("case", "1234")
    assert not activity.contacts.exists()
    assert activity.title == "Zendesk updated case 1234"
    assert "Zendesk updated case 1234" in owner_client.get("/activities/").content.decode()


# The object


@pytest.mark.parametrize("object_type", ["contact", "Customer", "CONTACT"])
def test_contact_object_by_external_id_goes_on_its_timeline(api, workspace, object_type):
    contact = Contact.objects.create(workspace=workspace, name="Fox Mulder", external_id="crm-42")

    activity = posted(
        api.post(PATH, {"@type": "update", "objectType": object_type, "objectId": "crm-42"})
    )

    assert list(activity.contacts.all()) == [contact]
    assert activity.object_type == ""


@pytest.mark.parametrize("object_id", [str(uuid.uuid4()), "no-such-external-id"])
def test_unknown_contact_answers_404_naming_object_id(api, object_id):
    response = api.post(PATH, {"objectType": "contact", "objectId": object_id})

    assert response.status_code == 404
    assert error_fields(response) == {"objectId"}
    assert not Activity.objects.exists()


def test_contact_of_another_workspace_answers_404(api, outsider_contact):
    outsider_contact.external_id = "theirs-1"
    outsider_contact.save()

    for object_id in [str(outsider_contact.pk), "theirs-1"]:
        response = api.post(PATH, {"objectType": "customer", "objectId": object_id})
        assert response.status_code == 404
    assert not Activity.objects.exists()


def test_outsider_token_answers_404_for_our_contact(outsider_api, contact, on_contact):
    response = outsider_api.post(PATH, on_contact)

    assert response.status_code == 404
    assert not contact.activities.exists()


def test_the_verb_defaults_to_post(api, on_contact, write_token):
    activity = posted(api.post(PATH, on_contact))

    assert activity.type.key == "stream:post"
    token_name = ApiToken.objects.get(token_hash=ApiToken.hash(write_token)).name
    assert activity.title == f"{token_name} posted contact Dana Scully"


# The actor


@pytest.mark.parametrize("actor", ["alice", {"id": "alice"}, {"@type": "Identity", "id": "alice"}])
def test_actor_naming_a_member_by_username_is_that_user(api, owner, on_contact, actor):
    activity = posted(api.post(PATH, {"actor": actor, **on_contact}))

    assert activity.actor_kind == Activity.ActorKind.USER
    assert activity.actor_user == owner
    assert activity.title.startswith("Alice posted")


def test_actor_naming_a_member_by_numeric_id_is_that_user(api, owner, on_contact):
    for actor in [{"id": owner.pk}, {"id": str(owner.pk)}]:
        activity = posted(api.post(PATH, {"actor": actor, **on_contact}))
        assert activity.actor_user == owner


def test_actor_outside_the_workspace_is_an_integration(api, outsider, on_contact):
    identity = {
        "@type": "Identity",
        "id": "mallory",
        "name": "Mallory",
        "email": "mallory@example.com",
        "avatar": "https://example.com/m.png",
    }

    activity = posted(api.post(PATH, {"actor": identity, **on_contact}))

    assert activity.actor_kind == Activity.ActorKind.INTEGRATION
    assert activity.actor_user is None
    assert (activity.actor_name, activity.actor_external_id) == ("Mallory", "mallory")
    assert activity.actor_email == "mallory@example.com"
    assert activity.actor_avatar_url == "https://example.com/m.png"


def test_without_an_actor_the_tokens_integration_acts(api, on_contact, write_token):
    for actor in [None, {}]:
        activity = posted(api.post(PATH, {"actor": actor, **on_contact}))
        assert activity.actor_kind == Activity.ActorKind.INTEGRATION
        assert activity.actor_name == "write token"


# Attachments and targets


def test_attachments_of_every_kind(api, on_contact):
    activity = posted(
        api.post(
            PATH,
            {
                "attachments": [
                    "f-1",
                    {"id": "f-2"},
                    {"@type": "link", "id": "https://example.com/spec"},
                    {"@type": "video", "id": "vid-9"},
                ],
                **on_contact,
            },
        )
    )

    assert set(activity.attachments.values_list("kind", "external_id", "url")) == {
        ("file", "f-1", ""),
        ("file", "f-2", ""),
        ("link", "https://example.com/spec", "https://example.com/spec"),
        ("video", "vid-9", ""),
    }


def test_a_targeted_member_with_notify_gets_a_notification(api, teammate, owner, on_contact):
    activity = posted(
        api.post(PATH, {"targets": [{"targetId": str(teammate.pk), "notify": True}], **on_contact})
    )

    assert list(Notification.objects.values_list("user", "activity")) == [
        (teammate.pk, activity.pk)
    ]
    assert Notification.objects.get().workspace_id == activity.workspace_id


@pytest.mark.parametrize("kind", ["Everyone", "Members", "Public"])
def test_wide_targets_keep_it_visible_and_notify_every_member(
    api, client, owner, teammate, contact, on_contact, kind
):
    activity = posted(
        api.post(
            PATH,
            {
                "actor": "Zendesk",
                "targets": [{"targetId": "administrators"}, {"@type": kind, "notify": True}],
                **on_contact,
            },
        )
    )

    assert not activity.restricted
    assert set(Notification.objects.values_list("user", flat=True)) == {owner.pk, teammate.pk}
    client.force_login(teammate)
    assert "Zendesk posted contact" in client.get(f"/contacts/{contact.pk}/").content.decode()


# Times


def test_published_at_is_stored_in_utc(api, on_contact):
    with_offset = posted(api.post(PATH, {"publishedAt": "2024-03-01T10:00:00+02:00", **on_contact}))
    naive = posted(api.post(PATH, {"publishedAt": "2024-03-01T10:00:00", **on_contact}))

    assert with_offset.occurred_at == datetime(2024, 3, 1, 8, tzinfo=UTC)
    assert naive.occurred_at == datetime(2024, 3, 1, 10, tzinfo=UTC)


def test_published_at_defaults_to_now(api, on_contact):
    activity = posted(api.post(PATH, {**on_contact, "publishedAt": None}))

    assert timezone.now() - activity.occurred_at < timedelta(minutes=1)


# Authentication and permissions


def test_read_token_answers_403(read_api, on_contact):
    response = read_api.post(PATH, on_contact)

    assert response.status_code == 403
    assert not Activity.objects.exists()


@pytest.mark.parametrize("header", [None, "Bearer nope", "Token abc"])
def test_missing_or_bad_token_answers_401(client, on_contact, header):
    headers = {"Authorization": header} if header else {}
    response = client.post(
        PATH, json.dumps(on_contact), content_type="application/json", headers=headers
    )

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_answers_401(api, on_contact, write_token):
    ApiToken.objects.filter(token_hash=ApiToken.hash(write_token)).update(revoked_at=timezone.now())

    response = api.post(PATH, on_contact)

    assert response.status_code == 401
    assert "WWW-Authenticate" in response


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_answer_405_with_allow(api, method):
    response = api.send(method, PATH, {})

    assert response.status_code == 405
    assert "POST" in response["Allow"]


# Bad bodies: 422 naming each bad field, never a 500


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"objectId", "objectType"}),
        ({"objectType": "case"}, {"objectId"}),
        ({"objectId": "1234"}, {"objectType"}),
        ({"objectType": None, "objectId": None}, {"objectId", "objectType"}),
        ({"objectType": "case", "objectId": 1234}, {"objectId"}),
        ({"objectType": "  ", "objectId": ""}, {"objectId", "objectType"}),
        ({"objectType": "c" * 101, "objectId": "i" * 201}, {"objectId", "objectType"}),
        ({"@type": "v" * 94}, {"@type"}),
        ({"@type": ["share"]}, {"@type"}),
        ({"actor": ["alice"]}, {"actor"}),
        ({"actor": {"name": "n" * 201}}, {"actor.name"}),
        ({"actor": {"id": {"nested": 1}}}, {"actor.id"}),
        ({"attachments": "f-1"}, {"attachments"}),
        ({"attachments": [5]}, {"attachments.0"}),
        ({"attachments": [{"@type": "image", "id": "x"}]}, {"attachments.0.@type"}),
        ({"attachments": [{"@type": "link"}]}, {"attachments.0.id"}),
        ({"attachments": ["a" * 501]}, {"attachments.0.id"}),
        ({"attachments": ["f"] * 101}, {"attachments"}),
        ({"targets": [{"@type": "Team", "targetId": "x"}]}, {"targets.0.@type"}),
        ({"targets": ["administrators"]}, {"targets.0"}),
        ({"targets": [{"targetId": "x", "notify": "yes"}]}, {"targets.0.notify"}),
        ({"targets": {"targetId": "x"}}, {"targets"}),
        ({"publishedAt": "yesterday"}, {"publishedAt"}),
        ({"publishedAt": "9999-12-31T23:00:00-05:00"}, {"publishedAt"}),
        ({"publishedAt": ["2024-01-01"]}, {"publishedAt"}),
    ],
)
def test_invalid_fields_answer_422_naming_each(api, on_contact, body, fields):
    base = on_contact if not fields & {"objectId", "objectType"} else {}
    response = api.post(PATH, base | body)

    assert response.status_code == 422
    assert error_fields(response) == fields
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    ("targets", "fields"),
    [
        ([{}], {"targets.0"}),
        ([{"notify": True}], {"targets.0"}),
        ([{"@type": "Identity"}], {"targets.0.targetId"}),
        ([{"targetId": "bob"}, {"@type": "Identity", "targetId": None}], {"targets.1.targetId"}),
    ],
)
def test_targets_need_a_type_or_an_id(api, on_contact, targets, fields):
    response = api.post(PATH, {"targets": targets, **on_contact})

    assert response.status_code == 422
    assert error_fields(response) == fields
    assert not Activity.objects.exists()


@pytest.mark.parametrize("raw", ["{not json", "", "[]", "42", "null"])
def test_malformed_bodies_answer_422(api, raw):
    response = api.post(PATH, raw=raw)

    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


def test_unknown_fields_are_ignored(api, on_contact):
    response = api.post(PATH, {"summary": {"deep": [None, {"x": 1}]}, **on_contact})

    assert response.status_code == 201


def test_the_operation_is_documented(client):
    schema = client.get("/api/openapi.json").json()
    operation = schema["paths"][PATH]["post"]

    assert operation["operationId"] == "postActivityEntry"
    assert set(operation["responses"]) == {"201", "401", "403", "404", "405", "413", "422", "429"}


def test_a_body_over_the_size_bound_answers_413(api, on_contact, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post(PATH, {"attachments": ["f" * 400] * 5, **on_contact})

    assert response.status_code == 413
    assert not Activity.objects.exists()


# Titles


@pytest.mark.parametrize(
    ("verb", "past"),
    [
        ("share", "shared"),
        ("update", "updated"),
        ("assign", "assigned"),
        ("reply", "replied"),
        ("play", "played"),
        ("send", "sent"),
        ("completed", "completed"),
        ("check-in", "check-in"),
    ],
)
def test_past_tense(verb, past):
    assert past_tense(verb) == past
