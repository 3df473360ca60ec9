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
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Q, QuerySet, prefetch_related_objects
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from activities.models import Activity, ActivityContact, visibility_q
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
    entries: list[Activity]
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
    """One page of links or activities after `cursor`, newest first."""
    id_field = "activity_id" if rows.model is ActivityContact else "id"
    rows = rows.order_by("-occurred_at", f"-{id_field}")
    if cursor:
        # The redundant `occurred_at <=` gives the index scan its starting point.
        rows = rows.filter(
            Q(occurred_at__lt=cursor.occurred_at)
            | Q(occurred_at=cursor.occurred_at, **{f"{id_field}__lt": cursor.activity_id}),
            occurred_at__lte=cursor.occurred_at,
        )
    if rows.model is ActivityContact:
        found = [
            link.activity for link in rows.select_related(*ENTRY_RELATIONS_VIA_LINK)[: size + 1]
        ]
    else:
        found = list(rows.select_related(*ENTRY_RELATIONS)[: size + 1])
    entries = found[:size]
    more = len(found) > size
    next_cursor = Cursor(entries[-1].occurred_at, entries[-1].id) if more else None
    return Page(entries, next_cursor)


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


def prepare(entries: Sequence[Activity], membership: Membership | None) -> Sequence[Activity]:
    """Load what the entries show with a fixed number of queries, however many there are:
    attachments, replies, reaction counts and the other contacts concerned."""
    if not entries:
        return entries
    ids = [entry.pk for entry in entries]
    replies = defaultdict(list)
    for reply in (
        Activity.objects.filter(_visible(membership), reply_to__in=ids)
        .select_related(*ENTRY_RELATIONS)
        .prefetch_related("attachments")
        .order_by("occurred_at", "id")
    ):
        replies[reply.reply_to_id].append(reply)
    reactions = defaultdict(list)
    for row in (
        Activity.objects.filter(_visible(membership), react_to__in=ids)
        .values("react_to", "title")
        .annotate(count=Count("id"))
        .order_by("react_to", "-count", "title")
    ):
        reactions[row["react_to"]].append((row["title"] or "+1", row["count"]))
    contacts = defaultdict(list)
    for link in (
        ActivityContact.objects.filter(activity__in=ids)
        .select_related("contact")
        .order_by("contact__name")
    ):
        contacts[link.activity_id].append(link.contact)
    prefetch_related_objects(list(entries), "attachments")
    for entry in entries:
        entry.reply_list = replies[entry.pk]
        entry.reaction_counts = reactions[entry.pk]
        entry.contact_list = contacts[entry.pk]
    return entries


# Grouping under day headings


@dataclass
class DayGroup:
    key: str  # "upcoming" or an ISO date: stable across pages, so a heading is not repeated
    label: str
    entries: list[Activity]


def group_by_day(entries: Sequence[Activity], now: datetime | None = None) -> list[DayGroup]:
    """Entries under "Upcoming", "Today", "Yesterday" or their date, in the current zone."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    groups: list[DayGroup] = []
    for entry in entries:
        key, label = _day_of(entry.occurred_at, now, today)
        if not groups or groups[-1].key != key:
            groups.append(DayGroup(key, label, []))
        groups[-1].entries.append(entry)
    return groups


def _day_of(moment: datetime, now: datetime, today: date) -> tuple[str, str]:
    if moment > now:
        return UPCOMING, "Upcoming"
    day = timezone.localtime(moment).date()
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
