"""Conquest's `POST /v1/activities`: an activity for a member (a contact), typed by key.

Ids the request names (memberId, replyTo, reactTo, inviteTo) that the token's workspace
does not hold answer 404, as every id outside the workspace does, with the field named.
Optional fields the activity does not have answer null.
"""

import json
import uuid
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Router, Schema
from pydantic import BaseModel, StrictStr, StringConstraints

from activities import services
from activities.api.auth import WRITE
from activities.api.common import find_by_id, integration_actor, iso_z
from activities.api.errors import InvalidInput, error_responses
from activities.models import Activity
from contacts.models import Contact

router = Router()
# Bad bodies answer 422 here: 400 is Eloqua's.
RESPONSE_ERRORS = error_responses(401, 403, 404, 413, 422)

TypeKey = Annotated[
    StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]
Id = Annotated[StrictStr, StringConstraints(max_length=100)]
THREAD_FIELDS = {"replyTo": "reply_to", "reactTo": "react_to", "inviteTo": "invite_to"}


class ConquestActivityIn(BaseModel):
    # A plain pydantic model: ninja's Schema would read attributes from a non-object body.
    activityTypeKey: TypeKey = Field(
        description="The activity type's key, e.g. `api:message`; a new key creates the type."
    )
    memberId: Id = Field(description="The contact's id.")
    externalId: Annotated[StrictStr, StringConstraints(max_length=200)] | None = Field(
        None, description="Your id for the activity: re-sending it stores nothing new."
    )
    title: Annotated[StrictStr, StringConstraints(max_length=500)] | None = None
    message: Annotated[StrictStr, StringConstraints(max_length=50_000)] | None = None
    replyTo: Id | None = Field(None, description="An activity of the same workspace.")
    reactTo: Id | None = Field(None, description="An activity of the same workspace.")
    inviteTo: Id | None = Field(None, description="An activity of the same workspace.")
    channelId: Id | None = None
    eventId: Id | None = None


class ConquestActivityOut(Schema):
    id: str
    externalId: str | None
    title: str | None
    message: str | None
    replyTo: str | None
    reactTo: str | None
    inviteTo: str | None
    source: str
    activityTypeId: str
    channelId: str | None
    eventId: str | None
    memberId: str | None
    workspaceId: str
    createdAt: str
    updatedAt: str


class ConquestActivityEnvelope(Schema):
    activity: ConquestActivityOut


@router.post(
    "/v1/activities",
    auth=WRITE,
    response={200: ConquestActivityEnvelope, **RESPONSE_ERRORS},
    summary="Create an activity for a member",
    description=(
        "Conquest's create activity. `memberId` is a contact of the token's workspace. "
        "Re-sending an `externalId` answers the activity already stored and stores nothing."
    ),
    operation_id="conquestCreateActivity",
)
def create_activity(request: HttpRequest, payload: ConquestActivityIn):
    contact, threads = _references(request, payload)
    activity, created = services.log_activity(
        workspace=request.workspace,
        type_key=payload.activityTypeKey,
        contacts=[contact],
        actor=integration_actor(request),
        source=Activity.Source.API,
        title=payload.title or "",
        body=payload.message or "",
        external_id=payload.externalId,
        channel_id=payload.channelId or "",
        event_id=payload.eventId or "",
        payload=json.loads(request.body),
        **threads,
    )
    # A re-sent externalId answers the stored activity, whose member may be another.
    member_id = contact.pk if created else _first_member_id(activity)
    return {"activity": activity_out(activity, member_id)}


def _references(request: HttpRequest, data: ConquestActivityIn) -> tuple[Contact, dict]:
    """The member and the thread parents the request names; 404 naming each one unknown."""
    errors = []
    contact = find_by_id(Contact.objects.in_workspace(request.workspace), data.memberId)
    if not contact:
        errors.append(("memberId", "No contact of this workspace has this id."))
    threads = {}
    activities = Activity.objects.in_workspace(request.workspace)
    for name, field in THREAD_FIELDS.items():
        if getattr(data, name):
            threads[field] = find_by_id(activities, getattr(data, name))
            if not threads[field]:
                errors.append((name, "No activity of this workspace has this id."))
    if errors:
        raise InvalidInput(errors, status=404, message="Not found.")
    return contact, threads


def _first_member_id(activity: Activity) -> uuid.UUID | None:
    return activity.links.order_by("id").values_list("contact_id", flat=True).first()


def activity_out(activity: Activity, member_id: uuid.UUID | None) -> dict:
    """The page's activity object; absent optional values are null."""
    return {
        "id": str(activity.pk),
        "externalId": activity.external_id or None,
        "title": activity.title or None,
        "message": activity.body or None,
        "replyTo": _str_or_none(activity.reply_to_id),
        "reactTo": _str_or_none(activity.react_to_id),
        "inviteTo": _str_or_none(activity.invite_to_id),
        # Conquest spells its sources capitalized: "Api".
        "source": activity.source.capitalize(),
        "activityTypeId": str(activity.type_id),
        "channelId": activity.channel_id or None,
        "eventId": activity.event_id or None,
        "memberId": _str_or_none(member_id),
        "workspaceId": str(activity.workspace_id),
        "createdAt": iso_z(activity.created_at),
        "updatedAt": iso_z(activity.updated_at),
    }


def _str_or_none(value) -> str | None:
    return None if value is None else str(value)
