"""The people: workspaces, their members and API tokens, contacts, segments and notes."""

import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone


class Color(models.TextChoices):
    """The palette every colored thing (segments, activity types) picks from."""

    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    GREEN = "green"
    BLUE = "blue"
    PURPLE = "purple"
    PINK = "pink"
    GRAY = "gray"


def color_constraint(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(color__in=Color.values), name=name)


class WorkspaceQuerySet(models.QuerySet):
    """Every workspace-owned model's manager starts here, so scoping is one call."""

    def in_workspace(self, workspace: "Workspace") -> "WorkspaceQuerySet":
        return self.filter(workspace=workspace)


class Workspace(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="workspaces"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin"
        MEMBER = "member"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique_user"),
            models.CheckConstraint(
                condition=Q(role__in=["admin", "member"]), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored; the token is shown once."""

    PREFIX = "trl_"

    class Scope(models.TextChoices):
        READ = "read"
        WRITE = "write", "read-write"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, editable=False, help_text="Shows which token it is.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    scope = models.CharField(max_length=5, choices=Scope.choices, default=Scope.READ)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scope__in=["read", "write"]), name="token_scope_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… {self.name}".strip()

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @classmethod
    def issue(
        cls, *, workspace: Workspace, scope: str = Scope.READ, name: str = "", created_by=None
    ) -> tuple["ApiToken", str]:
        """Create a token; return it with the raw secret, which is never stored."""
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            workspace=workspace,
            name=name,
            scope=scope,
            created_by=created_by,
            prefix=raw[: len(cls.PREFIX) + 6],
            token_hash=cls.hash(raw),
        )
        return token, raw

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE


class Segment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(max_length=100)
    color = models.CharField(max_length=10, choices=Color.choices, default=Color.BLUE)
    description = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "workspace", Lower("name"), name="segment_unique_name_per_workspace"
            ),
            color_constraint("segment_color_in_palette"),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    company = models.CharField(max_length=200, blank=True)
    avatar_url = models.URLField(blank=True, max_length=500)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_contacts",
    )
    # NULL rather than "" when absent, so the per-workspace unique constraint skips it.
    external_id = models.CharField(  # noqa: DJ001
        max_length=100,
        null=True,
        blank=True,
        help_text="The contact's id in another system (e.g. Eloqua's contactId).",
    )
    blocked = models.BooleanField(default=False, editable=False)
    blocked_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    unsubscribed = models.BooleanField(default=False, editable=False)
    unsubscribed_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    custom_fields = models.JSONField(default=dict, blank=True)
    segments = models.ManyToManyField(
        Segment, through="SegmentMembership", related_name="contacts", blank=True
    )
    # Kept by the services on every new entry, so "sort by last activity" is an index scan.
    last_activity_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "external_id"],
                condition=Q(external_id__isnull=False),
                name="contact_unique_external_id",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="contact_name_not_empty"),
        ]
        indexes = [
            models.Index(fields=["workspace", "name", "id"], name="contact_ws_name"),
            models.Index(fields=["workspace", "email"], name="contact_ws_email"),
            models.Index(
                fields=["workspace", "-last_activity_at", "id"], name="contact_ws_last_activity"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def initials(self) -> str:
        words = [word for word in self.name.split() if word[:1].isalnum()]
        return "".join(word[0] for word in words[:2]).upper() or "?"


class SegmentMembership(models.Model):
    # Each foreign key leads one of the indexes below.
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, db_index=False)
    segment = models.ForeignKey(
        Segment, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    added_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "contact"], name="segment_member_unique")
        ]
        indexes = [models.Index(fields=["contact", "segment"], name="segment_member_contact")]

    def __str__(self) -> str:
        return f"{self.contact} in {self.segment}"


class Note(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="notes")
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="notes", db_index=False
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    content = models.TextField(max_length=20_000)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=~Q(content=""), name="note_not_empty")]
        indexes = [models.Index(fields=["contact", "-created_at"], name="note_contact_recent")]

    def __str__(self) -> str:
        return self.content[:60]

    def can_be_changed_by(self, user, membership: Membership | None) -> bool:
        return may_change_note(self.author_id, user, membership)


def may_change_note(author_id, user, membership: Membership | None) -> bool:
    """Its author or a workspace admin may edit or delete a note (by its author's id, so
    a page can decide without loading the note)."""
    return user.is_superuser or author_id == user.pk or bool(membership and membership.is_admin)
