"""What happened: activity types, activities and what hangs off them."""

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from contacts.models import (
    Color,
    Contact,
    Membership,
    Note,
    Segment,
    Workspace,
    WorkspaceQuerySet,
    color_constraint,
)


class ActivityType(models.Model):
    """A kind of timeline entry. Keys are unique per workspace (`call`, `api:message`, …)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="activity_types"
    )
    key = models.CharField(max_length=100)
    name = models.CharField(max_length=100)
    icon = models.CharField(max_length=30, default="bolt")
    color = models.CharField(max_length=10, choices=Color.choices, default=Color.GRAY)
    builtin = models.BooleanField(default=False, editable=False)
    loggable = models.BooleanField(
        default=False, help_text="Offered in the Log activity form (staff log it by hand)."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "key"], name="activity_type_unique_key"),
            models.CheckConstraint(condition=~Q(key=""), name="activity_type_key_not_empty"),
            color_constraint("activity_type_color_in_palette"),
        ]

    def __str__(self) -> str:
        return self.name


class ActivityQuerySet(WorkspaceQuerySet):
    def visible_to(self, membership: Membership) -> "ActivityQuerySet":
        """The member's workspace's entries that they may see."""
        return self.filter(visibility_q(membership), workspace_id=membership.workspace_id)


def visibility_q(membership: Membership, prefix: str = "") -> Q:
    """Entries with no audience restriction, and those targeted at this member.

    `prefix` is the path to the activity from the rows filtered (`activity__` for links).
    """
    identities = [str(membership.user_id), membership.user.get_username()]
    if membership.is_admin:
        identities += ADMIN_GROUP_IDENTITIES
    targeted = Target.objects.filter(kind=Target.Kind.IDENTITY, target_id__in=identities).values(
        "activity_id"
    )
    return Q(**{f"{prefix}restricted": False}) | Q(**{f"{prefix}pk__in": targeted})


# Foreign keys of an activity that are NULL on nearly every row.
OPTIONAL_REFERENCES = ("actor_user", "reply_to", "react_to", "invite_to", "segment", "note")


class Activity(models.Model):
    """One entry of a timeline, shown on the timeline of each contact it concerns."""

    class Source(models.TextChoices):
        UI = "ui", "UI"
        API = "api", "API"
        SYSTEM = "system", "System"
        IMPORT = "import", "Import"

    class ActorKind(models.TextChoices):
        USER = "user"
        ASSISTANT = "assistant"
        INTEGRATION = "integration"
        SYSTEM = "system"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed as the first column of `activity_feed`; a second index would only slow writes.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="activities", db_index=False
    )
    # RESTRICT: a type in use cannot be deleted alone, but goes with its workspace.
    type = models.ForeignKey(ActivityType, on_delete=models.RESTRICT, related_name="activities")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.UI)
    contacts = models.ManyToManyField(
        Contact, through="ActivityContact", related_name="activities", blank=True
    )

    occurred_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    title = models.CharField(max_length=500, blank=True)
    body = models.TextField(blank=True, max_length=50_000)
    # `body` rendered once when written (escaped, links and line breaks), so pages never
    # re-render user text on every view.
    body_html = models.TextField(blank=True, editable=False)

    actor_kind = models.CharField(max_length=12, choices=ActorKind.choices, default="system")
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, db_index=False
    )
    actor_name = models.CharField(max_length=200, blank=True)
    actor_external_id = models.CharField(max_length=200, blank=True)
    actor_email = models.CharField(max_length=254, blank=True)
    actor_avatar_url = models.CharField(max_length=500, blank=True)

    sub_type = models.CharField(max_length=100, blank=True)
    category = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=50, blank=True)
    priority = models.CharField(max_length=50, blank=True)
    # NULL rather than "" when absent, so the per-workspace unique constraint skips it.
    external_id = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001

    reply_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replies",
        db_index=False,
    )
    react_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reactions",
        db_index=False,
    )
    invite_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations",
        db_index=False,
    )

    # References to records that live in other systems, kept as their ids there.
    account_id = models.CharField(max_length=100, blank=True)
    opportunity_id = models.CharField(max_length=100, blank=True)
    sequence_id = models.CharField(max_length=100, blank=True)
    pipeline_stage_id = models.CharField(max_length=100, blank=True)
    campaign_id = models.CharField(max_length=100, blank=True)
    asset_type = models.CharField(max_length=100, blank=True)
    asset_name = models.CharField(max_length=200, blank=True)
    channel_id = models.CharField(max_length=100, blank=True)
    event_id = models.CharField(max_length=100, blank=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=200, blank=True)
    object_name = models.CharField(max_length=200, blank=True)

    segment = models.ForeignKey(
        Segment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
        db_index=False,
    )
    note = models.ForeignKey(
        Note,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
        db_index=False,
    )

    metadata = models.JSONField(default=dict, blank=True)
    # The request body an integration sent, so its mirror can answer in the sender's own terms.
    payload = models.JSONField(default=dict, blank=True, editable=False)
    done_at = models.DateTimeField(null=True, blank=True)
    # True when Identity targets limit who may see the entry (kept by the services).
    restricted = models.BooleanField(default=False, editable=False)

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "activities"
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "external_id"],
                condition=Q(external_id__isnull=False),
                name="activity_unique_external_id",
            ),
            models.CheckConstraint(
                condition=Q(source__in=["ui", "api", "system", "import"]),
                name="activity_source_valid",
            ),
            models.CheckConstraint(
                condition=Q(actor_kind__in=["user", "assistant", "integration", "system"]),
                name="activity_actor_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("occurred_at")),
                name="activity_ends_after_it_starts",
            ),
            models.CheckConstraint(
                condition=~Q(reply_to=models.F("id"))
                & ~Q(react_to=models.F("id"))
                & ~Q(invite_to=models.F("id")),
                name="activity_not_its_own_parent",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "-occurred_at", "-id"], name="activity_feed"),
            models.Index(
                fields=["workspace", "type", "-occurred_at", "-id"], name="activity_feed_type"
            ),
            *(
                # Nearly every entry leaves these empty: a partial index costs a write
                # only for the entries that set them, and still serves their lookups.
                models.Index(
                    fields=[field],
                    condition=Q(**{f"{field}__isnull": False}),
                    name=f"activity_{field}_set",
                )
                for field in OPTIONAL_REFERENCES
            ),
        ]

    def __str__(self) -> str:
        return self.title or str(self.type)

    @property
    def actor_display(self) -> str:
        user = self.actor_user if self.actor_user_id else None
        user_name = user and (user.get_full_name() or user.get_username())
        return actor_label(self.actor_name, user_name, self.actor_kind)

    @property
    def meeting(self) -> dict | None:
        return meeting_of(self.metadata)

    @property
    def is_task(self) -> bool:
        return self.type.key == "task"

    @property
    def is_overdue(self) -> bool:
        return self.is_task and self.done_at is None and self.occurred_at < timezone.now()


def person_name(first_name: str, last_name: str, username: str) -> str:
    """A user's full name or, without one, their username (as `User.get_full_name`), from
    their columns read with `values_list`."""
    return f"{first_name} {last_name}".strip() or username


def actor_label(actor_name: str, user_name: str | None, actor_kind: str) -> str:
    """Who an entry shows as its actor: the name it was given, its user's, or "System"."""
    if actor_name:
        return actor_name
    if user_name:
        return user_name
    return "System" if actor_kind == Activity.ActorKind.SYSTEM else ""


def meeting_of(metadata: dict) -> dict | None:
    """A meeting's details (Reevo's meeting metadata) with its times parsed, or None."""
    if metadata.get("kind") != "meeting":
        return None
    return metadata | {
        "start": _parse_time(metadata.get("start_date")),
        "end": _parse_time(metadata.get("end_date")),
    }


def _parse_time(value) -> datetime | None:
    try:
        return parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        return None


class ActivityContact(models.Model):
    """An activity on one contact's timeline.

    `occurred_at` and `type` repeat the activity's so that a contact's timeline (and one
    filtered by type) is a single index range scan, however many entries the contact has.
    """

    # Each foreign key leads one of the indexes below, so none needs an index of its own.
    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="links", db_index=False
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="activity_links", db_index=False
    )
    occurred_at = models.DateTimeField()
    # No foreign key in the database: the activity's own type has one, and this copy of
    # it would cost a check per link at every commit (one in five of an import's checks).
    type = models.ForeignKey(
        ActivityType,
        on_delete=models.RESTRICT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    pinned = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["activity", "contact"], name="activity_contact_unique"),
            models.UniqueConstraint(
                fields=["contact"], condition=Q(pinned=True), name="one_pinned_entry_per_contact"
            ),
        ]
        indexes = [
            models.Index(fields=["contact", "-occurred_at", "-activity"], name="timeline_contact"),
            models.Index(
                fields=["contact", "type", "-occurred_at", "-activity"],
                name="timeline_contact_type",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.activity} on {self.contact}"


class TimelineWeek(models.Model):
    """How many entries a contact's timeline has in one week, for the page's weekly chart.

    Database triggers on ActivityContact keep the counts (migration 0003), so every writer
    — the services, the importer, `seed_demo`'s bulk inserts, cascading deletes — keeps
    them right, and the chart reads 52 rows however busy the contact is. Weeks start on
    Monday 00:00 UTC.
    """

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="timeline_weeks", db_index=False
    )
    week = models.DateField(help_text="The week's Monday (UTC).")
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "week"], name="timeline_week_unique")
        ]

    def __str__(self) -> str:
        return f"{self.contact} in the week of {self.week}: {self.count}"


class Attachment(models.Model):
    class Kind(models.TextChoices):
        FILE = "file"
        LINK = "link"
        VIDEO = "video"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(max_length=5, choices=Kind.choices, default=Kind.FILE)
    external_id = models.CharField(
        max_length=500, blank=True, help_text="The attachment's id in the sending system."
    )
    name = models.CharField(max_length=255, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    file = models.FileField(upload_to="attachments/%Y/%m/", blank=True, max_length=255)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["file", "link", "video"]), name="attachment_kind_valid"
            )
        ]

    def __str__(self) -> str:
        return self.name or self.url or self.external_id


class Target(models.Model):
    """Who may see an activity. An activity without targets is visible to every member."""

    class Kind(models.TextChoices):
        IDENTITY = "Identity"
        EVERYONE = "Everyone"
        MEMBERS = "Members"
        PUBLIC = "Public"

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="targets")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.IDENTITY)
    target_id = models.CharField(
        max_length=200, blank=True, help_text="A user's id or username, or a group's name."
    )
    notify = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["Identity", "Everyone", "Members", "Public"]),
                name="target_kind_valid",
            ),
            models.CheckConstraint(
                condition=~Q(kind="Identity") | ~Q(target_id=""),
                name="identity_target_has_id",
            ),
        ]
        indexes = [models.Index(fields=["kind", "target_id"], name="target_identity")]

    def __str__(self) -> str:
        return f"{self.kind} {self.target_id}".strip()


# Identity target ids that stand for the workspace's admins.
ADMIN_GROUP_IDENTITIES = ["administrators", "admins"]


class NotificationQuerySet(models.QuerySet):
    def unread(self) -> "NotificationQuerySet":
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="notifications")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="notifications")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "activity"], name="notification_unique")
        ]
        indexes = [models.Index(fields=["user", "workspace", "read_at"], name="notification_inbox")]

    def __str__(self) -> str:
        return f"{self.activity} for {self.user}"
