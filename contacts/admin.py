"""Admin for the records that write no timeline entries: members, API tokens, segments.

The admins of workspaces, contacts, notes and segment memberships live in
`activities/admin.py`, because saving them goes through `activities.services` (installing
the built-in types, writing the entry of each state change) and this app never imports
`activities`. The helpers below are shared by both modules.
"""

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import Count, Model, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from contacts.models import ApiToken, Membership, Segment

# Django 6's default for a URL typed without a scheme, chosen now.
HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}


class WorkspaceRecordForm(forms.ModelForm):
    """A form for a record of one workspace.

    Related records named in `same_workspace_fields` must be of the record's workspace.
    """

    same_workspace_fields: tuple[str, ...] = ()

    def clean(self):
        cleaned_data = super().clean()
        workspace_id = self.workspace_id()
        for name in self.same_workspace_fields:
            if workspace_id and any(
                record.workspace_id != workspace_id for record in _records(cleaned_data.get(name))
            ):
                self.add_error(name, "Choose from the same workspace.")
        return cleaned_data

    def workspace_id(self):
        workspace = self.cleaned_data.get("workspace")
        return workspace.pk if workspace else self.instance.workspace_id

    def _get_validation_exclusions(self):
        exclusions = super()._get_validation_exclusions()
        # Read-only once saved, yet part of every per-workspace unique constraint
        # (segment names, external ids): keep it so those become form errors, not 500s.
        if self.instance.workspace_id:
            exclusions.discard("workspace")
        return exclusions


def _records(value) -> list[Model]:
    if value is None:
        return []
    return list(value) if isinstance(value, QuerySet | list) else [value]


class FixedAfterAddMixin:
    """Fields chosen when a record is added, read-only after: moving a record to another
    workspace would cut it off from everything it belongs with."""

    fixed_after_add: tuple[str, ...] = ("workspace",)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly += [name for name in self.fixed_after_add if name not in readonly]
        return readonly


def become(obj: Model, saved: Model) -> None:
    """Turn the admin's unsaved instance into the row a service created instead, so the
    admin's success message, history entry and redirect point at that row."""
    obj.__dict__.update(saved.__dict__)


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["user"]
    extra = 0


@admin.register(Membership)
class MembershipAdmin(FixedAfterAddMixin, admin.ModelAdmin):
    list_display = ["user", "workspace", "role", "created_at"]
    list_filter = ["role", "workspace"]
    list_select_related = ["user", "workspace"]
    search_fields = ["user__username", "user__email", "workspace__name"]
    autocomplete_fields = ["user", "workspace"]
    readonly_fields = ["created_at"]
    fixed_after_add = ("workspace", "user")


@admin.register(ApiToken)
class ApiTokenAdmin(FixedAfterAddMixin, admin.ModelAdmin):
    list_display = [
        "__str__",
        "workspace",
        "scope",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["scope", ("revoked_at", admin.EmptyFieldListFilter), "workspace"]
    list_select_related = ["workspace", "created_by"]
    search_fields = ["name", "prefix", "workspace__name"]
    autocomplete_fields = ["workspace"]
    fields = [
        "workspace",
        "name",
        "scope",
        "prefix",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        token, raw = ApiToken.issue(
            workspace=obj.workspace, scope=obj.scope, name=obj.name, created_by=request.user
        )
        become(obj, token)
        self.message_user(
            request,
            f"The new token is {raw} — copy it now: only its hash is kept, "
            "so it cannot be shown again.",
            messages.WARNING,
        )

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke(self, request, queryset):
        revoked = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {revoked} token(s).")


@admin.register(Segment)
class SegmentAdmin(FixedAfterAddMixin, admin.ModelAdmin):
    form = WorkspaceRecordForm
    list_display = ["name", "workspace", "color", "contacts_count", "created_at"]
    list_filter = ["color", "workspace"]
    list_select_related = ["workspace"]
    search_fields = ["name"]
    autocomplete_fields = ["workspace"]
    readonly_fields = ["members", "created_at", "updated_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(contacts_count=Count("memberships"))

    @admin.display(description="contacts", ordering="contacts_count")
    def contacts_count(self, segment: Segment) -> int:
        return segment.contacts_count

    @admin.display(description="members")
    def members(self, segment: Segment) -> str:
        url = reverse("admin:contacts_contact_changelist") + f"?segments__id__exact={segment.pk}"
        return format_html('<a href="{}">{} contact(s)</a>', url, segment.contacts_count)
