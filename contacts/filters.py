"""The contacts list's filters, shared by the page, the picker search and the API."""

import django_filters
from django import forms
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django_filters.widgets import BooleanWidget

from contacts.models import Contact, Segment


class YesNoAnyWidget(BooleanWidget):
    """A select of Any / yes / no with labels that read well for one flag."""

    def __init__(self, yes: str, no: str, attrs=None):
        super().__init__(attrs)
        self.choices = [("", "Any"), ("true", yes), ("false", no)]


def workspace_segments(request) -> QuerySet[Segment]:
    if request is None:
        return Segment.objects.none()
    return Segment.objects.in_workspace(request.workspace)


# The contacts whose trigram index entry contains a phrase (contacts/migrations/0003).
SQLITE_TRIGRAM_MATCH = (
    "SELECT contact_id FROM contacts_contact_search_key WHERE id IN"
    " (SELECT rowid FROM contacts_contact_search WHERE contacts_contact_search MATCH %s)"
)
TRIGRAM = 3


def search_contacts(queryset: QuerySet[Contact], text: str) -> QuerySet[Contact]:
    """Contacts whose name, email or company contains the text, in any case."""
    text = text.strip()
    if not text:
        return queryset
    if "\x00" in text:  # no stored text holds a NUL, and neither database takes one in a query
        return queryset.none()
    if connection.vendor == "sqlite" and len(text) >= TRIGRAM:
        phrase = '"' + text.replace('"', '""') + '"'
        return queryset.filter(pk__in=RawSQL(SQLITE_TRIGRAM_MATCH, [phrase]))
    return queryset.filter(
        Q(name__icontains=text) | Q(email__icontains=text) | Q(company__icontains=text)
    )


def refresh_search_statistics() -> None:
    """After a bulk load of contacts: on SQLite, the contacts table's statistics (ANALYZE).
    Without them SQLite's planner guesses that a workspace has a handful of contacts, and
    reads all of them in name order rather than the search index's matches."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE contacts_contact")


RECENT_FIRST = (F("last_activity_at").desc(nulls_last=True), "id")


class ContactFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search",
        method="filter_search",
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Search name, email or company"}
        ),
    )
    segment = django_filters.ModelChoiceFilter(
        field_name="segments",
        label="Segment",
        queryset=workspace_segments,
        empty_label="All segments",
    )
    blocked = django_filters.BooleanFilter(widget=YesNoAnyWidget("Blocked", "Not blocked"))
    unsubscribed = django_filters.BooleanFilter(widget=YesNoAnyWidget("Unsubscribed", "Subscribed"))
    sort = django_filters.ChoiceFilter(
        label="Sort by",
        choices=[("name", "Name"), ("-last_activity_at", "Last activity")],
        method="sort_by",
        empty_label=None,
    )

    class Meta:
        model = Contact
        fields = ["q", "segment", "blocked", "unsubscribed", "sort"]

    def filter_search(self, queryset: QuerySet[Contact], name: str, value: str):
        return search_contacts(queryset, value)

    def sort_by(self, queryset: QuerySet[Contact], name: str, value: str):
        if value == "-last_activity_at":
            return queryset.order_by(*RECENT_FIRST)
        return queryset.order_by("name", "id")
