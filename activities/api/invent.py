"""Invent's "List contact activities": a contact's timeline as its page shows it.

The item builder and the paging helpers here are shared by the native lists.
"""

from collections.abc import Sequence
from typing import Annotated, Any

from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from ninja import Query, Router, Schema
from pydantic import Field, WithJsonSchema

from activities import timeline, types
from activities.api.common import get_contact, iso_z, workspace_for
from activities.api.errors import InvalidInput, error_responses
from activities.filters import TimelineFilter
from activities.models import Activity
from contacts.models import Note, Segment

router = Router()

# Times are written `2023-11-07T05:31:56Z`, so they are built as strings (common.iso_z).
IsoTime = Annotated[
    str,
    WithJsonSchema({"type": "string", "format": "date-time", "example": "2023-11-07T05:31:56Z"}),
]

DEFAULT_TAKE = 20
MAX_TAKE = 100
# Offset paging stops here; the `next` token pages through any length.
MAX_PAGE = 1_000_000

TYPE_DESCRIPTION = (
    "An activity type's key. The built-in keys, Invent's seven first: "
    + ", ".join(f"`{key}`" for key in types.BUILTIN_TYPES)
    + ". Integrations add their own keys (such as `api:message`), which are listed too."
)


# The page's shapes


class ActorOut(Schema):
    """The member or integration that did it."""

    id: str | None
    name: str
    email: str | None
    avatar: str | None
    seen_at: IsoTime | None = Field(description="When the member last signed in.")


class AssistantOut(Schema):
    id: str | None
    name: str | None
    avatar_url: str | None


class BoardOut(Schema):
    board_id: str
    board_name: str
    column_id: str


class SegmentOut(Schema):
    id: str
    name: str
    color: str
    contacts_count: int
    boards: list[BoardOut] = Field(description="Always empty: this server has no boards.")
    created_at: IsoTime
    updated_at: IsoTime


class BroadcastOut(Schema):
    id: str
    name: str | None


class NoteUserOut(Schema):
    id: str
    name: str
    avatar: str | None


class NoteOut(Schema):
    id: str
    contact_id: str
    content: str
    created_at: IsoTime
    updated_at: IsoTime
    user: NoteUserOut | None = Field(
        description="The member who wrote it; null for an integration."
    )


class ActivityItemOut(Schema):
    id: str
    type: str = Field(description=TYPE_DESCRIPTION)
    created_at: IsoTime | None = Field(description="When it happened.")
    actor: ActorOut | None
    assistant: AssistantOut | None
    segment: SegmentOut | None = Field(description="The segment of a segment entry.")
    broadcast: BroadcastOut | None
    note: NoteOut | None = Field(description="The note of a note entry, while it exists.")
    metadata: dict[str, Any]


# Building items


def activity_items(entries: Sequence[Activity]) -> list[dict]:
    """Items for entries loaded with ENTRY_RELATIONS: one more query, for segment sizes."""
    counts = segment_counts({entry.segment_id for entry in entries if entry.segment_id})
    return [activity_item(entry, counts) for entry in entries]


def segment_counts(segment_ids: set) -> dict:
    if not segment_ids:
        return {}
    return dict(
        Segment.objects.filter(pk__in=segment_ids)
        .annotate(contacts_count=Count("memberships"))
        .values_list("pk", "contacts_count")
    )


def activity_item(entry: Activity, counts: dict) -> dict:
    segment = entry.segment
    return {
        "id": str(entry.pk),
        "type": entry.type.key,
        "created_at": iso_z(entry.occurred_at),
        "actor": _actor(entry),
        "assistant": _assistant(entry),
        "segment": segment and segment_out(segment, counts.get(segment.pk, 0)),
        "broadcast": _broadcast(entry),
        "note": entry.note and note_out(entry.note),
        "metadata": entry.metadata or {},
    }


PERSON_ACTORS = (Activity.ActorKind.USER, Activity.ActorKind.INTEGRATION)


def _actor(entry: Activity) -> dict | None:
    user = entry.actor_user
    if entry.actor_kind not in PERSON_ACTORS or not (user or entry.actor_name):
        return None
    return {
        "id": str(user.pk) if user else entry.actor_external_id or None,
        "name": entry.actor_display,
        "email": (user.email if user else entry.actor_email) or None,
        "avatar": entry.actor_avatar_url or None,
        "seen_at": iso_z(user.last_login) if user else None,
    }


def _assistant(entry: Activity) -> dict | None:
    if entry.actor_kind != Activity.ActorKind.ASSISTANT:
        return None
    return {
        "id": entry.actor_external_id or None,
        "name": entry.actor_name or None,
        "avatar_url": entry.actor_avatar_url or None,
    }


def _broadcast(entry: Activity) -> dict | None:
    if entry.object_type.lower() != "broadcast":
        return None
    return {"id": entry.object_id, "name": entry.object_name or None}


def segment_out(segment: Segment, contacts_count: int) -> dict:
    return {
        "id": str(segment.pk),
        "name": segment.name,
        "color": segment.color,
        "contacts_count": contacts_count,
        "boards": [],
        "created_at": iso_z(segment.created_at),
        "updated_at": iso_z(segment.updated_at),
    }


def note_out(note: Note) -> dict:
    author = note.author
    return {
        "id": str(note.pk),
        "contact_id": str(note.contact_id),
        "content": note.content,
        "created_at": iso_z(note.created_at),
        "updated_at": iso_z(note.updated_at),
        "user": author
        and {
            "id": str(author.pk),
            "name": author.get_full_name() or author.get_username(),
            "avatar": None,
        },
    }


# Paging and filters


def comma_separated(value: str | None) -> list[str]:
    """`note_created, segment_added` → the values, without blanks."""
    return [key.strip() for key in (value or "").split(",") if key.strip()]


def query_of(**values: list[str]) -> QueryDict:
    """A query string's data for a FilterSet, several values per name."""
    data = QueryDict(mutable=True)
    for name, value in values.items():
        data.setlist(name, value)
    return data


def decode_cursor(token: str | None) -> timeline.Cursor | None:
    if not token:
        return None
    try:
        return timeline.Cursor.decode(token)
    except ValueError:
        raise InvalidInput([("next", "This is not a next page token of this list.")]) from None


def filtered(filterset) -> QuerySet:
    """The FilterSet's rows, or 422 naming each bad filter."""
    if not filterset.is_valid():
        raise InvalidInput(
            [(name, message) for name, messages in filterset.errors.items() for message in messages]
        )
    return filterset.qs


def link_next(request: HttpRequest, response: HttpResponse, token: str | None) -> None:
    """Point the Link header at the next page: this request's query with `next` set."""
    if not token:
        return
    query = request.GET.copy()
    query.pop("page", None)
    query["next"] = token
    url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    response["Link"] = f'<{url}>; rel="next"'


def offset_page(rows: QuerySet, page: int, size: int) -> timeline.Page:
    """Page `page` (1-based) of a contact's timeline rows, newest first, by offset."""
    start = (page - 1) * size
    links = rows.order_by("-occurred_at", "-activity_id").select_related(
        *timeline.ENTRY_RELATIONS_VIA_LINK
    )[start : start + size + 1]
    found = [link.activity for link in links]
    entries = found[:size]
    more = len(found) > size
    next_cursor = timeline.Cursor(entries[-1].occurred_at, entries[-1].id) if more else None
    return timeline.Page(entries, next_cursor)


# The columns of a link's activity and its people that an item does not show, left
# unread: an item needs a third of the columns its query joins.
ITEM_DEFERRED = tuple(
    f"activity__{name}"
    for name in (
        "source",
        "title",
        "body",
        "body_html",
        "payload",
        "ended_at",
        "sub_type",
        "category",
        "status",
        "priority",
        "external_id",
        "account_id",
        "opportunity_id",
        "sequence_id",
        "pipeline_stage_id",
        "campaign_id",
        "asset_type",
        "asset_name",
        "channel_id",
        "event_id",
        "done_at",
        "created_at",
        "updated_at",
        *(
            f"{person}__{field}"
            for person in ("actor_user", "note__author")
            for field in ("password", "is_superuser", "is_staff", "is_active", "date_joined")
        ),
        "note__author__email",
        "note__author__last_login",
        "segment__description",
    )
)


class PageQuery(Schema):
    take: int = Field(
        DEFAULT_TAKE, ge=1, le=MAX_TAKE, description=f"Number of items to take: 1 to {MAX_TAKE}."
    )
    next: str | None = Field(
        None,
        max_length=2000,
        description='Next page token, as given in the `Link: <…>; rel="next"` header.',
    )


class ContactActivitiesQuery(PageQuery):
    type: str | None = Field(
        None,
        max_length=2000,
        description=f"One key, or several separated by commas. {TYPE_DESCRIPTION}",
    )
    page: int | None = Field(
        None, ge=1, le=MAX_PAGE, description="Page number (1-based); `next` wins over it."
    )


@router.get(
    "/orgs/{org_id}/contacts/{contact_id}/activities",
    response={200: list[ActivityItemOut], **error_responses(401, 404, 422)},
    summary="List contact activities",
    description=(
        "A contact's timeline, newest first. Page with `page` and `take`, or with the `next` "
        'token of the `Link: <…>; rel="next"` header (stable while new entries arrive; '
        "it wins over `page`). `type` takes one key or several separated by commas; a key "
        "the workspace does not have is refused with 422."
    ),
    operation_id="list_contact_activities",
)
def list_contact_activities(
    request: HttpRequest,
    response: HttpResponse,
    org_id: str,
    contact_id: str,
    query: Query[ContactActivitiesQuery],
):
    workspace = workspace_for(request, org_id)
    contact = get_contact(request, contact_id)
    cursor = decode_cursor(query.next)
    rows = (
        timeline.contact_entries(contact, None)
        .select_related("activity__note__author")
        .defer(*ITEM_DEFERRED)
    )
    if keys := comma_separated(query.type):
        rows = filtered(TimelineFilter(query_of(type=keys), rows, workspace=workspace))
    if query.page and not cursor:
        found = offset_page(rows, query.page, query.take)
    else:
        found = timeline.page_of(rows, cursor, size=query.take)
    link_next(request, response, found.next_cursor and found.next_cursor.encode())
    return activity_items(found.entries)
