"""Invent's "List contact activities": a contact's timeline as its page shows it.

The item builder and the paging helpers here are shared by the native lists.
"""

import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from ninja import Query, Router, Schema
from pydantic import Field, WithJsonSchema

from activities import timeline, types
from activities.api.common import as_uuid, get_contact, iso_z, rendered, workspace_for
from activities.api.errors import InvalidInput, error_responses
from activities.filters import TimelineFilter
from activities.models import Activity, ActivityContact, ActivityType, actor_label, person_name
from config import compiled
from contacts.models import Contact, Note, Segment

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

# What an item shows of its activity, read with `values_list` (model instances cost three
# times as much), with the actor's user joined in (half the entries have one). The type,
# segment and note come from lookups by id (`activity_items`): joining them into the page
# cost more than the lookups of the few pages that have segments or notes.
ITEM_FIELDS = (
    "id",
    "occurred_at",
    "metadata",
    "actor_kind",
    "actor_name",
    "actor_external_id",
    "actor_email",
    "actor_avatar_url",
    "object_type",
    "object_id",
    "object_name",
    "type_id",
    "segment_id",
    "note_id",
    "actor_user_id",
    "actor_user__email",
    "actor_user__last_login",
    "actor_user__first_name",
    "actor_user__last_name",
    "actor_user__username",
)


def read_items(rows: QuerySet, window: slice, extra: Sequence[str] = ()) -> list[dict]:
    """The `window` of timeline rows (links or activities, in their order) as dicts of
    ITEM_FIELDS and `extra` activity fields, in one query."""
    return _as_items(_item_values(rows, extra)[window], extra)


def _item_values(rows: QuerySet, extra: Sequence[str]) -> QuerySet:
    prefix = "activity__" if rows.model is ActivityContact else ""
    return rows.values_list(*(prefix + name for name in (*ITEM_FIELDS, *extra)))


def _as_items(found, extra: Sequence[str] = ()) -> list[dict]:
    names = (*ITEM_FIELDS, *extra)
    return [dict(zip(names, row, strict=True)) for row in found]


class TypeKeys:
    """Activity type keys by type id, kept for the process. A type's key is fixed once the
    type exists (services and admin never change it), so an id is looked up only the first
    time it is seen."""

    def __init__(self):
        self._keys: dict[uuid.UUID, str] = {}

    def of(self, type_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        if missing := type_ids - self._keys.keys():
            found = ActivityType.objects.filter(pk__in=missing).values_list("pk", "key")
            self._keys.update(found)
        return self._keys


TYPE_KEYS = TypeKeys()


def activity_items(rows: Sequence[dict]) -> list[dict]:
    """Items of `read_items` rows: at most three more queries, for the rows' new types,
    segments and notes."""
    type_keys = TYPE_KEYS.of({row["type_id"] for row in rows})
    segments = segments_out({row["segment_id"] for row in rows if row["segment_id"]})
    notes = notes_out({row["note_id"] for row in rows if row["note_id"]})
    return [
        activity_item(row, type_keys[row["type_id"]], segments.get(row["segment_id"]), notes)
        for row in rows
    ]


def segments_out(segment_ids: set[int]) -> dict[int, dict]:
    """SegmentOut of each segment, by id, in one query."""
    if not segment_ids:
        return {}
    found = (
        Segment.objects.filter(pk__in=segment_ids)
        .annotate(contacts_count=Count("memberships"))
        .values_list("pk", "name", "color", "contacts_count", "created_at", "updated_at")
    )
    return {
        pk: {
            "id": str(pk),
            "name": name,
            "color": color,
            "contacts_count": contacts_count,
            "boards": [],
            "created_at": iso_z(created_at),
            "updated_at": iso_z(updated_at),
        }
        for pk, name, color, contacts_count, created_at, updated_at in found
    }


def notes_out(note_ids: set[uuid.UUID]) -> dict[uuid.UUID, dict]:
    """NoteOut of each note that still exists, by id, in one query."""
    if not note_ids:
        return {}
    found = Note.objects.filter(pk__in=note_ids).values_list(
        "pk",
        "contact_id",
        "content",
        "created_at",
        "updated_at",
        "author_id",
        "author__first_name",
        "author__last_name",
        "author__username",
    )
    return {row[0]: _note_out(*row) for row in found}


def _note_out(pk, contact_id, content, created_at, updated_at, author_id, *author_names):
    return {
        "id": str(pk),
        "contact_id": str(contact_id),
        "content": content,
        "created_at": iso_z(created_at),
        "updated_at": iso_z(updated_at),
        "user": author_id
        and {"id": str(author_id), "name": person_name(*author_names), "avatar": None},
    }


def activity_item(row: dict, type_key: str, segment: dict | None, notes: dict) -> dict:
    return {
        "id": str(row["id"]),
        "type": type_key,
        "created_at": iso_z(row["occurred_at"]),
        "actor": _actor(row),
        "assistant": _assistant(row),
        "segment": segment,
        "broadcast": _broadcast(row),
        "note": notes.get(row["note_id"]),
        "metadata": row["metadata"] or {},
    }


PERSON_ACTORS = (Activity.ActorKind.USER, Activity.ActorKind.INTEGRATION)


def _actor(row: dict) -> dict | None:
    user_id = row["actor_user_id"]
    if row["actor_kind"] not in PERSON_ACTORS or not (user_id or row["actor_name"]):
        return None
    user_name = user_id and person_name(
        row["actor_user__first_name"], row["actor_user__last_name"], row["actor_user__username"]
    )
    return {
        "id": str(user_id) if user_id else row["actor_external_id"] or None,
        "name": actor_label(row["actor_name"], user_name, row["actor_kind"]),
        "email": (row["actor_user__email"] if user_id else row["actor_email"]) or None,
        "avatar": row["actor_avatar_url"] or None,
        "seen_at": iso_z(row["actor_user__last_login"]) if user_id else None,
    }


def _assistant(row: dict) -> dict | None:
    if row["actor_kind"] != Activity.ActorKind.ASSISTANT:
        return None
    return {
        "id": row["actor_external_id"] or None,
        "name": row["actor_name"] or None,
        "avatar_url": row["actor_avatar_url"] or None,
    }


def _broadcast(row: dict) -> dict | None:
    if row["object_type"].lower() != "broadcast":
        return None
    return {"id": row["object_id"], "name": row["object_name"] or None}


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


def item_page(
    rows: QuerySet,
    size: int,
    cursor: timeline.Cursor | None = None,
    page: int | None = None,
    extra: Sequence[str] = (),
) -> tuple[list[dict], timeline.Cursor | None]:
    """A page of `read_items` rows, newest first: after `cursor`, or page `page` (1-based,
    by offset) without one; and the cursor of the next page, if there is one."""
    rows = timeline.ordered_after(rows, cursor)
    start = (page - 1) * size if page and not cursor else 0
    return _paged(read_items(rows, slice(start, start + size + 1), extra), size)


def contact_item_page(
    request: HttpRequest, contact_id: str, size: int, cursor: timeline.Cursor | None
) -> tuple[list[dict], timeline.Cursor | None]:
    """`item_page` of the whole timeline of the workspace's contact `contact_id` (404 for
    any other), from SQL the ORM compiled once (`compiled`): most calls page through it
    unfiltered. The page query checks the contact's workspace itself, so the contact is
    read on its own, to tell an empty timeline from an unknown contact, only when the page
    is empty: one round trip fewer a call."""
    pk = as_uuid(contact_id)
    values = {"workspace_id": request.workspace.pk, "contact_id": pk, "size": compiled.Fixed(size)}
    if cursor:
        values |= {"cursor_at": cursor.occurred_at, "cursor_id": cursor.activity_id}
    found = pk and compiled.rows("contact-items", _contact_item_rows, values)
    if not found:
        get_contact(request, contact_id)
    return _paged(_as_items(found or []), size)


def _contact_item_rows(workspace_id, contact_id, size, cursor_at=None, cursor_id=None) -> QuerySet:
    rows = timeline.contact_entries(Contact(pk=contact_id), None).filter(
        contact__workspace_id=workspace_id
    )
    cursor = timeline.Cursor(cursor_at, cursor_id) if cursor_at else None
    return _item_values(timeline.ordered_after(rows, cursor), ())[: size.value + 1]


def _paged(found: list[dict], size: int) -> tuple[list[dict], timeline.Cursor | None]:
    shown = found[:size]
    more = len(found) > size
    next_cursor = timeline.Cursor(shown[-1]["occurred_at"], shown[-1]["id"]) if more else None
    return shown, next_cursor


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
    cursor = decode_cursor(query.next)
    keys = comma_separated(query.type)
    if not keys and (cursor or query.page in (None, 1)):
        found, next_cursor = contact_item_page(request, contact_id, query.take, cursor)
    else:
        rows = timeline.contact_entries(get_contact(request, contact_id), None)
        if keys:
            rows = filtered(TimelineFilter(query_of(type=keys), rows, workspace=workspace))
        found, next_cursor = item_page(rows, query.take, cursor, query.page)
    link_next(request, response, next_cursor and next_cursor.encode())
    return rendered(request, response, activity_items(found))
