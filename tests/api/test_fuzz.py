"""Every operation of the OpenAPI document, fuzzed by schemathesis against the app in process.

Per operation: the document's examples, its coverage cases (boundary values, missing and
wrongly typed fields, undeclared methods) and 25 generated requests, valid and invalid,
all with a write token. Three generated requests in four have their ids swapped for a
real workspace's (path ids, query filters and ids in bodies), so they get past the 404s.
Every answer must be as documented: no 5xx, a documented status code and content type, a
body matching the documented schema, 405 with `Allow` for an undeclared method, 401 when
the token is left out.
"""

from datetime import timedelta

import hypothesis
import pytest
import schemathesis
from django.utils import timezone
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from activities import services, timeline
from activities.api.native import encode_contact_cursor
from activities.models import Activity
from activities.services import Actor
from config.wsgi import application
from contacts.models import Contact

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
schema.config.generation.update(max_examples=25, deterministic=True)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    unsupported_method,
    ignored_auth,
]

# Names of parameters and body fields → real values, set by the `workspace_rows` fixture.
# Empty while schemathesis builds the examples at collection: those keep their values.
REAL: dict[str, dict] = {}


def mostly_real(values, swap):
    """Three draws in four, `values` with real ids swapped in; else as generated."""
    if not REAL or not isinstance(values, dict):
        return st.just(values)
    return st.sampled_from([True, True, True, False]).map(
        lambda real: swap(values) if real else values
    )


def with_real_values(values: dict, names: dict) -> dict:
    return {name: names.get(name, value) for name, value in values.items()}


def with_real_body(body):
    """Known id fields replaced at any depth of the body."""
    if isinstance(body, dict):
        return {
            key: REAL["body"][key] if key in REAL["body"] else with_real_body(value)
            for key, value in body.items()
        }
    if isinstance(body, list):
        return [with_real_body(item) for item in body]
    return body


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    return mostly_real(path_parameters, lambda values: with_real_values(values, REAL["path"]))


@schema.hook
def flatmap_query(context, query):
    def swap(values):
        # The contacts list pages by name, the timelines by time: each its own token.
        cursor = "contacts_next" if context.operation.path.endswith("/contacts") else "next"
        return with_real_values(values, REAL["query"] | {"next": REAL["query"][cursor]})

    return mostly_real(query, swap)


@schema.hook
def flatmap_body(context, body):
    return mostly_real(body, with_real_body)


@pytest.fixture
def workspace_rows(transactional_db, workspace, owner, teammate, segment, write_token, settings):
    """Two members; a contact with an external id, in a segment, with entries of every kind
    of actor; an entry about a broadcast, in the feed only.

    Transactional: the WSGI handler closes a connection it finds inside a transaction.
    `ignored_auth` sends each case again without the token: more calls from one address in
    a minute than API_ANONYMOUS_RATE lets through.
    """
    settings.API_ANONYMOUS_RATE = "10000/m"
    contact = Contact.objects.create(workspace=workspace, name="Dana Scully", external_id="crm-1")
    other = Contact.objects.create(workspace=workspace, name="Fox Mulder", email="fox@fbi.example")
    services.add_note(contact=contact, content="Met at the fair", actor=Actor.of(teammate))
    services.add_to_segment(contact=contact, segment=segment, actor=Actor.of(owner))
    services.block_contact(contact=contact, actor=Actor.of(owner))
    external, _ = services.log_activity(
        workspace=workspace,
        type_key="external:viewed-a-demo",
        contacts=[contact, other],
        actor=Actor(kind=Activity.ActorKind.INTEGRATION, name="Eloqua"),
        source=Activity.Source.API,
        payload={"activityType": "Viewed a Demo", "campaignId": 7},
        campaign_id="7",
    )
    services.log_activity(
        workspace=workspace,
        type_key="stream:share",
        actor=Actor(kind=Activity.ActorKind.ASSISTANT, name="Ada"),
        object_type="broadcast",
        object_id="b-1",
        occurred_at=timezone.now() - timedelta(days=1),
    )
    REAL.clear()
    REAL.update(
        path={
            "org_id": str(workspace.pk),
            "contact_id": str(contact.pk),
            "segment_id": str(segment.pk),
            "id": str(external.pk),
        },
        query={
            "contact": str(contact.pk),
            "segment": str(segment.pk),
            "actor": str(owner.pk),
            "type": "note_created,segment_added,external:viewed-a-demo",
            "source": "ui,api",
            "next": timeline.Cursor(timezone.now(), external.pk).encode(),
            "contacts_next": encode_contact_cursor(contact),
        },
        body={
            "memberId": str(contact.pk),
            "replyTo": str(external.pk),
            "objectId": str(contact.pk),
            "contactId": "crm-1",
            "contact_ids": [str(contact.pk), str(other.pk)],
            "contact_id": str(other.pk),
        },
    )
    yield {"Authorization": f"Bearer {write_token}"}
    REAL.clear()


@schema.parametrize()
@hypothesis.settings(suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
def test_every_operation_answers_as_documented(case, workspace_rows):
    case.call_and_validate(headers=workspace_rows, checks=CHECKS)


# Inputs the fuzz cannot send (lone surrogates) or rarely draws: each once, for good.


@pytest.mark.parametrize("until", ["9999-12-30", "9999-12-31"])
def test_until_the_last_day_of_the_calendar_is_answered_not_crashed(api, workspace, until):
    response = api.get(f"/orgs/{workspace.pk}/activities", {"until": until})

    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/orgs/{org}/activities", "/orgs/{org}/contacts"])
def test_too_many_query_parameters_are_refused_in_the_error_shape(api, workspace, settings, path):
    query = "&".join(f"p{index}=1" for index in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))

    response = api.get(f"{path.format(org=workspace.pk)}?{query}")

    assert response.status_code == 422
    assert response.json() == {
        "status": 422,
        "error": "validation_error",
        "message": "The request has too many parameters.",
        "errors": [],
    }


LONE_SURROGATE = '"\\ud83d"'  # JSON for half an emoji: no text, and PostgreSQL refuses it


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("/v1/activities", '{"activityTypeKey": "a", "memberId": "m", "x": %s}', 422, "x"),
        ("/api/activity-entries", '{"objectType": "case", "objectId": %s}', 422, "objectId"),
        ("/api/rest/2.0/data/activity", '{"activityType": "a", "f": [%s]}', 400, "f.0"),
        ("/orgs/{org}/contacts", '{"name": "n", "custom_fields": {%s: 1}}', 422, "custom_fields"),
    ],
)
def test_a_lone_surrogate_is_refused_naming_its_field(api, workspace, path, body, status, field):
    response = api.post(path.format(org=workspace.pk), raw=body % LONE_SURROGATE)

    assert response.status_code == status
    assert [error["field"] for error in response.json()["errors"]] == [field]
