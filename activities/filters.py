"""The timeline's filters, shared by a contact's timeline, the feed and their exports."""

from datetime import UTC, date, datetime, time, timedelta

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import CharField, F, Q, QuerySet, Value
from django.db.models.functions import Cast
from django.utils import timezone

from activities.models import Activity, ActivityType
from config import compiled
from contacts.models import Contact, Workspace


class TimelineFilter(django_filters.FilterSet):
    """Filters a contact's timeline rows (ActivityContact links).

    `type` and `occurred_at` are on the link itself; the rest are on its activity, which
    `activity_path` reaches. The feed's subclass filters activities directly.
    """

    activity_path = "activity__"

    type = django_filters.ModelMultipleChoiceFilter(
        method="filter_type",
        to_field_name="key",
        queryset=ActivityType.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label="Type",
    )
    source = django_filters.MultipleChoiceFilter(
        method="filter_source",
        choices=Activity.Source.choices,
        widget=forms.CheckboxSelectMultiple,
        label="Source",
    )
    actor = django_filters.ModelChoiceFilter(
        method="filter_actor",
        queryset=get_user_model().objects.none(),
        empty_label="Anyone",
        label="Actor",
    )
    since = django_filters.DateFilter(
        method="filter_since", label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(
        method="filter_until", label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    q = django_filters.CharFilter(
        method="filter_text",
        label="Text",
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Search entries"}),
    )

    def __init__(self, data=None, queryset=None, *, workspace: Workspace, **kwargs):
        super().__init__(data, queryset, **kwargs)
        self.workspace = workspace
        self.filters["type"].queryset = workspace_types(workspace.pk)
        self.filters["actor"].queryset = workspace_members(workspace.pk)

    def choices(self) -> dict[str, list[tuple]]:
        """The form's choices, as its template shows them: the types and members from SQL
        compiled once (`compiled`), as every timeline shows them on every load. Their
        querysets stay the fields' own, for validation."""
        found = compiled.rows("filter-choices", _choices, {"workspace_id": self.workspace.pk})
        return {
            "type": [(value, label) for kind, value, label in found if kind == TYPE_CHOICE],
            "source": self.form.fields["source"].choices,
            "actor": [
                ("", self.form.fields["actor"].empty_label),
                *((value, label) for kind, value, label in found if kind == ACTOR_CHOICE),
            ],
        }

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and self.form.has_changed()

    def filter_type(self, rows: QuerySet, name: str, value) -> QuerySet:
        # Links and activities both carry the type, so this uses either's type index.
        return rows.filter(type__in=value) if value else rows

    def filter_source(self, rows: QuerySet, name: str, value: list[str]) -> QuerySet:
        return rows.filter(**{f"{self.activity_path}source__in": value}) if value else rows

    def filter_actor(self, rows: QuerySet, name: str, value) -> QuerySet:
        return rows.filter(**{f"{self.activity_path}actor_user": value}) if value else rows

    def filter_since(self, rows: QuerySet, name: str, value) -> QuerySet:
        start = _start_of(value)
        return rows.filter(occurred_at__gte=start) if start else rows

    def filter_until(self, rows: QuerySet, name: str, value) -> QuerySet:
        end = _start_of(value + timedelta(days=1)) if value and value < date.max else None
        return rows.filter(occurred_at__lt=end) if end else rows

    def filter_text(self, rows: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return rows
        path = self.activity_path
        return rows.filter(
            Q(**{f"{path}title__icontains": value}) | Q(**{f"{path}body__icontains": value})
        )


def workspace_types(workspace_id) -> QuerySet[ActivityType]:
    return ActivityType.objects.filter(workspace_id=workspace_id).order_by("name")


def workspace_members(workspace_id) -> QuerySet:
    return (
        get_user_model().objects.filter(memberships__workspace_id=workspace_id).order_by("username")
    )


TYPE_CHOICE, ACTOR_CHOICE = "type", "actor"


def _choices(workspace_id) -> QuerySet:
    """(kind, value, label) of the types by name and the members by username, in one
    query: on PostgreSQL each query costs its round trip and planning, whatever its size."""
    types = (
        workspace_types(workspace_id).order_by().annotate(kind=Value(TYPE_CHOICE), label=F("name"))
    )
    members = (
        workspace_members(workspace_id)
        .order_by()
        .annotate(
            kind=Value(ACTOR_CHOICE),
            key=Cast("pk", CharField()),
            label=F(get_user_model().USERNAME_FIELD),
        )
    )
    choices = types.values_list("kind", "key", "label").union(
        members.values_list("kind", "key", "label"), all=True
    )
    return choices.order_by("kind", "label")


class FeedFilter(TimelineFilter):
    """The workspace feed's filters: the timeline's, plus the contact, over activities."""

    activity_path = ""

    contact = django_filters.ModelChoiceFilter(
        field_name="links__contact",
        queryset=Contact.objects.none(),
        widget=forms.HiddenInput,
        label="Contact",
    )

    def __init__(self, data=None, queryset=None, *, workspace: Workspace, **kwargs):
        super().__init__(data, queryset, workspace=workspace, **kwargs)
        self.filters["contact"].queryset = Contact.objects.in_workspace(workspace)


def _start_of(day: date | None) -> datetime | None:
    """Midnight of `day` in the current time zone, so a date range is an index range.

    None for no day, and for days at the ends of the calendar, where no bound is needed.
    """
    if day is None:
        return None
    try:
        start = timezone.make_aware(datetime.combine(day, time.min))
        start.astimezone(UTC)
    except OverflowError:
        return None
    return start
