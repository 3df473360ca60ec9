"""An activity-stream SDK's `Post(ActivityEntry)`: "<actor> <verb> <object>", with an audience.

The verb (`@type`) becomes the type `stream:<verb>`, kept apart from the built-in types so
that a verb such as `call` or `note_created` cannot pass for an entry staff wrote. An
object of type `contact` or `customer` puts the entry on that contact's timeline; any
other object is kept as a reference (`object_type`, `object_id`) and shows in the feed.
"""

import json
from datetime import UTC, datetime
from typing import Annotated, Literal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    StrictBool,
    StrictStr,
    StringConstraints,
    model_validator,
)

from activities import services
from activities.api.auth import WRITE
from activities.api.common import as_uuid, integration_actor
from activities.api.errors import InvalidInput, error_responses
from activities.models import Activity, Attachment, Target
from activities.services import Actor, AttachmentSpec, TargetSpec
from contacts.models import Contact, Membership

router = Router()
# Bad bodies answer 422 here: 400 is Eloqua's.
RESPONSE_ERRORS = error_responses(401, 403, 404, 413, 422)

TYPE_PREFIX = "stream:"
DEFAULT_VERB = "post"
CONTACT_OBJECT_TYPES = {"contact", "customer"}
MAX_LIST_ITEMS = 100


def _text(max_length: int, min_length: int = 0):
    return Annotated[
        StrictStr,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
    ]


def _int_as_str(value):
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _utc(value: datetime) -> datetime:
    """Naive times are UTC; a time that has no UTC equivalent is refused."""
    if timezone.is_naive(value):
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("The time is out of range.") from None


# Ids may come as JSON numbers; they are kept as strings.
IdText = Annotated[_text(200, min_length=1), BeforeValidator(_int_as_str)]
UtcDateTime = Annotated[datetime, AfterValidator(_utc)]


def _may_be_a_string(schema: dict) -> None:
    """Document a field that may also be a plain string (the page's `string | Identity`)."""
    schema["anyOf"] = [{"type": "string"}, *schema["anyOf"]]


def _items_may_be_strings(schema: dict) -> None:
    """Document list items that may also be plain strings."""
    for option in schema.get("anyOf", [schema]):
        if "items" in option:
            option["items"] = {"anyOf": [{"type": "string"}, option["items"]]}


# The request models are plain pydantic models: ninja's Schema reads attributes from any
# input (a string or a number would pass for an empty object) before validators see it.


class Identity(BaseModel):
    """A user or system; a plain string is read as an identity with that id and name."""

    type: _text(50) | None = Field(None, alias="@type")
    id: IdText | None = None
    name: _text(200) | None = None
    email: _text(254) | None = None
    avatar: _text(500) | None = None

    @model_validator(mode="before")
    @classmethod
    def from_string(cls, data):
        return {"id": data, "name": data} if isinstance(data, str) else data


class ActivityEntryAttachment(BaseModel):
    """A file, link or video; a plain string is a file id."""

    type: Literal["file", "link", "video"] = Field("file", alias="@type")
    id: _text(500, min_length=1) = Field(description="The file ID of the attachment.")

    @model_validator(mode="before")
    @classmethod
    def from_string(cls, data):
        return {"id": data} if isinstance(data, str) else data


class ActivityTarget(BaseModel):
    type: Literal["Identity", "Everyone", "Members", "Public"] | None = Field(
        None, alias="@type", description='Defaults to "Identity".'
    )
    targetId: IdText | None = Field(
        None, description='A user\'s id or username, or a group such as "administrators".'
    )
    notify: StrictBool | None = False


class ActivityEntryIn(BaseModel):
    type: _text(100 - len(TYPE_PREFIX), min_length=1) | None = Field(
        None, alias="@type", description='The verb: "share", "update", "assign"…; "post" if absent.'
    )
    actor: Identity | None = Field(
        None,
        description="A name or an identity; defaults to the token's integration.",
        json_schema_extra=_may_be_a_string,
    )
    attachments: list[ActivityEntryAttachment] | None = Field(
        None, max_length=MAX_LIST_ITEMS, json_schema_extra=_items_may_be_strings
    )
    objectId: _text(200, min_length=1)
    objectType: _text(100, min_length=1) = Field(description='"contact", "customer", "case"…')
    publishedAt: UtcDateTime | None = Field(None, description="Defaults to now.")
    targets: list[ActivityTarget] | None = Field(
        None, max_length=MAX_LIST_ITEMS, description="Who may see it; everyone if absent."
    )


class ActivityEntryCreated(Schema):
    id: str


@router.post(
    "/api/activity-entries",
    auth=WRITE,
    response={201: ActivityEntryCreated, **RESPONSE_ERRORS},
    summary="Post an activity entry",
    description=(
        "Posts a new activity entry for an object. `objectType` `contact` (or `customer`) "
        "with a contact's id or external id puts it on that contact's timeline. `targets` "
        "restrict who sees it (Identity) and whom to notify."
    ),
    operation_id="postActivityEntry",
)
def post_activity_entry(request: HttpRequest, payload: ActivityEntryIn):
    targets = _targets(payload.targets or [])
    contact = _object_contact(request, payload)
    actor = _actor(request, payload.actor)
    verb = (payload.type or DEFAULT_VERB).lower()
    activity, _ = services.log_activity(
        workspace=request.workspace,
        type_key=TYPE_PREFIX + verb,
        contacts=[contact] if contact else [],
        actor=actor,
        source=Activity.Source.API,
        occurred_at=payload.publishedAt,
        title=_title(actor, verb, payload, contact),
        targets=targets,
        attachments=[_attachment(item) for item in payload.attachments or []],
        payload=json.loads(request.body),
        **({} if contact else {"object_type": payload.objectType, "object_id": payload.objectId}),
    )
    return Status(201, {"id": str(activity.pk)})


def _object_contact(request: HttpRequest, payload: ActivityEntryIn) -> Contact | None:
    """The contact the entry is about (by id or external id), None for other objects."""
    if payload.objectType.lower() not in CONTACT_OBJECT_TYPES:
        return None
    contacts = Contact.objects.in_workspace(request.workspace)
    contact_uuid = as_uuid(payload.objectId)
    contact = (contact_uuid and contacts.filter(pk=contact_uuid).first()) or contacts.filter(
        external_id=payload.objectId
    ).first()
    if not contact:
        raise InvalidInput(
            [("objectId", "No contact of this workspace has this id or external id.")],
            status=404,
            message="Not found.",
        )
    return contact


def _actor(request: HttpRequest, identity: Identity | None) -> Actor:
    """A workspace member named by id or username is a user; anyone else an integration."""
    name = identity and (identity.name or identity.id or identity.email)
    if not name:
        return integration_actor(request)
    user = _member_user(request, identity.id)
    if user:
        return Actor.of(user)
    return Actor(
        kind=Activity.ActorKind.INTEGRATION,
        name=name,
        external_id=identity.id or "",
        email=identity.email or "",
        avatar_url=identity.avatar or "",
    )


def _member_user(request: HttpRequest, identity_id: str | None) -> AbstractBaseUser | None:
    if not identity_id:
        return None
    named = Q(user__username=identity_id)
    if identity_id.isascii() and identity_id.isdigit() and len(identity_id) <= 18:
        named |= Q(user_id=int(identity_id))
    membership = (
        Membership.objects.in_workspace(request.workspace)
        .filter(named)
        .select_related("user")
        .first()
    )
    return membership and membership.user


def _targets(targets: list[ActivityTarget]) -> list[TargetSpec]:
    errors = []
    for index, target in enumerate(targets):
        if target.type is None and target.targetId is None:
            errors.append((f"targets.{index}", "Give @type or targetId."))
        elif (target.type or Target.Kind.IDENTITY) == Target.Kind.IDENTITY and not target.targetId:
            errors.append((f"targets.{index}.targetId", "An Identity target needs a targetId."))
    if errors:
        raise InvalidInput(errors)
    return [
        TargetSpec(
            kind=target.type or Target.Kind.IDENTITY,
            target_id=target.targetId or "",
            notify=bool(target.notify),
        )
        for target in targets
    ]


def _attachment(item: ActivityEntryAttachment) -> AttachmentSpec:
    """A link's or video's id that is a URL is also its address."""
    url = ""
    if item.type != Attachment.Kind.FILE:
        try:
            URLValidator(schemes=["http", "https"])(item.id)
            url = item.id
        except ValidationError:
            pass
    return AttachmentSpec(kind=item.type, external_id=item.id, url=url)


def _title(actor: Actor, verb: str, payload: ActivityEntryIn, contact: Contact | None) -> str:
    """What the timeline shows: "Alice shared case 1234"."""
    subject = actor.name or "Someone"
    what = contact.name if contact else payload.objectId
    title = f"{subject} {past_tense(verb)} {payload.objectType.lower()} {what}"
    limit = Activity._meta.get_field("title").max_length
    return title if len(title) <= limit else title[: limit - 1] + "…"


IRREGULAR_PAST = {
    "begin": "began",
    "do": "did",
    "get": "got",
    "give": "gave",
    "make": "made",
    "put": "put",
    "read": "read",
    "send": "sent",
    "set": "set",
    "submit": "submitted",
    "write": "wrote",
}


def past_tense(verb: str) -> str:
    """share → shared, assign → assigned, reply → replied; other verbs as they come."""
    if verb in IRREGULAR_PAST:
        return IRREGULAR_PAST[verb]
    if not verb.isalpha() or verb.endswith("ed"):
        return verb
    if verb.endswith("e"):
        return verb + "d"
    if verb.endswith("y") and verb[-2:-1] not in "aeiou":
        return verb[:-1] + "ied"
    return verb + "ed"
