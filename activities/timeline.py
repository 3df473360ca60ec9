"""Reading timelines: a contact's entries and the workspace feed.

Both are paged with a keyset cursor on (occurred_at, activity id), newest first, never
OFFSET: an entry written between two loads can neither push one onto the next page twice
nor make one disappear.
"""

import base64
import binascii
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.db.models import (
    Aggregate,
    Count,
    F,
    IntegerField,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from activities import types
from activities.models import (
    Activity,
    ActivityContact,
    Attachment,
    actor_label,
    meeting_of,
    person_name,
    visibility_q,
)
from config import compiled
from contacts.models import Contact, Membership, Workspace

PAGE_SIZE = 50
UPCOMING = "upcoming"


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the last entry's time and id. Opaque to clients."""

    occurred_at: datetime
    activity_id: uuid.UUID

    def encode(self) -> str:
        raw = f"{self.occurred_at.isoformat()}|{self.activity_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> "Cursor":
        """Raises ValueError for anything that is not a cursor this module made."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            when, activity_id = raw.split("|")
            occurred_at = parse_datetime(when)
            if occurred_at is None or timezone.is_naive(occurred_at):
                raise ValueError
            return cls(occurred_at, uuid.UUID(activity_id))
        except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
            raise ValueError("invalid cursor") from None


@dataclass
class Page:
    entries: list  # of Activity (page_of) or Entry (page_entries)
    next_cursor: Cursor | None


# Queries


def contact_entries(contact: Contact, membership: Membership | None) -> QuerySet[ActivityContact]:
    """The contact's timeline rows (links), top-level entries only, visible to the member
    (or all of them for None: an API token acts for the whole workspace).

    Replies and reactions are shown under their parent, not as entries of their own.
    """
    return ActivityContact.objects.filter(
        _visible(membership, "activity__"),
        contact=contact,
        activity__reply_to__isnull=True,
        activity__react_to__isnull=True,
    )


def feed_entries(workspace: Workspace, membership: Membership | None) -> QuerySet[Activity]:
    """The workspace's timeline: every top-level entry the member (or a token) may see."""
    return Activity.objects.filter(
        _visible(membership),
        workspace=workspace,
        reply_to__isnull=True,
        react_to__isnull=True,
    )


def _visible(membership: Membership | None, prefix: str = "") -> Q:
    return visibility_q(membership, prefix) if membership else Q()


def page_of(rows: QuerySet, cursor: Cursor | None, size: int = PAGE_SIZE) -> Page:
    """One page of links or activities after `cursor`, newest first, as activities with
    ENTRY_RELATIONS loaded (for the API and exports; pages read `page_entries`)."""
    rows = ordered_after(rows, cursor)
    if rows.model is ActivityContact:
        links = rows.select_related(*ENTRY_RELATIONS_VIA_LINK)[: size + 1]
        found = [link.activity for link in links]
    else:
        found = list(rows.select_related(*ENTRY_RELATIONS)[: size + 1])
    return _page(found, size)


def page_entries(rows: QuerySet, cursor: Cursor | None, size: int = PAGE_SIZE) -> Page:
    """One page of `for_page` rows after `cursor`, newest first, as light `Entry` objects."""
    return _page(read_entries(ordered_after(rows, cursor), limit=size + 1), size)


def contact_page(
    contact: Contact,
    membership: Membership,
    cursor: Cursor | None,
    *,
    pinned_id: uuid.UUID | None = None,
) -> Page:
    """The page of the contact's unfiltered timeline after `cursor`: `page_entries` of
    its `for_page` rows, from SQL the ORM compiled once (`compiled`), as most pages are.
    The pinned entry `pinned_id` is left out: it stands above the timeline instead.
    """
    values = {"contact_id": contact.pk, "pinned_id": pinned_id}
    return _compiled_page("contact-page", _contact_page_rows, values, membership, cursor)


def feed_page(workspace: Workspace, membership: Membership, cursor: Cursor | None) -> Page:
    """The page of the unfiltered workspace feed after `cursor`, as `contact_page`."""
    values = {"workspace_id": workspace.pk}
    return _compiled_page("feed-page", _feed_page_rows, values, membership, cursor)


def _compiled_page(name, build, values: dict, membership, cursor: Cursor | None) -> Page:
    values = values | _viewer_values(membership)
    if cursor is not None:
        values |= {"cursor_at": cursor.occurred_at, "cursor_id": cursor.activity_id}
    found = compiled.rows(name, build, values)
    return _page([_entry(row) for row in found], PAGE_SIZE)


def _contact_page_rows(contact_id, pinned_id, cursor_at=None, cursor_id=None, **viewer) -> QuerySet:
    contact = Contact(pk=contact_id)
    rows = contact_entries(contact, _viewer(**viewer))
    if pinned_id:
        rows = rows.exclude(activity_id=pinned_id)
    return _page_rows(for_page(rows, contact), cursor_at, cursor_id)


def _feed_page_rows(workspace_id, cursor_at=None, cursor_id=None, **viewer) -> QuerySet:
    rows = for_page(feed_entries(Workspace(pk=workspace_id), _viewer(**viewer)))
    return _page_rows(rows, cursor_at, cursor_id)


def _page_rows(rows: QuerySet, cursor_at, cursor_id) -> QuerySet:
    cursor = Cursor(cursor_at, cursor_id) if cursor_at else None
    return entry_rows(ordered_after(rows, cursor))[: PAGE_SIZE + 1]


def _viewer_values(membership: Membership | None) -> dict:
    """What a compiled query needs of the member whose visibility it applies."""
    if membership is None:
        return {"user_id": None}
    return {
        "user_id": membership.user_id,
        "username": membership.user.get_username(),
        "is_admin": membership.is_admin,
    }


def _viewer(user_id, username=None, is_admin=False) -> Membership | None:
    """A stand-in membership with what `visibility_q` reads."""
    if user_id is None:
        return None
    user = get_user_model()(pk=user_id, username=username)
    return Membership(user=user, role=Membership.Role.ADMIN if is_admin else Membership.Role.MEMBER)


def _page(found: list, size: int) -> Page:
    entries = found[:size]
    more = len(found) > size
    next_cursor = Cursor(entries[-1].occurred_at, entries[-1].id) if more else None
    return Page(entries, next_cursor)


def ordered_after(rows: QuerySet, cursor: Cursor | None) -> QuerySet:
    """Links or activities newest first, from just after `cursor` (or the newest)."""
    id_field = "activity_id" if rows.model is ActivityContact else "id"
    rows = rows.order_by("-occurred_at", f"-{id_field}")
    if cursor is None:
        return rows
    # The redundant `occurred_at <=` gives the index scan its starting point.
    return rows.filter(
        Q(occurred_at__lt=cursor.occurred_at)
        | Q(occurred_at=cursor.occurred_at, **{f"{id_field}__lt": cursor.activity_id}),
        occurred_at__lte=cursor.occurred_at,
    )


ENTRY_RELATIONS = ("type", "actor_user", "segment", "note")
ENTRY_RELATIONS_VIA_LINK = tuple(f"activity__{name}" for name in ENTRY_RELATIONS)


def iter_all(rows: QuerySet, chunk: int = 1000) -> Iterator[list[Activity]]:
    """Every entry of a timeline, in keyset chunks, so an export's memory stays flat."""
    cursor = None
    while True:
        page = page_of(rows, cursor, size=chunk)
        if page.entries:
            yield page.entries
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


# What an entry shows besides its own row


class JSONList(Aggregate):
    """The rows' values as one JSON array."""

    function = "JSON_GROUP_ARRAY"
    output_field = JSONField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="JSONB_AGG", **extra_context)


def for_page(rows: QuerySet, contact: Contact | None = None) -> QuerySet:
    """Timeline rows (a contact's links or the feed's activities) with what a page shows
    of each entry besides its own columns, in the same query: the note's author, the
    entry's contacts other than `contact` (`other_contacts`), its attachments
    (`attachment_list`), and whether it has replies or reactions, visible or not
    (`has_replies`, `has_reactions`: `prepare` reads those of the entries that have)."""
    prefix = "activity__" if rows.model is ActivityContact else ""
    entry = OuterRef(f"{prefix}pk")
    others = ActivityContact.objects.filter(activity=entry)
    if contact is not None:
        others = others.exclude(contact=contact)
    attachments = Attachment.objects.filter(activity=entry)
    return rows.annotate(
        note_author_id=F(f"{prefix}note__author_id"),
        other_contacts=_json_list(others, id="contact_id", name="contact__name"),
        attachment_list=_json_list(
            attachments, kind="kind", name="name", url="url", external_id="external_id"
        ),
        has_replies=_any(Activity.objects.filter(reply_to=entry)),
        has_reactions=_any(Activity.objects.filter(react_to=entry)),
    )


def _any(rows: QuerySet) -> Subquery:
    """1 if there are `rows`, else NULL: a probe of their index for each entry. (PostgreSQL
    may run an EXISTS as one hash of every row the subquery could match, all of the table's
    replies, say, when it misjudges how many entries the LIMIT leaves; a scalar subquery
    it cannot.)"""
    return Subquery(rows.order_by().values(found=Value(1))[:1], output_field=IntegerField())


# `for_page`'s annotations, as a reply reads them: empty.
_NOTHING_ADDED = {
    "note_author_id": Value(None, output_field=IntegerField()),
    "other_contacts": Value(None, output_field=JSONField()),
    "attachment_list": Value(None, output_field=JSONField()),
    "has_replies": Value(None, output_field=IntegerField()),
    "has_reactions": Value(None, output_field=IntegerField()),
}


def _json_list(rows: QuerySet, **fields) -> Subquery:
    """The rows' `fields` as a JSON list of objects, for one entry (`activity`)."""
    grouped = rows.values("activity").annotate(found=JSONList(JSONObject(**fields)))
    return Subquery(grouped.values("found"))


class EntryType(NamedTuple):
    key: str
    name: str
    icon: str
    color: str


class ContactRef(NamedTuple):
    id: uuid.UUID
    name: str


@dataclass(slots=True, eq=False)
class Entry:
    """What a page shows of one activity. Read with `values_list` (`read_entries`), not as
    model instances: a page of them costs a fraction of the instances' Python."""

    # The activity's own columns, in the order `read_entries` selects them.
    id: uuid.UUID
    occurred_at: datetime
    title: str
    source: str
    actor_kind: str
    actor_name: str
    body_html: str
    done_at: datetime | None
    note_id: uuid.UUID | None
    reply_to_id: uuid.UUID | None
    metadata: dict
    campaign_id: str
    asset_type: str
    asset_name: str
    channel_id: str
    event_id: str
    object_type: str
    object_id: str
    object_name: str
    account_id: str
    opportunity_id: str
    # From its relations and `for_page`'s annotations.
    type: EntryType
    actor_display: str
    note_author_id: int | None
    other_contacts: list[ContactRef]
    attachment_list: list[dict]
    has_replies: bool
    has_reactions: bool
    # Set by `prepare` and the views.
    reply_list: list["Entry"] = field(default_factory=list)
    reaction_counts: list[tuple[str, int]] = field(default_factory=list)
    is_pinned: bool = False
    is_upcoming: bool = False
    can_change_note: bool = False
    html: str = ""  # the entry rendered, set last (`views.render_entries`)

    @property
    def meeting(self) -> dict | None:
        return meeting_of(self.metadata)

    @property
    def is_task(self) -> bool:
        return self.type.key == types.TASK

    @property
    def is_overdue(self) -> bool:
        return self.is_task and self.done_at is None and self.occurred_at < timezone.now()


_ENTRY_FIELDS = [f.name for f in fields(Entry)]
ENTRY_COLUMNS = tuple(_ENTRY_FIELDS[: _ENTRY_FIELDS.index("type")])
_RELATED_COLUMNS = (
    "type__key",
    "type__name",
    "type__icon",
    "type__color",
    "actor_user__first_name",
    "actor_user__last_name",
    "actor_user__username",
)


def read_entries(rows: QuerySet, limit: int | None = None) -> list[Entry]:
    """`for_page` rows (links or activities, in their order) as entries, in one query."""
    found = entry_rows(rows)
    return [_entry(row) for row in (found[:limit] if limit else found)]


def entry_rows(rows: QuerySet) -> QuerySet:
    """`for_page` rows as the tuples `_entry` reads."""
    prefix = "activity__" if rows.model is ActivityContact else ""
    names = [prefix + name for name in (*ENTRY_COLUMNS, *_RELATED_COLUMNS)]
    return rows.values_list(*names, *_NOTHING_ADDED)


def _entry(row: tuple) -> Entry:
    own = row[:_OWN_COUNT]
    key, name, icon, color, first, last, username = row[_OWN_COUNT:_ADDED_AT]
    note_author_id, others, attachments, has_replies, has_reactions = row[_ADDED_AT:]
    user_name = username and person_name(first, last, username)
    return Entry(
        *own,
        type=EntryType(key, name, icon, color),
        actor_display=actor_label(own[_ACTOR_NAME], user_name, own[_ACTOR_KIND]),
        note_author_id=note_author_id,
        other_contacts=_contact_refs(others),
        attachment_list=attachments or [],
        has_replies=has_replies is not None,
        has_reactions=has_reactions is not None,
    )


_OWN_COUNT = len(ENTRY_COLUMNS)
_ADDED_AT = _OWN_COUNT + len(_RELATED_COLUMNS)
_ACTOR_NAME = ENTRY_COLUMNS.index("actor_name")
_ACTOR_KIND = ENTRY_COLUMNS.index("actor_kind")


def _contact_refs(found: list[dict] | None) -> list[ContactRef]:
    """`other_contacts` as the database gave it (SQLite writes UUIDs without dashes)."""
    refs = [ContactRef(uuid.UUID(item["id"]), item["name"]) for item in found or []]
    return sorted(refs, key=lambda ref: (ref.name, ref.id))


def prepare(
    entries: Sequence[Entry],
    membership: Membership | None,
    *,
    contact: Contact | None = None,
    pinned_id: uuid.UUID | None = None,
) -> Entry | None:
    """Load the page's entries' replies and reaction counts, in at most two queries
    however many entries there are: each runs only if an entry has any (`has_replies`,
    `has_reactions`; most pages have none).

    With `pinned_id`, the contact's pinned entry comes with the replies and is prepared
    like the others: it is returned, or None if the member may not see it. Whether it has
    replies or reactions is not known before, so both queries run.
    """
    pinned_ids = [pinned_id] if pinned_id else []
    replied = [entry.id for entry in entries if entry.has_replies] + pinned_ids
    reacted = [entry.id for entry in entries if entry.has_reactions] + pinned_ids
    viewer = _viewer_values(membership)
    pinned = None
    replies = defaultdict(list)
    if replied:
        # Only the pinned entry's row shows other contacts than the page's.
        contact_id = contact.pk if contact and pinned_id else None
        wanted = {"ids": replied, "pinned_id": pinned_id, "contact_id": contact_id}
        for row in compiled.rows("replies", _reply_rows, viewer | wanted):
            entry = _entry(row)
            if entry.id == pinned_id:
                pinned = entry
            else:
                replies[entry.reply_to_id].append(entry)
    reactions = defaultdict(list)
    if reacted:
        found = compiled.rows("reactions", _reaction_rows, viewer | {"ids": reacted})
        for react_to, title, count in found:
            reactions[react_to].append((title or "+1", count))
    for entry in (*entries, *([pinned] if pinned else [])):
        entry.reply_list = replies[entry.id]
        entry.reaction_counts = reactions[entry.id]
    return pinned


def _reply_rows(ids, pinned_id, contact_id, **viewer) -> QuerySet:
    """The replies to the entries `ids`, oldest first, and the pinned entry if any."""
    wanted = Q(reply_to__in=ids)
    if pinned_id:
        wanted |= Q(pk=pinned_id, reply_to__isnull=True, react_to__isnull=True)
    rows = Activity.objects.filter(wanted, _visible(_viewer(**viewer)))
    # A reply shows none of what for_page adds: its query goes without the subqueries.
    if pinned_id:
        rows = for_page(rows, Contact(pk=contact_id) if contact_id else None)
    else:
        rows = rows.annotate(**_NOTHING_ADDED)
    return entry_rows(rows.order_by("occurred_at", "id"))


def _reaction_rows(ids, **viewer) -> QuerySet:
    """(entry id, reaction, how many) of the reactions to the entries `ids`."""
    return (
        Activity.objects.filter(_visible(_viewer(**viewer)), react_to__in=ids)
        .values_list("react_to", "title")
        .annotate(count=Count("id"))
        .order_by("react_to", "-count", "title")
    )


# Grouping under day headings


@dataclass
class DayGroup:
    key: str  # "upcoming" or an ISO date: stable across pages, so a heading is not repeated
    label: str
    entries: list[Entry]


def group_by_day(entries: Sequence[Entry], now: datetime | None = None) -> list[DayGroup]:
    """Entries under "Upcoming", "Today", "Yesterday" or their date, in the current zone."""
    now = now or timezone.now()
    zone = timezone.get_current_timezone()
    today = now.astimezone(zone).date()
    groups: list[DayGroup] = []
    for entry in entries:
        key, label = _day_of(
            entry.occurred_at.astimezone(zone).date(), entry.occurred_at > now, today
        )
        if not groups or groups[-1].key != key:
            groups.append(DayGroup(key, label, []))
        groups[-1].entries.append(entry)
    return groups


def _day_of(day: date, upcoming: bool, today: date) -> tuple[str, str]:
    if upcoming:
        return UPCOMING, "Upcoming"
    if day == today:
        return day.isoformat(), "Today"
    if day == today - timedelta(days=1):
        return day.isoformat(), "Yesterday"
    fmt = "%A, %-d %B" if day.year == today.year else "%A, %-d %B %Y"
    return day.isoformat(), day.strftime(fmt)


def contact_names(entries: Sequence[Activity]) -> dict[uuid.UUID, list[str]]:
    """The names of each entry's contacts, in one query."""
    names = defaultdict(list)
    for activity_id, name in (
        ActivityContact.objects.filter(activity__in=[entry.pk for entry in entries])
        .order_by("contact__name")
        .values_list("activity_id", "contact__name")
    ):
        names[activity_id].append(name)
    return names
