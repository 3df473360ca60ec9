"""Oracle Eloqua's external activities: POST and GET /api/rest/2.0/data/activity (seeds/003)."""

import base64
import json
import uuid
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import Activity, ActivityType
from contacts.models import ApiToken, Contact
from tests.api.conftest import ApiClient

PAGE_URL = "/api/REST/2.0/data/activity"
URL = "/api/rest/2.0/data/activity"

# The page's example request and answer, as printed.
PAGE_REQUEST = {
    "name": "Tradeshow 2021",
    "assetName": "Tradeshow 2021",
    "assetType": "Tradeshow",
    "activityType": "Viewed a Demo",
    "activityDate": "1612460136",
    "campaignId": 37,
    "contactId": 2405,
}
PAGE_RESPONSE = {
    "type": "ExternalActivities",
    "id": "102332",
    "depth": "complete",
    "name": "Tradeshow 2021",
    "activityDate": "1612460136",
    "activityType": "Viewed a Demo",
    "assetName": "Tradeshow 2021",
    "assetType": "Tradeshow",
    "campaignId": 37,
    "contactId": 2405,
}


@pytest.fixture
def eloqua_contact(workspace) -> Contact:
    return Contact.objects.create(workspace=workspace, name="Dana Scully", external_id="2405")


def basic(username: str, password: str) -> dict:
    """The header of `curl --user "username:password"`."""
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def field_errors(response) -> set[str]:
    return {error["field"] for error in response.json()["errors"]}


def body(**fields) -> dict:
    return {key: value for key, value in (PAGE_REQUEST | fields).items() if value is not ...}


# The page's example


@pytest.mark.parametrize("url", [PAGE_URL, URL])
def test_page_example_answers_the_page_document(api, eloqua_contact, url):
    response = api.post(url, PAGE_REQUEST)

    assert response.status_code == 201
    answer = response.json()
    activity = Activity.objects.get()
    assert answer == PAGE_RESPONSE | {"id": str(activity.pk)}
    assert list(answer) == list(PAGE_RESPONSE)
    assert type(answer["campaignId"]) is int and type(answer["contactId"]) is int


def test_page_example_is_stored_on_the_contacts_timeline(api, eloqua_contact):
    api.post(PAGE_URL, PAGE_REQUEST)

    activity = Activity.objects.select_related("type").get()
    assert activity.type.key == "external:viewed-a-demo"
    assert activity.type.name == "Viewed a Demo"
    assert activity.source == Activity.Source.API
    assert activity.occurred_at == datetime(2021, 2, 4, 17, 35, 36, tzinfo=UTC)
    assert activity.title == "Tradeshow 2021"
    assert (activity.asset_name, activity.asset_type) == ("Tradeshow 2021", "Tradeshow")
    assert activity.campaign_id == "37"
    assert list(activity.contacts.all()) == [eloqua_contact]
    assert activity.actor_kind == Activity.ActorKind.INTEGRATION
    assert activity.payload == PAGE_REQUEST


def test_the_activity_shows_on_the_contact_page(api, eloqua_contact, owner, client):
    api.post(PAGE_URL, PAGE_REQUEST)

    client.force_login(owner)
    html = client.get(reverse("contact-detail", args=[eloqua_contact.pk])).content.decode()
    assert "Tradeshow 2021" in html
    assert "Viewed a Demo" in html


@pytest.mark.parametrize("url", [PAGE_URL, URL])
def test_get_answers_the_document_it_created(api, eloqua_contact, url):
    created = api.post(PAGE_URL, PAGE_REQUEST).json()

    response = api.get(f"{url}/{created['id']}")

    assert response.status_code == 200
    assert response.json() == created


def test_a_read_token_can_get(api, read_api, eloqua_contact):
    created = api.post(PAGE_URL, PAGE_REQUEST).json()

    assert read_api.get(f"{URL}/{created['id']}").json() == created


# What is sent comes back as sent


def test_ids_sent_as_strings_stay_strings(api, eloqua_contact):
    response = api.post(URL, body(campaignId="37", contactId="2405"))

    assert response.status_code == 201
    assert (response.json()["campaignId"], response.json()["contactId"]) == ("37", "2405")
    assert list(Activity.objects.get().contacts.all()) == [eloqua_contact]


@pytest.mark.filterwarnings("error:Pydantic serializer warnings")
def test_an_activity_date_sent_as_a_number_stays_a_number(api, eloqua_contact):
    response = api.post(URL, body(activityDate=1612460136))

    assert response.status_code == 201
    assert response.json()["activityDate"] == 1612460136
    assert Activity.objects.get().occurred_at == datetime(2021, 2, 4, 17, 35, 36, tzinfo=UTC)


def test_contact_id_may_be_the_contacts_own_id(api, contact):
    response = api.post(URL, body(contactId=str(contact.pk)))

    assert response.status_code == 201
    assert response.json()["contactId"] == str(contact.pk)
    assert list(Activity.objects.get().contacts.all()) == [contact]


def test_other_eloqua_fields_are_accepted_and_echoed(api, eloqua_contact):
    extra = {
        "description": "Stopped by booth 12.",
        "currentStatus": "Active",
        "fieldValues": [{"type": "FieldValue", "id": "12", "value": "Booth 12"}],
        "permissions": ["Retrieve", "Update"],
        "type": "ExternalActivities",
        "id": "102332",
    }

    response = api.post(URL, PAGE_REQUEST | extra)

    activity = Activity.objects.get()
    assert response.json() == PAGE_REQUEST | extra | {
        "id": str(activity.pk),
        "depth": "complete",
    }
    assert activity.body == "Stopped by booth 12."


def test_one_workspace_type_per_activity_type(api, workspace, eloqua_contact):
    api.post(URL, PAGE_REQUEST)
    api.post(URL, body(activityType="viewed a demo"))
    api.post(URL, body(activityType="Downloaded a Whitepaper"))

    keys = ActivityType.objects.filter(workspace=workspace, key__startswith="external:")
    assert sorted(keys.values_list("key", "name")) == [
        ("external:downloaded-a-whitepaper", "Downloaded a Whitepaper"),
        ("external:viewed-a-demo", "Viewed a Demo"),
    ]


def test_without_a_contact_the_activity_is_kept_unlinked(api):
    before = timezone.now()

    response = api.post(URL, body(contactId=..., activityDate=...))

    assert response.status_code == 201
    assert "contactId" not in response.json()
    activity = Activity.objects.get()
    assert not activity.contacts.exists()
    assert activity.occurred_at >= before


# Invalid bodies: 400 naming each bad field, nothing written


def test_linking_a_contact_needs_an_activity_date(api, eloqua_contact):
    response = api.post(URL, body(activityDate=...))

    assert response.status_code == 400
    assert field_errors(response) == {"activityDate"}
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"activityType": ...}, {"activityType"}),
        ({"activityType": ""}, {"activityType"}),
        ({"activityType": "!!!"}, {"activityType"}),
        ({"activityType": "x" * 92}, {"activityType"}),
        ({"activityType": "\ufdfa" * 10}, {"activityType"}),
        ({"activityType": 7}, {"activityType"}),
        ({"activityDate": "yesterday"}, {"activityDate"}),
        ({"activityDate": "-1"}, {"activityDate"}),
        ({"activityDate": "1612460136.5"}, {"activityDate"}),
        ({"activityDate": "99999999999999"}, {"activityDate"}),
        ({"activityDate": 1.5}, {"activityDate"}),
        ({"campaignId": 1.5, "contactId": True}, {"campaignId", "contactId"}),
        ({"campaignId": "", "contactId": [2405]}, {"campaignId", "contactId"}),
        ({"campaignId": "x" * 101, "contactId": 10**30}, {"campaignId", "contactId"}),
        (
            {"name": "x" * 501, "assetName": "x" * 201, "assetType": 5},
            {"name", "assetName", "assetType"},
        ),
        ({"name": "a\x00b"}, {"name"}),
        ({"fieldValues": "x", "permissions": [1]}, {"fieldValues", "permissions.0"}),
        ({"currentStatus": "a\x00b"}, {"currentStatus"}),
        ({"folderId": float("nan")}, {"folderId"}),
        ({"sourceTemplateId": json.loads("[" * 40 + "]" * 40)}, {"sourceTemplateId"}),
    ],
)
def test_invalid_bodies_answer_400_naming_each_bad_field(api, eloqua_contact, fields, bad):
    response = api.post(URL, body(**fields))

    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    assert field_errors(response) == bad
    assert not Activity.objects.exists()


@pytest.mark.parametrize("raw", ["{not json", "[]", "null", "[" * 100_000 + "]" * 100_000])
def test_malformed_json_answers_400(api, raw):
    response = api.post(URL, raw=raw)

    assert response.status_code == 400
    assert response.json()["status"] == 400


def test_a_body_over_the_size_bound_answers_413(api):
    response = api.post(URL, body(description="x" * 2_000_000))

    assert response.status_code == 413


# Contacts and activities of other workspaces


@pytest.mark.parametrize("contact_id", [9999, "9999", str(uuid.uuid4()), "not-an-id"])
def test_an_unknown_contact_answers_404_naming_it(api, eloqua_contact, contact_id):
    response = api.post(URL, body(contactId=contact_id))

    assert response.status_code == 404
    assert field_errors(response) == {"contactId"}
    assert not Activity.objects.exists()


def test_another_workspaces_contact_answers_404(api, other_workspace, outsider_contact):
    Contact.objects.create(workspace=other_workspace, name="Hank", external_id="2405")

    by_external_id = api.post(URL, PAGE_REQUEST)
    by_id = api.post(URL, body(contactId=str(outsider_contact.pk)))

    assert (by_external_id.status_code, by_id.status_code) == (404, 404)
    assert not Activity.objects.exists()


def test_an_outsiders_token_cannot_reach_our_contacts_or_activities(
    api, outsider_api, eloqua_contact
):
    created = api.post(URL, PAGE_REQUEST).json()

    assert outsider_api.post(URL, PAGE_REQUEST).status_code == 404
    assert outsider_api.get(f"{URL}/{created['id']}").status_code == 404


@pytest.mark.parametrize("activity_id", ["102332", str(uuid.uuid4()), "x" * 300])
def test_get_of_an_unknown_id_answers_404(api, activity_id):
    response = api.get(f"{URL}/{activity_id}")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_get_of_an_activity_that_is_not_external_answers_404(api, workspace, contact):
    activity, _ = services.log_activity(workspace=workspace, type_key="call", contacts=[contact])

    assert api.get(f"{URL}/{activity.pk}").status_code == 404


# Credentials


def test_basic_auth_with_the_token_as_password_works(client, write_token, eloqua_contact):
    headers = basic("APITest\\API.User", write_token)

    created = client.post(
        PAGE_URL, json.dumps(PAGE_REQUEST), content_type="application/json", headers=headers
    )
    fetched = client.get(f"{PAGE_URL}/{created.json()['id']}", headers=headers)

    assert (created.status_code, fetched.status_code) == (201, 200)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer trl_wrong"}, basic("APITest\\API.User", "trl_wrong")],
)
def test_missing_or_bad_credentials_answer_401(client, eloqua_contact, headers):
    response = client.post(
        PAGE_URL, json.dumps(PAGE_REQUEST), content_type="application/json", headers=headers
    )

    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers
    assert not Activity.objects.exists()


def test_a_revoked_token_answers_401(api, eloqua_contact):
    ApiToken.objects.update(revoked_at=timezone.now())

    assert api.post(URL, PAGE_REQUEST).status_code == 401
    assert api.get(f"{URL}/{uuid.uuid4()}").status_code == 401


def test_a_read_token_cannot_create(client, read_token, eloqua_contact):
    bearer = ApiClient(client, read_token).post(URL, PAGE_REQUEST)
    basic_auth = client.post(
        URL,
        json.dumps(PAGE_REQUEST),
        content_type="application/json",
        headers=basic("APITest\\API.User", read_token),
    )

    assert (bearer.status_code, basic_auth.status_code) == (403, 403)
    assert not Activity.objects.exists()


# Methods and documentation


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", URL, "POST"),
        ("DELETE", PAGE_URL, "POST"),
        ("POST", f"{URL}/{uuid.uuid4()}", "GET"),
        ("PUT", f"{PAGE_URL}/{uuid.uuid4()}", "GET"),
    ],
)
def test_other_methods_answer_405(api, method, path, allowed):
    response = api.send(method, path)

    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
    assert response.headers["Allow"] == allowed


def test_the_operations_are_documented(client):
    paths = client.get("/api/openapi.json").json()["paths"]

    create = paths[URL]["post"]
    read = paths[f"{URL}/{{id}}"]["get"]
    assert create["operationId"] == "eloqua_create_external_activity"
    assert {"201", "400", "401", "403", "404"} <= set(create["responses"])
    assert read["operationId"] == "eloqua_get_external_activity"
    assert {"200", "404"} <= set(read["responses"])
