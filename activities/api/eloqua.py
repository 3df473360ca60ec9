"""Oracle Eloqua's external activities: `POST /api/rest/2.0/data/activity` and
`GET /api/rest/2.0/data/activity/{id}` (seeds/003). Paths match whatever their case.

The body is kept as sent and echoed back with the same JSON types (`campaignId` and
`contactId` stay integers when sent as integers), plus `type`, `id` and `depth`. Unknown
Eloqua fields (`fieldValues`, `permissions`, …) are accepted and echoed. `id` is this
project's activity id, a UUID string (Eloqua's are numeric strings such as "102332").
"""

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from django.http import Http404, HttpRequest
from django.utils.text import slugify
from ninja import Router, Status
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictStr,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from activities import services
from activities.api.auth import ELOQUA_READ, ELOQUA_WRITE
from activities.api.common import as_uuid, get_activity, integration_actor
from activities.api.errors import InvalidInput, error_responses
from activities.models import Activity, ActivityType
from contacts.models import Contact

router = Router()

PATH = "/api/rest/2.0/data/activity"
TYPE_PREFIX = "external:"
TYPE_KEY_LENGTH = ActivityType._meta.get_field("key").max_length
# Unix seconds up to the last second of year 9999, the last a datetime can hold.
LATEST_UNIX_SECONDS = 253_402_300_799
WRITE_ERRORS = error_responses(400, 401, 403, 404, 413)
READ_ERRORS = error_responses(401, 404)
# Deeper than this, a value is refused rather than risk the recursion limit when stored.
MAX_NESTING = 32


def external_type_key(activity_type: str) -> str:
    """`Viewed a Demo` → `external:viewed-a-demo`: one workspace type per activityType."""
    return TYPE_PREFIX + slugify(activity_type, allow_unicode=True)


def Text(max_length: int):  # a type, spelled as one
    return Annotated[StrictStr, StringConstraints(max_length=max_length)]


def _activity_type(text: str) -> str:
    key = external_type_key(text)
    if key == TYPE_PREFIX:
        raise PydanticCustomError("no_name", "The activity type needs a letter or a digit.")
    if len(key) > TYPE_KEY_LENGTH:
        raise PydanticCustomError("too_long", "The activity type is too long.")
    return text


def _unix_seconds(value: Any) -> str | int:
    """Unix seconds, as Eloqua writes them: a string of digits (an integer is taken too)."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 12:
        seconds = int(value)
    elif type(value) is int:
        seconds = value
    else:
        raise PydanticCustomError("unix_seconds", "Unix time in seconds, as a string of digits.")
    if not 0 <= seconds <= LATEST_UNIX_SECONDS:
        raise PydanticCustomError("unix_seconds_range", "The time is out of range.")
    return value


def _eloqua_id(value: Any) -> str | int:
    """An id as Eloqua sends it: an integer, or a string (a number, or a UUID of ours)."""
    if type(value) is int and 0 <= value < 10**18:
        return value
    if isinstance(value, str) and 0 < len(value) <= 100:
        return value
    raise PydanticCustomError("eloqua_id", "An id: an integer or a string of at most 100.")


EloquaId = Annotated[
    int | str,
    PlainValidator(_eloqua_id),
    WithJsonSchema({"oneOf": [{"type": "integer"}, {"type": "string"}]}),
]
UnixSeconds = Annotated[
    str | int,
    PlainValidator(_unix_seconds),
    WithJsonSchema({"type": "string", "pattern": "^[0-9]+$", "example": "1612460136"}),
]


class NewExternalActivity(BaseModel):
    """An external activity to create: Eloqua's ExternalActivities."""

    # Eloqua's other fields are kept and echoed. (A plain pydantic model: ninja's Schema
    # reads its input as attributes, which loses extra fields.)
    model_config = ConfigDict(extra="allow")

    name: Text(500) | None = None
    description: Text(50_000) | None = None
    activityType: Annotated[
        Text(TYPE_KEY_LENGTH - len(TYPE_PREFIX)),
        StringConstraints(min_length=1),
        AfterValidator(_activity_type),
    ] = Field(description='Free text such as "Viewed a Demo": a type of the workspace.')
    activityDate: UnixSeconds | None = Field(
        None, description="Unix seconds, as a string. Required with contactId, to link the two."
    )
    assetName: Text(200) | None = None
    assetType: Text(100) | None = None
    campaignId: EloquaId | None = None
    contactId: EloquaId | None = Field(
        None, description="The contact's external_id (Eloqua's contact id) or its Trail id."
    )
    fieldValues: list[dict[str, Any]] | None = None
    permissions: list[StrictStr] | None = None


class ExternalActivities(BaseModel):
    """The external activity as it was sent, with its `type`, `id` and `depth`."""

    model_config = ConfigDict(extra="allow")

    type: Literal["ExternalActivities"]
    id: str = Field(description="This project's id for the activity (a UUID).")
    depth: Literal["complete"]
    name: str | None = None
    description: str | None = None
    activityDate: str | int | None = None
    activityType: str | None = None
    assetName: str | None = None
    assetType: str | None = None
    campaignId: int | str | None = None
    contactId: int | str | None = None
    fieldValues: list[dict[str, Any]] | None = None
    permissions: list[str] | None = None


@router.post(
    PATH,
    auth=ELOQUA_WRITE,
    response={201: ExternalActivities, **WRITE_ERRORS},
    exclude_unset=True,
    summary="Create an external activity (Oracle Eloqua)",
    description=(
        "Eloqua's `POST /api/REST/2.0/data/activity`. `contactId` is a contact's "
        "`external_id` or its id; linking one needs `activityDate` (else 400), and an "
        "unknown one answers 404. Without `activityDate`, the activity happened now."
    ),
    operation_id="eloqua_create_external_activity",
)
def create_external_activity(request: HttpRequest, payload: NewExternalActivity):
    sent = payload.model_dump(exclude_unset=True)
    _check_storable(sent)
    activity, _ = services.log_activity(
        workspace=request.workspace,
        type_key=external_type_key(payload.activityType),
        type_name=payload.activityType.strip(),
        contacts=_linked_contacts(request, payload),
        actor=integration_actor(request),
        source=Activity.Source.API,
        occurred_at=_moment(payload.activityDate),
        title=payload.name or "",
        body=payload.description or "",
        asset_name=payload.assetName or "",
        asset_type=payload.assetType or "",
        campaign_id="" if payload.campaignId is None else str(payload.campaignId),
        payload=sent,
    )
    return Status(201, external_activity(activity))


@router.get(
    PATH + "/{id}",
    auth=ELOQUA_READ,
    response={200: ExternalActivities, **READ_ERRORS},
    exclude_unset=True,
    summary="Retrieve an external activity (Oracle Eloqua)",
    description="Answers the activity as it was created; `id` is the one its creation answered.",
    operation_id="eloqua_get_external_activity",
)
def get_external_activity(request: HttpRequest, id: str):
    activity = get_activity(request, id)
    if not activity.type.key.startswith(TYPE_PREFIX):
        raise Http404
    return external_activity(activity)


def external_activity(activity: Activity) -> dict:
    return activity.payload | {
        "type": "ExternalActivities",
        "id": str(activity.pk),
        "depth": "complete",
    }


def _moment(unix_seconds: str | int | None) -> datetime | None:
    return None if unix_seconds is None else datetime.fromtimestamp(int(unix_seconds), UTC)


def _linked_contacts(request: HttpRequest, payload: NewExternalActivity) -> list[Contact]:
    if payload.contactId is None:
        return []
    if payload.activityDate is None:
        raise InvalidInput(
            [("activityDate", "Required to link the activity to the contact (contactId).")],
            status=400,
        )
    return [_contact(request, str(payload.contactId))]


def _contact(request: HttpRequest, contact_id: str) -> Contact:
    """The workspace's contact with this external_id, or else with this id; 404 for none."""
    contacts = Contact.objects.in_workspace(request.workspace)
    contact = contacts.filter(external_id=contact_id).first()
    if contact is None and (contact_uuid := as_uuid(contact_id)):
        contact = contacts.filter(pk=contact_uuid).first()
    if contact is None:
        raise InvalidInput(
            [("contactId", "No contact has this id or external_id.")],
            status=404,
            message="Not found.",
        )
    return contact


def _check_storable(sent: dict) -> None:
    """Refuse what a jsonb column cannot hold (NUL characters, NaN), naming each field.

    Fields Eloqua has and this API does not read are stored unchecked by pydantic.
    """
    errors = [(field, problem) for field, value in sent.items() if (problem := _unstorable(value))]
    if errors:
        raise InvalidInput(errors, status=400)


def _unstorable(value: Any) -> str | None:
    """Why this JSON value cannot be stored, or None. Iterative: nesting is unbounded."""
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_NESTING:
            return f"Nested more than {MAX_NESTING} levels deep."
        if isinstance(item, str) and "\x00" in item:
            return "Text must not contain NUL characters."
        if isinstance(item, float) and not math.isfinite(item):
            return "Numbers must be finite."
        if isinstance(item, dict):
            pending += [(part, depth + 1) for pair in item.items() for part in pair]
        elif isinstance(item, list):
            pending += [(part, depth + 1) for part in item]
    return None
