"""Every state change that writes a timeline entry, in one place.

The pages, the JSON API and the admin call these functions and nothing else for these
changes. Each runs in one transaction: the change and its entry are written together or
not at all, and a change that changes nothing writes nothing.
"""

import contextlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from activities import bulk, types
from activities.models import (
    ADMIN_GROUP_IDENTITIES,
    Activity,
    ActivityContact,
    ActivityType,
    Attachment,
    Notification,
    Target,
)
from activities.text import render_text
from contacts.models import Contact, Membership, Note, Segment, SegmentMembership, Workspace


@dataclass(frozen=True)
class Actor:
    """Who did something: a staff user, an assistant, an integration or the system."""

    kind: str = Activity.ActorKind.SYSTEM
    user: AbstractBaseUser | None = None
    name: str = ""
    external_id: str = ""
    email: str = ""
    avatar_url: str = ""

    @classmethod
    def of(cls, user: AbstractBaseUser) -> "Actor":
        return cls(
            kind=Activity.ActorKind.USER,
            user=user,
            name=user.get_full_name() or user.get_username(),
            email=user.email,
        )

    def fields(self) -> dict:
        return {
            "actor_kind": self.kind,
            "actor_user": self.user,
            "actor_name": self.name,
            "actor_external_id": self.external_id,
            "actor_email": self.email,
            "actor_avatar_url": self.avatar_url,
        }


SYSTEM = Actor()


@dataclass(frozen=True)
class TargetSpec:
    kind: str = Target.Kind.IDENTITY
    target_id: str = ""
    notify: bool = False


@dataclass(frozen=True)
class AttachmentSpec:
    kind: str = Attachment.Kind.FILE
    external_id: str = ""
    url: str = ""
    name: str = ""


# Workspaces and types


def create_workspace(*, name: str, slug: str) -> Workspace:
    with transaction.atomic():
        workspace = Workspace.objects.create(name=name, slug=slug)
        install_builtin_types(workspace)
    return workspace


def install_builtin_types(workspace: Workspace) -> None:
    ActivityType.objects.bulk_create(
        [
            ActivityType(
                workspace=workspace,
                key=t.key,
                name=t.name,
                icon=t.icon,
                color=t.color,
                loggable=t.loggable,
                builtin=True,
            )
            for t in types.BUILTIN_TYPES.values()
        ],
        ignore_conflicts=True,
    )


def add_member(*, workspace: Workspace, user: AbstractBaseUser, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        workspace=workspace, user=user, defaults={"role": role}
    )
    return membership


def activity_type_for(workspace: Workspace, key: str, *, name: str = "") -> ActivityType:
    """The workspace's type with this key, created on first use (from an integration)."""
    key = key.strip()
    if not key:
        raise ValidationError({"type": "An activity type is required."})
    if len(key) > ActivityType._meta.get_field("key").max_length:
        raise ValidationError({"type": "The activity type key is too long."})
    with contextlib.suppress(ActivityType.DoesNotExist):  # the key is unique in a workspace
        return ActivityType.objects.get(workspace=workspace, key=key)
    builtin = types.BUILTIN_TYPES.get(key)
    defaults = (
        {"name": builtin.name, "icon": builtin.icon, "color": builtin.color, "builtin": True}
        if builtin
        else {"name": (name or types.display_name_for_key(key))[:100]}
    )
    activity_type, _ = ActivityType.objects.get_or_create(
        workspace=workspace, key=key, defaults=defaults
    )
    return activity_type


# Writing entries


def _same_workspace(workspace: Workspace, *records) -> None:
    for record in records:
        if record is not None and record.workspace_id != workspace.pk:
            raise ValidationError(f"{record._meta.verbose_name} is not in this workspace.")


def _write_entry(
    *,
    workspace: Workspace,
    type_key: str,
    contacts: Sequence[Contact],
    actor: Actor,
    source: str,
    occurred_at: datetime | None = None,
    body: str = "",
    type_name: str = "",
    **fields,
) -> Activity:
    activity = Activity(
        workspace=workspace,
        type=activity_type_for(workspace, type_key, name=type_name),
        source=source,
        occurred_at=occurred_at or timezone.now(),
        body=body,
        body_html=render_text(body),
        **actor.fields(),
        **fields,
    )
    # Field checks only (lengths, choices): relations were checked by the caller and
    # uniqueness is left to the database's constraints.
    activity.full_clean(exclude=RELATIONS, validate_unique=False, validate_constraints=False)
    if activity.ended_at and activity.ended_at < activity.occurred_at:
        raise ValidationError({"ended_at": "The end must not be before the start."})
    activity.save(force_insert=True)
    _link_contacts(activity, contacts)
    return activity


RELATIONS = [f.name for f in Activity._meta.fields if f.is_relation]
THREAD_LINKS = ("reply_to", "react_to", "invite_to")
# Records a caller may pass to log_activity, each of which must be in the same workspace.
WORKSPACE_RECORDS = (*THREAD_LINKS, "segment", "note")


def _link_contacts(activity: Activity, contacts: Iterable[Contact]) -> None:
    contact_ids = list(dict.fromkeys(contact.pk for contact in contacts))
    ActivityContact.objects.bulk_create(
        [
            ActivityContact(
                activity=activity,
                contact_id=contact_id,
                occurred_at=activity.occurred_at,
                type_id=activity.type_id,
            )
            for contact_id in contact_ids
        ]
    )
    if activity.occurred_at <= timezone.now():
        Contact.objects.filter(pk__in=contact_ids).filter(
            Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=activity.occurred_at)
        ).update(last_activity_at=activity.occurred_at)


def _recount_last_activity(contact_ids: Iterable) -> None:
    """Set each contact's last activity to its latest past entry, from scratch."""
    latest = (
        ActivityContact.objects.filter(contact=OuterRef("pk"), occurred_at__lte=timezone.now())
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    Contact.objects.filter(pk__in=list(contact_ids)).update(last_activity_at=Subquery(latest))


def log_activity(
    *,
    workspace: Workspace,
    type_key: str,
    contacts: Sequence[Contact] = (),
    actor: Actor = SYSTEM,
    source: str = Activity.Source.UI,
    occurred_at: datetime | None = None,
    title: str = "",
    body: str = "",
    external_id: str | None = None,
    type_name: str = "",
    targets: Sequence[TargetSpec] = (),
    attachments: Sequence[AttachmentSpec] = (),
    **fields,
) -> tuple[Activity, bool]:
    """Record something that happened. Returns the activity and whether it is new.

    An `external_id` the workspace already has returns the stored activity and writes
    nothing, also when two requests with it arrive at once (the database's unique
    constraint decides; the loser reads the winner's row back).
    """
    _same_workspace(workspace, *contacts, *(fields.get(name) for name in WORKSPACE_RECORDS))
    # One transaction, or a savepoint in the caller's: either way a failed write leaves
    # the connection usable for reading the winner's row back.
    try:
        with transaction.atomic():
            activity = _write_entry(
                workspace=workspace,
                type_key=type_key,
                type_name=type_name,
                contacts=contacts,
                actor=actor,
                source=source,
                occurred_at=occurred_at,
                title=title,
                body=body,
                external_id=external_id or None,
                restricted=_is_restricted(targets),
                **fields,
            )
            _add_targets(activity, targets)
            _add_attachments(activity, attachments)
    except IntegrityError:
        existing = (
            external_id
            and Activity.objects.filter(workspace=workspace, external_id=external_id).first()
        )
        if not existing:
            raise
        return existing, False
    return activity, True


def _is_restricted(targets: Sequence[TargetSpec]) -> bool:
    kinds = {target.kind for target in targets}
    return Target.Kind.IDENTITY in kinds and kinds == {Target.Kind.IDENTITY}


def _add_targets(activity: Activity, targets: Sequence[TargetSpec]) -> None:
    Target.objects.bulk_create(
        [
            Target(activity=activity, kind=t.kind, target_id=t.target_id, notify=t.notify)
            for t in targets
        ]
    )
    notified = _users_to_notify(activity.workspace_id, [t for t in targets if t.notify])
    Notification.objects.bulk_create(
        [
            Notification(workspace_id=activity.workspace_id, user_id=user_id, activity=activity)
            for user_id in notified
        ]
    )


def _users_to_notify(workspace_id, targets: Sequence[TargetSpec]) -> set[int]:
    if not targets:
        return set()
    members = Membership.objects.filter(workspace_id=workspace_id)
    if any(t.kind != Target.Kind.IDENTITY for t in targets):
        return set(members.values_list("user_id", flat=True))
    ids = {t.target_id for t in targets}
    user_ids = [int(i) for i in ids if i.isascii() and i.isdigit() and len(i) <= 18]
    wanted = Q(user__username__in=ids) | Q(user_id__in=user_ids)
    if ids & set(ADMIN_GROUP_IDENTITIES):
        wanted |= Q(role=Membership.Role.ADMIN)
    return set(members.filter(wanted).values_list("user_id", flat=True))


def _add_attachments(activity: Activity, attachments: Sequence[AttachmentSpec]) -> None:
    Attachment.objects.bulk_create(
        [
            Attachment(
                activity=activity, kind=a.kind, external_id=a.external_id, url=a.url, name=a.name
            )
            for a in attachments
        ]
    )


def save_activity_changes(activity: Activity) -> None:
    """Save an edited activity, keeping its rendered body and timeline links in step."""
    with transaction.atomic():
        activity.body_html = render_text(activity.body)
        activity.updated_at = timezone.now()
        activity.save()
        activity.links.update(occurred_at=activity.occurred_at, type=activity.type_id)
        _recount_last_activity(activity.links.values_list("contact_id", flat=True))


# Notes


def add_note(
    *, contact: Contact, content: str, actor: Actor, source: str = Activity.Source.UI
) -> Note:
    content = _note_text(content)
    with transaction.atomic():
        note = Note.objects.create(
            workspace_id=contact.workspace_id, contact=contact, author=actor.user, content=content
        )
        _write_entry(
            workspace=contact.workspace,
            type_key=types.NOTE_CREATED,
            contacts=[contact],
            actor=actor,
            source=source,
            occurred_at=note.created_at,
            note=note,
            body=content,
        )
    return note


def edit_note(
    *, note: Note, content: str, actor: Actor, source: str = Activity.Source.UI
) -> Activity | None:
    content = _note_text(content)
    if content == note.content:
        return None
    with transaction.atomic():
        note.content = content
        note.updated_at = timezone.now()
        note.save(update_fields=["content", "updated_at"])
        # The note's own entry shows the note as it is now.
        note.activities.filter(type__key=types.NOTE_CREATED).update(
            body=content, body_html=render_text(content), updated_at=note.updated_at
        )
        return _write_entry(
            workspace=note.workspace,
            type_key=types.NOTE_UPDATED,
            contacts=[note.contact],
            actor=actor,
            source=source,
            note=note,
            title="Edited a note",
        )


def delete_note(*, note: Note, actor: Actor, source: str = Activity.Source.UI) -> Activity:
    """Delete a note. Its text leaves the timeline; the entries remain as history."""
    with transaction.atomic():
        note.activities.update(body="", body_html="", updated_at=timezone.now())
        entry = _write_entry(
            workspace=note.workspace,
            type_key=types.NOTE_DELETED,
            contacts=[note.contact],
            actor=actor,
            source=source,
            title="Deleted a note",
        )
        note.delete()
    return entry


def _note_text(content: str) -> str:
    content = (content or "").strip()
    if not content:
        raise ValidationError({"content": "A note needs some text."})
    if len(content) > Note._meta.get_field("content").max_length:
        raise ValidationError({"content": "A note can hold at most 20,000 characters."})
    return content


# Segments


def add_to_segment(
    *, contact: Contact, segment: Segment, actor: Actor, source: str = Activity.Source.UI
) -> Activity | None:
    _same_workspace(contact.workspace, segment)
    with transaction.atomic():
        _, created = SegmentMembership.objects.get_or_create(contact=contact, segment=segment)
        if not created:
            return None
        return _write_entry(
            workspace=contact.workspace,
            type_key=types.SEGMENT_ADDED,
            contacts=[contact],
            actor=actor,
            source=source,
            segment=segment,
            title=f"Added to {segment.name}",
        )


def remove_from_segment(
    *, contact: Contact, segment: Segment, actor: Actor, source: str = Activity.Source.UI
) -> Activity | None:
    _same_workspace(contact.workspace, segment)
    with transaction.atomic():
        removed, _ = SegmentMembership.objects.filter(contact=contact, segment=segment).delete()
        if not removed:
            return None
        return _write_entry(
            workspace=contact.workspace,
            type_key=types.SEGMENT_REMOVED,
            contacts=[contact],
            actor=actor,
            source=source,
            segment=segment,
            title=f"Removed from {segment.name}",
        )


# Contact status


def block_contact(
    *, contact: Contact, actor: Actor, source: str = Activity.Source.UI
) -> Activity | None:
    return _set_flag(contact, "blocked", True, types.CONTACT_BLOCKED, "Blocked", actor, source)


def unblock_contact(
    *, contact: Contact, actor: Actor, source: str = Activity.Source.UI
) -> Activity | None:
    return _set_flag(contact, "blocked", False, types.CONTACT_UNBLOCKED, "Unblocked", actor, source)


def unsubscribe_contact(
    *, contact: Contact, actor: Actor, source: str = Activity.Source.UI
) -> Activity | None:
    return _set_flag(
        contact, "unsubscribed", True, types.CONTACT_UNSUBSCRIBED, "Unsubscribed", actor, source
    )


def resubscribe_contact(
    *, contact: Contact, actor: Actor, source: str = Activity.Source.UI
) -> Activity | None:
    return _set_flag(
        contact, "unsubscribed", False, types.CONTACT_RESUBSCRIBED, "Resubscribed", actor, source
    )


def _set_flag(
    contact: Contact, flag: str, value: bool, type_key: str, title: str, actor: Actor, source: str
) -> Activity | None:
    now = timezone.now()
    changed_at = f"{flag}_changed_at"
    with transaction.atomic():
        # A conditional UPDATE decides atomically whether anything changes, so two
        # concurrent blocks of one contact write one entry.
        changed = (
            Contact.objects.filter(pk=contact.pk)
            .exclude(**{flag: value})
            .update(**{flag: value, changed_at: now, "updated_at": now})
        )
        setattr(contact, flag, value)
        if not changed:
            return None
        setattr(contact, changed_at, now)
        return _write_entry(
            workspace=contact.workspace,
            type_key=type_key,
            contacts=[contact],
            actor=actor,
            source=source,
            occurred_at=now,
            title=title,
        )


# Pins and tasks: they change how an entry shows, not what happened, so they write no entry.


def pin_entry(*, contact: Contact, activity: Activity) -> bool:
    """Pin the activity to the top of the contact's timeline, unpinning the one there.

    Returns whether anything changed.
    """
    with transaction.atomic():
        # Locking the contact queues concurrent pins, so the one-pin constraint never trips.
        Contact.objects.select_for_update().only("pk").get(pk=contact.pk)
        link = _timeline_link(contact, activity)
        if link.pinned:
            return False
        ActivityContact.objects.filter(contact=contact, pinned=True).update(pinned=False)
        link.pinned = True
        link.save(update_fields=["pinned"])
    return True


def unpin_entry(*, contact: Contact, activity: Activity) -> bool:
    """Returns whether the activity was pinned."""
    return bool(
        ActivityContact.objects.filter(contact=contact, activity=activity, pinned=True).update(
            pinned=False
        )
    )


def _timeline_link(contact: Contact, activity: Activity) -> ActivityContact:
    link = ActivityContact.objects.filter(contact=contact, activity=activity).first()
    if link is None:
        raise ValidationError("That entry is not on this contact's timeline.")
    return link


def complete_task(*, activity: Activity) -> bool:
    """Mark a task done. Returns False when it already was."""
    if activity.type.key != types.TASK:
        raise ValidationError("Only a task can be marked done.")
    now = timezone.now()
    done = Activity.objects.filter(pk=activity.pk, done_at__isnull=True).update(
        done_at=now, updated_at=now
    )
    if done:
        activity.done_at = activity.updated_at = now
    return bool(done)


# Imports


def import_activity_batch(
    *,
    workspace: Workspace,
    rows: Sequence[tuple[dict, list[uuid.UUID]]],
    latest: dict[uuid.UUID, datetime],
) -> int:
    """Write one batch of imported activities in one transaction; returns how many are new.

    Each row is the Activity's values by attname, checked by the importer (`activities.
    importing`): its `id`, `type_id`, `occurred_at`, `body_html` rendered, and so on; and
    the ids of the workspace's contacts it goes on. A row whose `external_id` the
    workspace has already, or that an earlier row of the batch has, is skipped.

    The rows go in through `bulk.RowInserter` (one `executemany` per table, COPY on
    PostgreSQL), not `bulk_create`, whose model instance of ~45 fields for every row
    costs several times the database's own work.

    Contacts' `last_activity_at` is left to `advance_last_activity`: once the batch is
    written, `latest` (contact id → time) moves up to each contact's latest new entry at
    or before now. An import keeps it across batches and writes it now and then, since
    a file in time order would otherwise move the same contacts again in every batch.
    """
    now = timezone.now()
    converters = bulk.converters_by_kind()
    activities = bulk.RowInserter(
        Activity,
        converters,
        fixed={"workspace_id": workspace.pk, "created_at": now, "updated_at": now},
    )
    links = bulk.RowInserter(ActivityContact, converters)
    contact_position = links.columns["contact_id"][0]
    with transaction.atomic():
        wanted = list({values["external_id"] for values, _ in rows if values.get("external_id")})
        present = set()
        for some in bulk.lists_for_any_of(wanted):
            present.update(
                Activity.objects.filter(workspace=workspace, external_id__any_of=some)
                .order_by()  # unordered, it reads the unique index alone
                .values_list("external_id", flat=True)
            )
        activity_rows, link_rows, batch_latest = [], [], {}
        for values, contact_ids in rows:
            external_id = values.get("external_id")
            if external_id:
                if external_id in present:
                    continue
                present.add(external_id)
            activity_rows.append(activities.values(values))
            occurred_at = values["occurred_at"]
            link = {
                "activity_id": values["id"],
                "occurred_at": occurred_at,
                "type_id": values["type_id"],
            }
            for contact_id in dict.fromkeys(contact_ids):
                link_rows.append(links.values(link | {"contact_id": contact_id}))
                if occurred_at <= now and (
                    contact_id not in batch_latest or batch_latest[contact_id] < occurred_at
                ):
                    batch_latest[contact_id] = occurred_at
        # In contact order, the inserts into the contact-first indexes go page after page.
        link_rows.sort(key=lambda row: row[contact_position])
        activities.insert(activity_rows)
        links.insert(link_rows)
    for contact_id, at in batch_latest.items():
        if contact_id not in latest or latest[contact_id] < at:
            latest[contact_id] = at
    return len(activity_rows)


def advance_last_activity(latest: dict[uuid.UUID, datetime]) -> None:
    """Move each contact's `last_activity_at` up to its time in `latest`, where that is
    later, in one statement on PostgreSQL (a server answers statements in turn), a short
    one per contact on SQLite (in process, that costs least)."""
    if not latest:
        return
    connection = transaction.get_connection()
    contacts = connection.ops.quote_name(Contact._meta.db_table)
    contact_pk = f"{contacts}.{connection.ops.quote_name(Contact._meta.pk.column)}"
    last = connection.ops.quote_name(Contact._meta.get_field("last_activity_at").column)
    # In id order, so that two imports moving the same contacts lock them in one order.
    contact_ids = sorted(latest)
    times = [latest[contact_id] for contact_id in contact_ids]
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {contacts} SET {last} = new.at "
                "FROM unnest(%s::uuid[], %s::timestamptz[]) AS new (id, at) "
                f"WHERE {contact_pk} = new.id "
                f"AND ({contacts}.{last} IS NULL OR {contacts}.{last} < new.at)",
                [contact_ids, times],
            )
        else:
            uuid_value = (
                None if connection.features.has_native_uuid_field else lambda value: value.hex
            )
            at_value = connection.ops.adapt_datetimefield_value
            cursor.executemany(
                f"UPDATE {contacts} SET {last} = %s "
                f"WHERE {contact_pk} = %s AND ({last} IS NULL OR {last} < %s)",
                [
                    (at_value(at), uuid_value(cid) if uuid_value else cid, at_value(at))
                    for cid, at in zip(contact_ids, times, strict=True)
                ],
            )
