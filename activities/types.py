"""The activity types every workspace has from the start."""

from dataclasses import dataclass

from contacts.models import Color


@dataclass(frozen=True)
class BuiltinType:
    key: str
    name: str
    icon: str
    color: str
    loggable: bool = False


NOTE_CREATED = "note_created"
NOTE_UPDATED = "note_updated"
NOTE_DELETED = "note_deleted"
SEGMENT_ADDED = "segment_added"
SEGMENT_REMOVED = "segment_removed"
CONTACT_BLOCKED = "contact_blocked"
CONTACT_UNBLOCKED = "contact_unblocked"
CONTACT_UNSUBSCRIBED = "contact_unsubscribed"
CONTACT_RESUBSCRIBED = "contact_resubscribed"
CALL = "call"
MEETING = "meeting"
EMAIL = "email"
TASK = "task"
OTHER = "other"

# The seven types of Invent's timeline come first, in its order.
INVENT_TYPES = [
    NOTE_CREATED,
    SEGMENT_ADDED,
    SEGMENT_REMOVED,
    CONTACT_BLOCKED,
    CONTACT_UNBLOCKED,
    CONTACT_UNSUBSCRIBED,
    CONTACT_RESUBSCRIBED,
]

BUILTIN_TYPES = {
    t.key: t
    for t in [
        BuiltinType(NOTE_CREATED, "Note", "note", Color.YELLOW),
        BuiltinType(SEGMENT_ADDED, "Added to segment", "tag", Color.BLUE),
        BuiltinType(SEGMENT_REMOVED, "Removed from segment", "tag-off", Color.GRAY),
        BuiltinType(CONTACT_BLOCKED, "Blocked", "ban", Color.RED),
        BuiltinType(CONTACT_UNBLOCKED, "Unblocked", "check-circle", Color.GREEN),
        BuiltinType(CONTACT_UNSUBSCRIBED, "Unsubscribed", "bell-off", Color.ORANGE),
        BuiltinType(CONTACT_RESUBSCRIBED, "Resubscribed", "bell", Color.GREEN),
        BuiltinType(NOTE_UPDATED, "Note edited", "pencil", Color.YELLOW),
        BuiltinType(NOTE_DELETED, "Note deleted", "trash", Color.GRAY),
        BuiltinType(CALL, "Call", "phone", Color.GREEN, loggable=True),
        BuiltinType(MEETING, "Meeting", "calendar", Color.PURPLE, loggable=True),
        BuiltinType(EMAIL, "Email", "mail", Color.BLUE, loggable=True),
        BuiltinType(TASK, "Task", "check-square", Color.ORANGE, loggable=True),
        BuiltinType(OTHER, "Other", "bolt", Color.GRAY, loggable=True),
    ]
}


def display_name_for_key(key: str) -> str:
    """`external:viewed-a-demo` → `Viewed a demo`, for types first seen from an integration."""
    label = key.rsplit(":", 1)[-1].replace("-", " ").replace("_", " ").strip()
    return (label[:1].upper() + label[1:]) or key
