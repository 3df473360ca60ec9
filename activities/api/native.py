"""Native endpoints: contacts, notes, contact status, segments and the workspace feed.

Same style as the Invent mirror: bare JSON arrays paged by a `next` token that the
`Link: <…>; rel="next"` header carries, and one error shape.
"""

import base64
import binascii
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from typing import Annotated, Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import AfterValidator, Field, StrictStr, field_validator
from pydantic.json_schema import SkipJsonSchema

from activities import services, timeline
from activities.api.auth import WRITE
from activities.api.common import as_uuid, get_contact, integration_actor, iso_z, workspace_for
from activities.api.errors import InvalidInput, error_responses
from activities.api.invent import (
    TYPE_DESCRIPTION,
    ActivityItemOut,
    IsoTime,
    NoteOut,
    PageQuery,
    SegmentOut,
    activity_items,
    comma_separated,
    decode_cursor,
    filtered,
    item_page,
    link_next,
    note_out,
    query_of,
)
from activities.filters import FeedFilter
from activities.models import Activity, ActivityContact
from contacts import services as contact_services
from contacts.filters import ContactFilter
from contacts.forms import SegmentForm
from contacts.models import Color, Contact, Segment

router = Router()

CONTACTS = "/orgs/{org_id}/contacts"
CONTACT = "/orgs/{org_id}/contacts/{contact_id}"
SEGMENTS = "/orgs/{org_id}/segments"
MEMBERSHIP = "/orgs/{org_id}/segments/{segment_id}/contacts/{contact_id}"


# PostgreSQL stores no NUL character in text or JSON: refuse them with the field's name.
NUL_MESSAGE = "Text must not contain NUL characters."


def without_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError(NUL_MESSAGE)
    return value


def json_without_nul(value: dict[str, Any]) -> dict[str, Any]:
    """Walks the object with a stack, not recursion: the parser allows deep nesting."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            pending += item
        elif isinstance(item, str):
            without_nul(item)
    return value


Text = Annotated[StrictStr, AfterValidator(without_nul)]
JsonObject = Annotated[dict[str, Any], AfterValidator(json_without_nul)]


# Contacts


class ContactSegmentOut(Schema):
    id: str
    name: str
    color: str


class ContactOut(Schema):
    id: str
    name: str
    email: str | None
    phone: str | None
    company: str | None
    avatar_url: str | None
    external_id: str | None = Field(description="The contact's id in another system.")
    blocked: bool
    blocked_changed_at: IsoTime | None
    unsubscribed: bool
    unsubscribed_changed_at: IsoTime | None
    custom_fields: dict[str, Any]
    segments: list[ContactSegmentOut]
    last_activity_at: IsoTime | None
    created_at: IsoTime
    updated_at: IsoTime


def contact_out(contact: Contact) -> dict:
    return {
        "id": str(contact.pk),
        "name": contact.name,
        "email": contact.email or None,
        "phone": contact.phone or None,
        "company": contact.company or None,
        "avatar_url": contact.avatar_url or None,
        "external_id": contact.external_id,
        "blocked": contact.blocked,
        "blocked_changed_at": iso_z(contact.blocked_changed_at),
        "unsubscribed": contact.unsubscribed,
        "unsubscribed_changed_at": iso_z(contact.unsubscribed_changed_at),
        "custom_fields": contact.custom_fields,
        "segments": [
            {"id": str(segment.pk), "name": segment.name, "color": segment.color}
            for segment in contact.segments.all()
        ],
        "last_activity_at": iso_z(contact.last_activity_at),
        "created_at": iso_z(contact.created_at),
        "updated_at": iso_z(contact.updated_at),
    }


STATUS_FLAG_MESSAGE = (
    "Not settable here: use POST {path}/block, /unblock, /unsubscribe or /resubscribe."
)


class ContactChangesIn(Schema):
    """Every field but the name; null clears one."""

    email: Text | None = Field(None, max_length=254)
    phone: Text | None = Field(None, max_length=50)
    company: Text | None = Field(None, max_length=200)
    avatar_url: Text | None = Field(None, max_length=500)
    external_id: Text | None = Field(None, max_length=100, description="Unique in the workspace.")
    custom_fields: JsonObject | None = None
    # Blocking and unsubscribing write timeline entries: they have their own endpoints.
    blocked: SkipJsonSchema[Any] = None
    unsubscribed: SkipJsonSchema[Any] = None

    @field_validator("blocked", "unsubscribed")
    @classmethod
    def has_own_endpoint(cls, value: Any) -> Any:
        raise ValueError(STATUS_FLAG_MESSAGE.format(path=CONTACT))


class ContactIn(ContactChangesIn):
    name: Text = Field(min_length=1, max_length=200)


class ContactPatchIn(ContactChangesIn):
    name: Text | None = Field(None, min_length=1, max_length=200)


def contact_fields(payload: ContactChangesIn) -> dict[str, Any]:
    """The contact's fields that the body sets."""
    names = payload.model_fields_set & contact_services.EDITABLE_FIELDS
    return {name: getattr(payload, name) for name in names}


def contact_page(
    rows: QuerySet[Contact], token: str | None, take: int
) -> tuple[list[Contact], str | None]:
    """A page of contacts by name then id, after the contact the token names."""
    rows = rows.order_by("name", "id")
    if token:
        name, contact_id = decode_contact_cursor(token)
        rows = rows.filter(Q(name__gt=name) | Q(name=name, pk__gt=contact_id))
    found = list(rows[: take + 1])
    contacts = found[:take]
    next_token = encode_contact_cursor(contacts[-1]) if len(found) > take else None
    return contacts, next_token


def encode_contact_cursor(contact: Contact) -> str:
    # The id first: it has a fixed form, so a name may hold any character.
    raw = f"{contact.pk}|{contact.name}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_contact_cursor(token: str) -> tuple[str, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        contact_id, name = raw.split("|", 1)
        contact_uuid = uuid.UUID(contact_id)
        if "\x00" not in name:
            return name, contact_uuid
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidInput([("next", "This is not a next page token of this list.")])


def as_query_value(value: str | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class ContactListQuery(PageQuery):
    q: str | None = Field(None, max_length=200, description="Text in the name, email or company.")
    segment: str | None = Field(None, max_length=100, description="A segment's id.")
    blocked: bool | None = None
    unsubscribed: bool | None = None


@router.get(
    CONTACTS,
    response={200: list[ContactOut], **error_responses(401, 404, 422)},
    summary="List contacts",
    description=(
        "The workspace's contacts by name. `q` searches name, email and company. Page with "
        "`take` and the `next` token of the `Link` header."
    ),
    operation_id="list_contacts",
)
def list_contacts(
    request: HttpRequest, response: HttpResponse, org_id: str, query: Query[ContactListQuery]
):
    workspace = workspace_for(request, org_id)
    data = query.model_dump(include={"q", "segment", "blocked", "unsubscribed"}, exclude_none=True)
    filterset = ContactFilter(
        {name: as_query_value(value) for name, value in data.items()},
        Contact.objects.in_workspace(workspace).prefetch_related("segments"),
        request=request,
    )
    contacts, next_page = contact_page(filtered(filterset), query.next, query.take)
    link_next(request, response, next_page)
    return [contact_out(contact) for contact in contacts]


@router.post(
    CONTACTS,
    auth=WRITE,
    response={201: ContactOut, **error_responses(401, 403, 404, 413, 422)},
    summary="Create a contact",
    description="A taken `external_id` is refused with 422 naming it.",
    operation_id="create_contact",
)
def create_contact(request: HttpRequest, org_id: str, payload: ContactIn):
    workspace = workspace_for(request, org_id)
    contact = contact_services.create_contact(workspace=workspace, **contact_fields(payload))
    return Status(201, contact_out(contact))


@router.get(
    CONTACT,
    response={200: ContactOut, **error_responses(401, 404)},
    summary="Get a contact",
    operation_id="get_contact",
)
def read_contact(request: HttpRequest, org_id: str, contact_id: str):
    workspace_for(request, org_id)
    return contact_out(get_contact(request, contact_id))


@router.patch(
    CONTACT,
    auth=WRITE,
    response={200: ContactOut, **error_responses(401, 403, 404, 413, 422)},
    summary="Update a contact",
    description=(
        "Changes the fields sent and no others; null clears a field (not the name). "
        "`blocked` and `unsubscribed` have their own endpoints and are refused here."
    ),
    operation_id="update_contact",
)
def update_contact(request: HttpRequest, org_id: str, contact_id: str, payload: ContactPatchIn):
    workspace_for(request, org_id)
    contact = get_contact(request, contact_id)
    contact_services.update_contact(contact=contact, **contact_fields(payload))
    return contact_out(contact)


# Notes


class NoteIn(Schema):
    content: Text = Field(max_length=20_000)


@router.post(
    f"{CONTACT}/notes",
    auth=WRITE,
    response={201: NoteOut, **error_responses(401, 403, 404, 413, 422)},
    summary="Add a note to a contact",
    description="Writes a `note_created` entry on the contact's timeline; `user` is null.",
    operation_id="create_note",
)
def create_note(request: HttpRequest, org_id: str, contact_id: str, payload: NoteIn):
    workspace_for(request, org_id)
    note = services.add_note(
        contact=get_contact(request, contact_id),
        content=payload.content,
        actor=integration_actor(request),
        source=Activity.Source.API,
    )
    return Status(201, note_out(note))


# Contact status: each change writes one entry; a change that changes nothing writes none.


def change_status(
    request: HttpRequest, org_id: str, contact_id: str, change: Callable[..., Activity | None]
) -> dict:
    workspace_for(request, org_id)
    contact = get_contact(request, contact_id)
    change(contact=contact, actor=integration_actor(request), source=Activity.Source.API)
    contact.refresh_from_db()
    return contact_out(contact)


STATUS_ERRORS = error_responses(401, 403, 404)


@router.post(
    f"{CONTACT}/block",
    auth=WRITE,
    response={200: ContactOut, **STATUS_ERRORS},
    summary="Block a contact",
    operation_id="block_contact",
)
def block_contact(request: HttpRequest, org_id: str, contact_id: str):
    return change_status(request, org_id, contact_id, services.block_contact)


@router.post(
    f"{CONTACT}/unblock",
    auth=WRITE,
    response={200: ContactOut, **STATUS_ERRORS},
    summary="Unblock a contact",
    operation_id="unblock_contact",
)
def unblock_contact(request: HttpRequest, org_id: str, contact_id: str):
    return change_status(request, org_id, contact_id, services.unblock_contact)


@router.post(
    f"{CONTACT}/unsubscribe",
    auth=WRITE,
    response={200: ContactOut, **STATUS_ERRORS},
    summary="Unsubscribe a contact",
    operation_id="unsubscribe_contact",
)
def unsubscribe_contact(request: HttpRequest, org_id: str, contact_id: str):
    return change_status(request, org_id, contact_id, services.unsubscribe_contact)


@router.post(
    f"{CONTACT}/resubscribe",
    auth=WRITE,
    response={200: ContactOut, **STATUS_ERRORS},
    summary="Resubscribe a contact",
    operation_id="resubscribe_contact",
)
def resubscribe_contact(request: HttpRequest, org_id: str, contact_id: str):
    return change_status(request, org_id, contact_id, services.resubscribe_contact)


# Segments


class SegmentDetailOut(SegmentOut):
    description: str


class SegmentIn(Schema):
    name: Text = Field(min_length=1, max_length=100, description="Unique, in any case.")
    color: Color = Color.BLUE
    description: Text | None = Field(None, max_length=2000)


def segment_detail_out(segment: Segment) -> dict:
    return {
        "id": str(segment.pk),
        "name": segment.name,
        "color": segment.color,
        "contacts_count": segment.contacts_count,
        "boards": [],
        "description": segment.description,
        "created_at": iso_z(segment.created_at),
        "updated_at": iso_z(segment.updated_at),
    }


def get_segment(request: HttpRequest, segment_id: str) -> Segment:
    segment_uuid = as_uuid(segment_id)
    segment = segment_uuid and (
        Segment.objects.in_workspace(request.workspace).filter(pk=segment_uuid).first()
    )
    if not segment:
        raise Http404
    return segment


@router.get(
    SEGMENTS,
    response={200: list[SegmentDetailOut], **error_responses(401, 404)},
    summary="List segments",
    description="Every segment of the workspace by name, with its exact number of contacts.",
    operation_id="list_segments",
)
def list_segments(request: HttpRequest, org_id: str):
    workspace = workspace_for(request, org_id)
    segments = Segment.objects.in_workspace(workspace).annotate(contacts_count=Count("memberships"))
    return [segment_detail_out(segment) for segment in segments.order_by("name", "id")]


@router.post(
    SEGMENTS,
    auth=WRITE,
    response={201: SegmentDetailOut, **error_responses(401, 403, 404, 413, 422)},
    summary="Create a segment",
    description="A name the workspace already has (in any case) is refused with 422.",
    operation_id="create_segment",
)
def create_segment(request: HttpRequest, org_id: str, payload: SegmentIn):
    workspace = workspace_for(request, org_id)
    data = {"name": payload.name, "color": payload.color, "description": payload.description or ""}
    form = SegmentForm(data, workspace=workspace)
    if not form.is_valid():
        raise InvalidInput(
            [(name, str(error)) for name, errors in form.errors.items() for error in errors]
        )
    try:
        with transaction.atomic():
            segment = form.save()
    except IntegrityError:
        # Another request took the name since the form checked it.
        raise InvalidInput([("name", "A segment with this name already exists.")]) from None
    segment.contacts_count = 0
    return Status(201, segment_detail_out(segment))


MEMBERSHIP_ERRORS = error_responses(401, 403, 404)


@router.put(
    MEMBERSHIP,
    auth=WRITE,
    response={200: ContactOut, **MEMBERSHIP_ERRORS},
    summary="Add a contact to a segment",
    description="Writes a `segment_added` entry, unless the contact already was in it.",
    operation_id="add_to_segment",
)
def add_to_segment(request: HttpRequest, org_id: str, segment_id: str, contact_id: str):
    workspace_for(request, org_id)
    contact = get_contact(request, contact_id)
    services.add_to_segment(
        contact=contact,
        segment=get_segment(request, segment_id),
        actor=integration_actor(request),
        source=Activity.Source.API,
    )
    return contact_out(contact)


@router.delete(
    MEMBERSHIP,
    auth=WRITE,
    response={204: None, **MEMBERSHIP_ERRORS},
    summary="Remove a contact from a segment",
    description="Writes a `segment_removed` entry, unless the contact was not in it.",
    operation_id="remove_from_segment",
)
def remove_from_segment(request: HttpRequest, org_id: str, segment_id: str, contact_id: str):
    workspace_for(request, org_id)
    services.remove_from_segment(
        contact=get_contact(request, contact_id),
        segment=get_segment(request, segment_id),
        actor=integration_actor(request),
        source=Activity.Source.API,
    )
    return Status(204, None)


# The workspace feed


class FeedItemOut(ActivityItemOut):
    source: str = Field(description="`ui`, `api`, `system` or `import`.")
    title: str
    body: str
    contact_ids: list[str] = Field(description="The contacts on whose timelines it is.")


def feed_items(rows: Sequence[dict]) -> list[dict]:
    """Items of `read_items` rows with FEED_FIELDS."""
    contact_ids = defaultdict(list)
    for activity_id, contact_id in ActivityContact.objects.filter(
        activity__in=[row["id"] for row in rows]
    ).values_list("activity_id", "contact_id"):
        contact_ids[activity_id].append(str(contact_id))
    return [
        item
        | {
            "source": row["source"],
            "title": row["title"],
            "body": row["body"],
            "contact_ids": sorted(contact_ids[row["id"]]),
        }
        for row, item in zip(rows, activity_items(rows), strict=True)
    ]


FEED_FIELDS = ("source", "title", "body")


class FeedQuery(PageQuery):
    type: str | None = Field(
        None, max_length=2000, description=f"Keys separated by commas. {TYPE_DESCRIPTION}"
    )
    source: str | None = Field(
        None, max_length=100, description="Separated by commas: `ui`, `api`, `system`, `import`."
    )
    actor: str | None = Field(None, max_length=20, description="A member's user id.")
    since: date | None = Field(None, description="From this day on (inclusive).")
    # The filter ends at the next midnight, which 9999-12-31 does not have.
    until: date | None = Field(None, description="Up to this day (inclusive).")
    q: str | None = Field(None, max_length=200, description="Text in the title or body.")
    contact: str | None = Field(None, max_length=100, description="A contact's id.")


@router.get(
    "/orgs/{org_id}/activities",
    response={200: list[FeedItemOut], **error_responses(401, 404, 422)},
    summary="List the workspace's activities",
    description=(
        "Every entry of the workspace, newest first, with the timeline's filters. Items are "
        "shaped as Invent's, plus `source`, `title`, `body` and `contact_ids`. Page with "
        "`take` and the `next` token of the `Link` header."
    ),
    operation_id="list_activities",
)
def list_activities(
    request: HttpRequest, response: HttpResponse, org_id: str, query: Query[FeedQuery]
):
    workspace = workspace_for(request, org_id)
    cursor = decode_cursor(query.next)
    filters = query.model_dump(
        include={"actor", "since", "until", "q", "contact"}, exclude_none=True
    )
    data = query_of(
        type=comma_separated(query.type),
        source=comma_separated(query.source),
        **{name: [str(value)] for name, value in filters.items()},
    )
    rows = filtered(FeedFilter(data, timeline.feed_entries(workspace, None), workspace=workspace))
    found, next_cursor = item_page(rows, query.take, cursor, extra=FEED_FIELDS)
    link_next(request, response, next_cursor and next_cursor.encode())
    return feed_items(found)
