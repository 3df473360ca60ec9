"""Reevo's "Log a manual activity": `POST /api/v2/activity` (seeds/002).

`attributes.metadata` is a per-type union, told apart by its `kind`: without one it is a
manual activity's (`activity_time`, `subject`, `description`, `category`), with
`kind: "meeting"` a meeting's (title, location, start and end, participants). The optional
`attributes.type` names the type, `MANUAL_ACTIVITY` or `MEETING` (the two this call logs:
notes, emails and sequence steps arrive by other routes); metadata of another kind is
refused with 422. Without a `type`, the metadata's kind decides it.

The answer is Reevo's record: each attribute as `{"value", "value_type"}`, `value` null
when the activity has none, and `metadata` null except for a meeting.
"""

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictStr,
    StringConstraints,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from activities import services, types
from activities.api.auth import WRITE
from activities.api.common import integration_actor, iso_z
from activities.api.errors import InvalidInput, error_responses
from activities.models import Activity
from contacts.models import Contact

router = Router()

MANUAL_ACTIVITY = "MANUAL_ACTIVITY"
MEETING = "MEETING"
MANUAL_KIND = "manual_activity"
MEETING_KIND = "meeting"
KIND_OF_TYPE = {MANUAL_ACTIVITY: MANUAL_KIND, MEETING: MEETING_KIND}
EXPECTED_METADATA = {
    MANUAL_ACTIVITY: "a manual activity's metadata has no kind",
    MEETING: 'a meeting\'s metadata has kind "meeting"',
}
DEFAULT_CATEGORY = "OTHER"
# A manual activity's category picks its timeline type; any other category is "other".
TYPE_FOR_CATEGORY = {
    "CALL": types.CALL,
    "EMAIL": types.EMAIL,
    "MEETING": types.MEETING,
    "TASK": types.TASK,
}
MAX_CONTACTS = 100
MAX_PARTICIPANTS = 200


def _printable(text: str) -> str:
    if "\x00" in text:
        raise PydanticCustomError("nul_character", "Text must not contain NUL characters.")
    return text


def Text(max_length: int):  # a type, spelled as one
    return Annotated[
        StrictStr, StringConstraints(max_length=max_length), AfterValidator(_printable)
    ]


def _in_utc(moment: datetime) -> datetime:
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError("time_out_of_range", "The time is out of range.") from None


# ISO 8601, with or without an offset (without one, UTC).
Moment = Annotated[datetime, AfterValidator(_in_utc)]


# The request: plain pydantic models, since ninja's Schema reads any input as an object's
# attributes (`"attributes": 5` would pass as an object missing its fields).


class MeetingParticipant(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: Text(200) | None = None
    email: Text(254) | None = None
    is_host: StrictBool = False
    rsvp_status: Text(50) | None = None
    user_id: Text(100) | None = None
    contact_id: uuid.UUID | None = Field(
        None, description="A contact of the workspace: the meeting goes on their timeline too."
    )


class ManualActivityMetadata(BaseModel):
    """A manual activity: a call, an email, a task… logged by hand (no `kind`)."""

    model_config = ConfigDict(extra="ignore")

    kind: Literal["manual_activity"] = MANUAL_KIND
    activity_time: Moment
    subject: Text(500)
    description: Text(50_000) | None = None
    category: Text(50) | None = Field(
        DEFAULT_CATEGORY, description="CALL, EMAIL, MEETING, TASK or OTHER (the default)."
    )


class MeetingMetadata(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kind: Literal["meeting"]
    title: Text(500)
    location: Text(500) | None = None
    start_date: Moment
    end_date: Moment | None = None
    status: Text(50) | None = None
    meeting_type: Text(100) | None = None
    participants: list[MeetingParticipant] = Field(
        default_factory=list, max_length=MAX_PARTICIPANTS
    )

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> "MeetingMetadata":
        if self.end_date and self.end_date < self.start_date:
            raise PydanticCustomError(
                "ends_before_start", "end_date must not be before start_date."
            )
        return self


def _metadata_kind(metadata: Any) -> str | None:
    if isinstance(metadata, dict):
        kind = metadata.get("kind", MANUAL_KIND)
    else:
        kind = getattr(metadata, "kind", None)
    return kind if isinstance(kind, str) else None


ActivityMetadata = Annotated[
    Annotated[ManualActivityMetadata, Tag(MANUAL_KIND)]
    | Annotated[MeetingMetadata, Tag(MEETING_KIND)],
    Discriminator(
        _metadata_kind,
        custom_error_type="metadata_kind",
        custom_error_message=(
            "An object: a manual activity's metadata (no kind) or a meeting's (kind \"meeting\")."
        ),
    ),
]


class ActivityLogRequestAttributes(BaseModel):
    """Attributes block for POST /activity."""

    model_config = ConfigDict(extra="ignore")

    # Declared before `metadata`, which is checked against it.
    type: Literal["MANUAL_ACTIVITY", "MEETING"] | None = Field(
        None, description="MANUAL_ACTIVITY or MEETING; by default, from the metadata's kind."
    )
    metadata: ActivityMetadata
    account_id: uuid.UUID | None = None
    opportunity_id: uuid.UUID | None = None
    contact_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=MAX_CONTACTS,
        description="Contacts of the workspace: one activity, on each one's timeline.",
    )
    sequence_id: uuid.UUID | None = None
    pipeline_select_list_value_id: uuid.UUID | None = None

    @field_validator("metadata", mode="before")
    @classmethod
    def _metadata_matches_type(cls, metadata: Any, info: ValidationInfo) -> Any:
        activity_type = info.data.get("type")
        kind = _metadata_kind(metadata)
        if activity_type and kind and kind != KIND_OF_TYPE[activity_type]:
            raise PydanticCustomError(
                "metadata_type_mismatch",
                "The metadata does not match type {type}: {expected}.",
                {"type": activity_type, "expected": EXPECTED_METADATA[activity_type]},
            )
        return metadata


class ActivityLogRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    attributes: ActivityLogRequestAttributes


# The answer


class EnumValue(Schema):
    value: str | None
    value_type: Literal["enum"] = "enum"


class StringValue(Schema):
    value: str | None
    value_type: Literal["string"] = "string"


class TimestampValue(Schema):
    value: str | None = Field(description="ISO 8601 in UTC, e.g. 2023-11-07T05:31:56Z.")
    value_type: Literal["timestamp"] = "timestamp"


class RecordReference(Schema):
    related_record_id: str
    related_record_type: str


class RecordReferenceValue(Schema):
    value: RecordReference | None
    value_type: Literal["record_reference"] = "record_reference"


class ActivityRecordAttributes(Schema):
    type: EnumValue
    sub_type: EnumValue
    status: EnumValue
    priority: EnumValue
    display_name: StringValue
    owner_user_id: RecordReferenceValue
    ended_at: TimestampValue
    badge_status: StringValue
    location: StringValue


class MeetingParticipantOut(Schema):
    name: str
    email: str
    is_host: bool
    rsvp_status: str
    user_id: str | None
    contact_id: str | None


class MeetingMetadataOut(Schema):
    title: str
    kind: Literal["meeting"]
    location: str
    start_date: str
    end_date: str | None
    status: str
    meeting_type: str
    participants: list[MeetingParticipantOut]


class ActivityObjectRecord(Schema):
    """Response record for a single activity."""

    id: str
    created_at: str
    updated_at: str
    attributes: ActivityRecordAttributes
    record_type: Literal["activity"] = "activity"
    metadata: MeetingMetadataOut | None = Field(
        description="The meeting's details; null for a manual activity."
    )


class ActivityObjectResponse(Schema):
    """Wrapper around a single activity record."""

    data: ActivityObjectRecord


@router.post(
    "/api/v2/activity",
    auth=WRITE,
    response={200: ActivityObjectResponse, **error_responses(401, 403, 404, 413, 422)},
    summary="Log a manual activity (Reevo)",
    description=(
        "Reevo's `POST /api/v2/activity`. Answers 200, as Reevo's page does "
        '("Successful Response"). Ids in `contact_ids` (and participants\' `contact_id`) '
        "must be contacts of the token's workspace: any other answers 404 naming it."
    ),
    operation_id="reevo_log_activity",
)
def log_manual_activity(request: HttpRequest, payload: ActivityLogRequest):
    attributes = payload.attributes
    activity, _ = services.log_activity(
        workspace=request.workspace,
        contacts=_contacts(request, attributes),
        actor=replace(integration_actor(request), user=request.api_token.created_by),
        source=Activity.Source.API,
        account_id=_reference(attributes.account_id),
        opportunity_id=_reference(attributes.opportunity_id),
        sequence_id=_reference(attributes.sequence_id),
        pipeline_stage_id=_reference(attributes.pipeline_select_list_value_id),
        payload=payload.model_dump(mode="json", exclude_unset=True),
        **_entry_fields(attributes.metadata),
    )
    return Status(200, {"data": activity_record(activity)})


def _reference(value: uuid.UUID | None) -> str:
    return str(value) if value else ""


def _contacts(request: HttpRequest, attributes: ActivityLogRequestAttributes) -> list[Contact]:
    """The contacts named by `contact_ids` and by the meeting's participants; 404 for others."""
    named = [(f"attributes.contact_ids.{i}", cid) for i, cid in enumerate(attributes.contact_ids)]
    if isinstance(attributes.metadata, MeetingMetadata):
        named += [
            (f"attributes.metadata.participants.{i}.contact_id", person.contact_id)
            for i, person in enumerate(attributes.metadata.participants)
            if person.contact_id
        ]
    found = Contact.objects.in_workspace(request.workspace).in_bulk([cid for _, cid in named])
    missing = [(field, "No contact with this id.") for field, cid in named if cid not in found]
    if missing:
        raise InvalidInput(missing, status=404, message="Not found.")
    return [found[cid] for _, cid in named]


def _entry_fields(metadata: ManualActivityMetadata | MeetingMetadata) -> dict:
    if isinstance(metadata, MeetingMetadata):
        return {
            "type_key": types.MEETING,
            "occurred_at": metadata.start_date,
            "ended_at": metadata.end_date,
            "title": metadata.title,
            "status": metadata.status or "",
            "sub_type": metadata.meeting_type or "",
            "metadata": _stored_meeting(metadata),
        }
    category = metadata.category or DEFAULT_CATEGORY
    return {
        "type_key": TYPE_FOR_CATEGORY.get(category.upper(), types.OTHER),
        "occurred_at": metadata.activity_time,
        "title": metadata.subject,
        "body": metadata.description or "",
        "category": category,
        "sub_type": category,
    }


def _stored_meeting(meeting: MeetingMetadata) -> dict:
    """The meeting in Reevo's shape, as the contact page shows it and this call answers it."""
    return {
        "title": meeting.title,
        "kind": MEETING_KIND,
        "location": meeting.location or "",
        "start_date": iso_z(meeting.start_date),
        "end_date": iso_z(meeting.end_date),
        "status": meeting.status or "",
        "meeting_type": meeting.meeting_type or "",
        "participants": [
            {
                "name": person.name or "",
                "email": person.email or "",
                "is_host": person.is_host,
                "rsvp_status": person.rsvp_status or "",
                "user_id": person.user_id,
                "contact_id": str(person.contact_id) if person.contact_id else None,
            }
            for person in meeting.participants
        ],
    }


def activity_record(activity: Activity) -> dict:
    meeting = activity.metadata if activity.metadata.get("kind") == MEETING_KIND else None
    return {
        "id": str(activity.pk),
        "created_at": iso_z(activity.created_at),
        "updated_at": iso_z(activity.updated_at),
        "attributes": {
            "type": {"value": MEETING if meeting else MANUAL_ACTIVITY},
            "sub_type": {"value": activity.sub_type or None},
            "status": {"value": activity.status or None},
            "priority": {"value": activity.priority or None},
            "display_name": {"value": activity.title or activity.type.name},
            "owner_user_id": {"value": _owner(activity)},
            "ended_at": {"value": iso_z(activity.ended_at)},
            "badge_status": {"value": _badge_status(activity)},
            "location": {"value": (meeting or {}).get("location") or None},
        },
        "record_type": "activity",
        "metadata": meeting,
    }


def _owner(activity: Activity) -> dict | None:
    if activity.actor_user_id is None:
        return None
    return {"related_record_id": str(activity.actor_user_id), "related_record_type": "user"}


def _badge_status(activity: Activity) -> str | None:
    """The badge the contact page shows on the entry, if any."""
    if activity.is_overdue:
        return "overdue"
    if activity.done_at:
        return "done"
    if activity.occurred_at > timezone.now():
        return "upcoming"
    return None
