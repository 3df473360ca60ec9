"""Admin for activities, and for the people-side records whose saves go through the services.

Workspaces (which need their built-in types), contacts, notes and segment memberships
are registered here rather than in `contacts/admin.py`: every change they make that
belongs on a timeline (a note, a segment joined or left, a block, an unsubscribe) is
made by `activities.services`, so it writes its entry like the pages and the API do,
and `contacts` never imports `activities`. Entries made here are recorded as done by
the signed-in user, with source "ui".
"""

from functools import cached_property

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html

from activities import services
from activities.models import (
    Activity,
    ActivityContact,
    ActivityType,
    Attachment,
    Notification,
    Target,
)
from activities.services import Actor
from contacts.admin import (
    HTTPS_URLS,
    FixedAfterAddMixin,
    MembershipInline,
    WorkspaceRecordForm,
    become,
)
from contacts.models import Contact, Note, Segment, SegmentMembership, Workspace

RECENT_ACTIVITIES = 20


def by_user(request) -> dict:
    """The service arguments for a change a person made in the admin."""
    return {"actor": Actor.of(request.user), "source": Activity.Source.UI}


def segment_label(segment: Segment) -> str:
    return f"{segment.workspace} / {segment.name}"


class ReadOnlyInlineMixin:
    """An inline that shows rows without letting the admin add, change or delete them."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# Workspaces


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at"]
    inlines = [MembershipInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            services.install_builtin_types(obj)


# Contacts


class ContactForm(WorkspaceRecordForm):
    """The contact's fields, plus its status and segments, which only the services write.

    The page carries the status and segments it showed (`show_hidden_initial`), so a save
    applies only what the user changed, never undoing a block or a segment that the API
    made meanwhile.
    """

    blocked = forms.BooleanField(required=False, show_hidden_initial=True)
    unsubscribed = forms.BooleanField(required=False, show_hidden_initial=True)
    # Not the model's `segments`, which Django would write directly: save_related applies
    # the difference through the services.
    in_segments = forms.ModelMultipleChoiceField(
        Segment.objects.select_related("workspace"),
        required=False,
        label="Segments",
        widget=FilteredSelectMultiple("segments", is_stacked=False),
        show_hidden_initial=True,
    )
    same_workspace_fields = ("in_segments",)

    class Meta:
        # The model's flags are not editable (only the services set them); the form's
        # fields of the same names are declared above. The admin supplies the model.
        exclude = ["blocked", "unsubscribed"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["in_segments"]
        field.label_from_instance = segment_label
        contact = self.instance
        if not contact._state.adding:
            field.queryset = field.queryset.filter(workspace_id=contact.workspace_id)
            self.initial.update(
                blocked=contact.blocked,
                unsubscribed=contact.unsubscribed,
                in_segments=list(contact.segments.all()),
            )

    def clean(self):
        cleaned_data = super().clean()
        field = self.fields["in_segments"]
        try:
            shown = field.to_python(self.data.getlist(self["in_segments"].html_initial_name))
        except ValidationError:
            self.add_error("in_segments", "A segment was deleted meanwhile: reload the page.")
        else:
            self.segments_shown = set(shown)
        return cleaned_data


class ContactActionForm(ActionForm):
    segment = forms.ModelChoiceField(
        Segment.objects.select_related("workspace"),
        required=False,
        help_text="For “Add to segment” and “Remove from segment”.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].label_from_instance = segment_label


class NoteInline(admin.TabularInline):
    model = Note
    fields = ["content", "author", "created_at"]
    readonly_fields = ["author", "created_at"]
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2})}}
    extra = 1


class RecentActivitiesFormSet(BaseInlineFormSet):
    @cached_property
    def _recent(self):
        return super().get_queryset()[:RECENT_ACTIVITIES]

    def get_queryset(self):
        return self._recent


class RecentActivityInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = ActivityContact
    formset = RecentActivitiesFormSet
    verbose_name_plural = f"recent activities (the last {RECENT_ACTIVITIES})"
    fields = readonly_fields = ["occurred_at", "entry", "type", "actor", "pinned"]
    ordering = ["-occurred_at", "-activity"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("activity__actor_user", "type")

    @admin.display(description="entry")
    def entry(self, link: ActivityContact) -> str:
        url = reverse("admin:activities_activity_change", args=[link.activity_id])
        return format_html('<a href="{}">{}</a>', url, link.activity.title or link.type.name)

    @admin.display(description="actor")
    def actor(self, link: ActivityContact) -> str:
        return link.activity.actor_display


FLAG_SERVICES = {
    ("blocked", True): services.block_contact,
    ("blocked", False): services.unblock_contact,
    ("unsubscribed", True): services.unsubscribe_contact,
    ("unsubscribed", False): services.resubscribe_contact,
}


@admin.register(Contact)
class ContactAdmin(FixedAfterAddMixin, admin.ModelAdmin):
    form = ContactForm
    action_form = ContactActionForm
    formfield_overrides = HTTPS_URLS
    list_display = [
        "name",
        "email",
        "company",
        "workspace",
        "owner",
        "blocked",
        "unsubscribed",
        "last_activity_at",
    ]
    list_filter = ["blocked", "unsubscribed", "workspace"]
    list_select_related = ["workspace", "owner"]
    search_fields = ["name", "email", "company", "external_id"]
    autocomplete_fields = ["workspace", "owner"]
    readonly_fields = [
        "blocked_changed_at",
        "unsubscribed_changed_at",
        "last_activity_at",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "workspace",
                    "name",
                    "email",
                    "phone",
                    "company",
                    "avatar_url",
                    "owner",
                    "external_id",
                    "custom_fields",
                ]
            },
        ),
        (
            "Status",
            {
                "fields": [
                    ("blocked", "blocked_changed_at"),
                    ("unsubscribed", "unsubscribed_changed_at"),
                ]
            },
        ),
        ("Segments", {"fields": ["in_segments"]}),
        ("Times", {"fields": ["last_activity_at", "created_at", "updated_at"]}),
    ]
    inlines = [NoteInline, RecentActivityInline]
    actions = [
        "block",
        "unblock",
        "unsubscribe",
        "resubscribe",
        "add_to_segment",
        "remove_from_segment",
    ]

    def save_model(self, request, obj, form, change):
        # Only the form's own columns: the flags and last_activity_at are the services'.
        columns = [f.name for f in obj._meta.concrete_fields if f.name in form.fields]
        obj.save(update_fields=[*columns, "updated_at"] if change else None)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        contact, by = form.instance, by_user(request)
        for flag in ("blocked", "unsubscribed"):
            if flag in form.changed_data:
                FLAG_SERVICES[flag, form.cleaned_data[flag]](contact=contact, **by)
        chosen, shown = set(form.cleaned_data["in_segments"]), form.segments_shown
        for segment in chosen - shown:
            services.add_to_segment(contact=contact, segment=segment, **by)
        for segment in shown - chosen:
            services.remove_from_segment(contact=contact, segment=segment, **by)

    def save_formset(self, request, form, formset, change):
        if formset.model is Note:
            save_notes(request, formset)
        else:
            super().save_formset(request, form, formset, change)

    @admin.action(description="Block the selected contacts", permissions=["change"])
    def block(self, request, queryset):
        self._apply(request, queryset, services.block_contact, "Blocked")

    @admin.action(description="Unblock the selected contacts", permissions=["change"])
    def unblock(self, request, queryset):
        self._apply(request, queryset, services.unblock_contact, "Unblocked")

    @admin.action(description="Unsubscribe the selected contacts", permissions=["change"])
    def unsubscribe(self, request, queryset):
        self._apply(request, queryset, services.unsubscribe_contact, "Unsubscribed")

    @admin.action(description="Resubscribe the selected contacts", permissions=["change"])
    def resubscribe(self, request, queryset):
        self._apply(request, queryset, services.resubscribe_contact, "Resubscribed")

    @admin.action(description="Add the selected contacts to the segment", permissions=["change"])
    def add_to_segment(self, request, queryset):
        self._apply_segment(request, queryset, services.add_to_segment, "Added to")

    @admin.action(
        description="Remove the selected contacts from the segment", permissions=["change"]
    )
    def remove_from_segment(self, request, queryset):
        self._apply_segment(request, queryset, services.remove_from_segment, "Removed from")

    def _apply(self, request, queryset, service, done: str, **kwargs) -> None:
        by = by_user(request)
        contacts = list(queryset.select_related("workspace"))
        changed = sum(service(contact=c, **kwargs, **by) is not None for c in contacts)
        unchanged = len(contacts) - changed
        self.message_user(request, f"{done}: {changed} contact(s) changed, {unchanged} unchanged.")

    def _apply_segment(self, request, queryset, service, done: str) -> None:
        # Already checked by the admin, which validates the action form before the action.
        segment = self.action_form.base_fields["segment"].clean(request.POST.get("segment"))
        if segment is None:
            self.message_user(request, "Choose a segment first.", messages.ERROR)
            return
        outside = queryset.exclude(workspace_id=segment.workspace_id).count()
        if outside:
            self.message_user(
                request,
                f"Skipped {outside} contact(s) of other workspaces than {segment_label(segment)}.",
                messages.WARNING,
            )
        inside = queryset.filter(workspace_id=segment.workspace_id)
        self._apply(request, inside, service, f"{done} {segment.name}", segment=segment)


def save_notes(request, formset) -> None:
    """Save a notes formset through the services, so each change writes its entry."""
    formset.save(commit=False)
    by = by_user(request)
    for note in formset.deleted_objects:
        services.delete_note(note=note, **by)
    for note, _ in formset.changed_objects:
        services.edit_note(note=stored_note(note), content=note.content, **by)
    for note in formset.new_objects:
        services.add_note(contact=formset.instance, content=note.content, **by)


def stored_note(note: Note) -> Note:
    # edit_note compares the new text with the note's, so it needs the note as stored,
    # not the instance the form has already changed.
    return Note.objects.select_related("workspace", "contact").get(pk=note.pk)


@admin.register(Note)
class NoteAdmin(FixedAfterAddMixin, admin.ModelAdmin):
    list_display = ["__str__", "contact", "workspace", "author", "created_at"]
    list_filter = ["workspace"]
    list_select_related = ["contact", "workspace", "author"]
    search_fields = ["content", "contact__name"]
    autocomplete_fields = ["contact"]
    fields = ["workspace", "contact", "content", "author", "created_at", "updated_at"]
    readonly_fields = ["workspace", "author", "created_at", "updated_at"]
    fixed_after_add = ("contact",)

    def save_model(self, request, obj, form, change):
        if change:
            services.edit_note(note=stored_note(obj), content=obj.content, **by_user(request))
        else:
            note = services.add_note(contact=obj.contact, content=obj.content, **by_user(request))
            become(obj, note)

    def delete_model(self, request, obj):
        services.delete_note(note=obj, **by_user(request))

    def delete_queryset(self, request, queryset):
        for note in queryset.select_related("workspace", "contact"):
            self.delete_model(request, note)


class SegmentMembershipForm(forms.ModelForm):
    def clean(self):
        cleaned_data = super().clean()
        contact, segment = cleaned_data.get("contact"), cleaned_data.get("segment")
        if contact and segment and contact.workspace_id != segment.workspace_id:
            self.add_error("segment", "Choose a segment of the contact's workspace.")
        return cleaned_data


@admin.register(SegmentMembership)
class SegmentMembershipAdmin(admin.ModelAdmin):
    """Who is in which segment. Memberships are added and removed, never changed."""

    form = SegmentMembershipForm
    list_display = ["contact", "segment", "workspace", "added_at"]
    list_filter = ["segment__workspace"]
    list_select_related = ["contact", "segment__workspace"]
    search_fields = ["contact__name", "contact__email", "segment__name"]
    autocomplete_fields = ["contact", "segment"]
    readonly_fields = ["added_at"]

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(ordering="segment__workspace")
    def workspace(self, membership: SegmentMembership) -> Workspace:
        return membership.segment.workspace

    def save_model(self, request, obj, form, change):
        services.add_to_segment(contact=obj.contact, segment=obj.segment, **by_user(request))
        become(obj, SegmentMembership.objects.get(contact=obj.contact, segment=obj.segment))

    def delete_model(self, request, obj):
        services.remove_from_segment(contact=obj.contact, segment=obj.segment, **by_user(request))

    def delete_queryset(self, request, queryset):
        for membership in queryset.select_related("contact__workspace", "segment"):
            self.delete_model(request, membership)


# Activities


@admin.register(ActivityType)
class ActivityTypeAdmin(FixedAfterAddMixin, admin.ModelAdmin):
    form = WorkspaceRecordForm
    list_display = ["name", "key", "workspace", "icon", "color", "builtin", "loggable"]
    list_filter = ["builtin", "loggable", "workspace"]
    list_select_related = ["workspace"]
    search_fields = ["key", "name"]
    autocomplete_fields = ["workspace"]
    readonly_fields = ["builtin", "created_at"]
    # Integrations and the services find a type by its key.
    fixed_after_add = ("workspace", "key")


class ActivityForm(WorkspaceRecordForm):
    same_workspace_fields = ("type", *services.THREAD_LINKS, "segment", "note")

    def clean(self):
        cleaned_data = super().clean()
        for name in services.THREAD_LINKS:
            if cleaned_data.get(name) == self.instance:
                self.add_error(name, "An activity cannot point at itself.")
        return cleaned_data


class ActivityContactInline(ReadOnlyInlineMixin, admin.TabularInline):
    """Read-only: the services keep the links' copies of the time and type in step."""

    model = ActivityContact
    fields = readonly_fields = ["contact", "pinned"]


class AttachmentInline(admin.TabularInline):
    model = Attachment
    formfield_overrides = HTTPS_URLS
    fields = ["kind", "name", "url", "file", "external_id", "content_type", "size"]
    extra = 0


class TargetInline(ReadOnlyInlineMixin, admin.TabularInline):
    """Read-only: the audience decides `restricted` and who was notified when logged."""

    model = Target
    fields = readonly_fields = ["kind", "target_id", "notify"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    """Entries are logged by the pages, the API and the services; here they are read,
    corrected and deleted."""

    form = ActivityForm
    list_display = ["__str__", "type", "workspace", "source", "actor", "occurred_at"]
    list_filter = ["source", "actor_kind", "type__key", "workspace"]
    list_select_related = ["type", "workspace", "actor_user"]
    search_fields = ["title", "external_id", "actor_name"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False
    autocomplete_fields = [
        "type",
        "actor_user",
        *services.THREAD_LINKS,
        "segment",
        "note",
    ]
    readonly_fields = ["workspace", "source", "restricted", "payload", "created_at", "updated_at"]
    inlines = [ActivityContactInline, AttachmentInline, TargetInline]

    def has_add_permission(self, request):
        return False

    @admin.display(description="actor")
    def actor(self, activity: Activity) -> str:
        return activity.actor_display

    def save_model(self, request, obj, form, change):
        services.save_activity_changes(obj)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Made by the services for targeted entries; here an admin can only mark them read."""

    list_display = ["activity", "user", "workspace", "created_at", "read_at"]
    list_filter = [("read_at", admin.EmptyFieldListFilter), "workspace"]
    list_select_related = ["activity__type", "user", "workspace"]
    search_fields = ["user__username", "activity__title"]
    fields = ["workspace", "user", "activity", "created_at", "read_at"]
    readonly_fields = ["workspace", "user", "activity", "created_at"]

    def has_add_permission(self, request):
        return False
