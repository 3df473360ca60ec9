"""Reading pages: the home page, a contact's page and timeline, the workspace feed."""

from collections.abc import Sequence

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.middleware import HtmxDetails

from activities import timeline, types
from activities.charts import weekly_activity
from activities.exporting import csv_lines
from activities.filters import FeedFilter, TimelineFilter
from activities.forms import NoteForm
from activities.models import Activity
from contacts.decorators import workspace_required
from contacts.models import Contact, Segment


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def get_contact(request: HtmxHttpRequest, contact_id) -> Contact:
    """The current workspace's contact, or 404."""
    segments = Prefetch("segments", queryset=Segment.objects.order_by("name"))
    contacts = Contact.objects.in_workspace(request.workspace).prefetch_related(segments)
    return get_object_or_404(contacts, pk=contact_id)


def wants_fragment(request: HtmxHttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


@workspace_required
def home(request: HtmxHttpRequest) -> HttpResponse:
    workspace = request.workspace
    contacts = Contact.objects.in_workspace(workspace)
    counts = {
        "contacts": contacts.count(),
        "segments": Segment.objects.in_workspace(workspace).count(),
        "activities": Activity.objects.in_workspace(workspace).count(),
        "blocked": contacts.filter(blocked=True).count(),
    }
    recent = (
        Activity.objects.visible_to(request.membership)
        .select_related("type")
        .order_by("-occurred_at", "-id")[:8]
    )
    return render(request, "home.html", {"counts": counts, "recent": recent})


# A contact's page and timeline


@require_safe
@workspace_required
@vary_on_headers("HX-Request", "HX-Target")
def contact_detail(request: HtmxHttpRequest, contact_id) -> HttpResponse:
    contact = get_contact(request, contact_id)
    if wants_fragment(request) and request.htmx.target == "timeline":
        context = timeline_context(request, contact)
        return render(request, "activities/_timeline.html", context, status=context["status"])
    return render_contact_page(request, contact)


def render_contact_page(
    request: HtmxHttpRequest, contact: Contact, *, note_form: NoteForm | None = None
) -> HttpResponse:
    """The contact page: whole for a normal request, its #contact-page region for htmx.

    The actions answer with this too, so a change shows at once with its new entry on top.
    """
    context = timeline_context(request, contact)
    status = 422 if note_form is not None and note_form.errors else context["status"]
    context |= {
        "note_form": note_form or NoteForm(),
        "available_segments": Segment.objects.in_workspace(request.workspace)
        .exclude(pk__in=[segment.pk for segment in contact.segments.all()])
        .order_by("name"),
        "chart": weekly_activity(contact),
    }
    template = (
        "activities/_contact_page.html"
        if wants_fragment(request) and request.method == "POST"
        else "activities/contact_detail.html"
    )
    return render(request, template, context, status=status)


@require_safe
@workspace_required
def contact_timeline(request: HtmxHttpRequest, contact_id) -> HttpResponse:
    """The next page of a timeline, for infinite scroll."""
    contact = get_contact(request, contact_id)
    if not request.htmx:
        url = reverse("contact-detail", args=[contact.pk])
        return redirect(f"{url}?{request.GET.urlencode()}")
    context = timeline_context(request, contact)
    return render(request, "activities/_timeline_page.html", context, status=context["status"])


def timeline_context(request: HtmxHttpRequest, contact: Contact) -> dict:
    """The filtered page of the contact's timeline that the request asks for."""
    rows = timeline.contact_entries(contact, request.membership)
    # After an action (a POST) the timeline shows unfiltered, newest first.
    query = request.GET if request.method == "GET" else QueryDict()
    filterset = TimelineFilter(query, rows, workspace=request.workspace)
    context = page_context(
        request,
        filterset,
        fragment_url=reverse("contact-timeline", args=[contact.pk]),
        page_url=reverse("contact-detail", args=[contact.pk]),
    )
    show_pinned = not filterset.is_filtered and "cursor" not in request.GET
    pinned = _pinned_entry(request, contact) if show_pinned and context["status"] == 200 else None
    if pinned:
        context["groups"] = _without(context["groups"], pinned)
    return context | {
        "contact": contact,
        "pinned": pinned,
        "export_url": _with_query(
            reverse("contact-timeline-csv", args=[contact.pk]), filterset.data, drop=["cursor"]
        ),
    }


def _pinned_entry(request: HtmxHttpRequest, contact: Contact) -> Activity | None:
    link = (
        timeline.contact_entries(contact, request.membership)
        .filter(pinned=True)
        .select_related(*timeline.ENTRY_RELATIONS_VIA_LINK)
        .first()
    )
    if link is None:
        return None
    link.activity.is_pinned = True
    return _prepared(request, [link.activity])[0]


def _without(groups: list[timeline.DayGroup], pinned: Activity) -> list[timeline.DayGroup]:
    for group in groups:
        group.entries = [entry for entry in group.entries if entry.pk != pinned.pk]
    return [group for group in groups if group.entries]


def page_context(request: HtmxHttpRequest, filterset, *, fragment_url: str, page_url: str) -> dict:
    """A page of entries after the request's cursor, grouped by day, and the next page's
    URLs: the fragment that infinite scroll loads, and the whole page for a plain link.

    Invalid filters or cursor answer 422 with the filter form showing the errors.
    """
    cursor = None
    cursor_error = ""
    if token := request.GET.get("cursor"):
        try:
            cursor = timeline.Cursor.decode(token)
        except ValueError:
            cursor_error = "That link to older entries is broken. Start again from the top."
    if not filterset.is_valid() or cursor_error:
        return {"filter": filterset, "groups": [], "cursor_error": cursor_error, "status": 422}
    page = timeline.page_of(filterset.qs, cursor)
    entries = _prepared(request, page.entries)
    groups = timeline.group_by_day(entries)
    next_query = {}
    if page.next_cursor:
        next_query = {"cursor": page.next_cursor.encode(), "after_day": groups[-1].key}
    drop = ["cursor", "after_day"]
    return {
        "filter": filterset,
        "groups": groups,
        "repeated_day": request.GET.get("after_day", ""),
        "next_url": _with_query(fragment_url, filterset.data, drop=drop, add=next_query)
        if next_query
        else None,
        "next_page_url": _with_query(page_url, filterset.data, drop=drop, add=next_query)
        if next_query
        else None,
        "status": 200,
    }


def _prepared(request: HtmxHttpRequest, entries: Sequence[Activity]) -> Sequence[Activity]:
    timeline.prepare(entries, request.membership)
    now = timezone.now()
    for entry in entries:
        entry.is_upcoming = entry.occurred_at > now
        entry.can_change_note = (
            entry.type.key == types.NOTE_CREATED
            and entry.note is not None
            and entry.note.can_be_changed_by(request.user, request.membership)
        )
    return entries


def _with_query(url: str, data, *, drop: Sequence[str] = (), add: dict | None = None) -> str:
    """`url` with the request's query string, less `drop`, plus `add`."""
    query = data.copy() if isinstance(data, QueryDict) else QueryDict(mutable=True)
    for key in drop:
        query.pop(key, None)
    query.update(add or {})
    return f"{url}?{query.urlencode()}" if query else url


# The workspace feed


@require_safe
@workspace_required
@vary_on_headers("HX-Request", "HX-Target")
def activity_feed(request: HtmxHttpRequest) -> HttpResponse:
    filterset = FeedFilter(
        request.GET,
        timeline.feed_entries(request.workspace, request.membership),
        workspace=request.workspace,
    )
    feed_url = reverse("activity-feed")
    context = page_context(request, filterset, fragment_url=feed_url, page_url=feed_url)
    context["export_url"] = _with_query(
        reverse("activity-feed-csv"), filterset.data, drop=["cursor", "after_day"]
    )
    if context["status"] == 200:
        context["feed_contact"] = filterset.form.cleaned_data.get("contact")
    if wants_fragment(request) and request.htmx.target == "timeline":
        template = "activities/_timeline.html"
    elif wants_fragment(request) and "cursor" in request.GET:
        template = "activities/_timeline_page.html"
    else:
        template = "activities/feed.html"
    return render(request, template, context, status=context["status"])


# CSV exports


@require_safe
@workspace_required
def contact_timeline_csv(request: HtmxHttpRequest, contact_id) -> HttpResponse:
    contact = get_contact(request, contact_id)
    rows = timeline.contact_entries(contact, request.membership)
    filterset = TimelineFilter(request.GET, rows, workspace=request.workspace)
    return _csv_export(filterset, f"timeline-{contact.pk}.csv")


@require_safe
@workspace_required
def activity_feed_csv(request: HtmxHttpRequest) -> HttpResponse:
    rows = timeline.feed_entries(request.workspace, request.membership)
    filterset = FeedFilter(request.GET, rows, workspace=request.workspace)
    return _csv_export(filterset, "activities.csv")


def _csv_export(filterset, filename: str) -> HttpResponse:
    if not filterset.is_valid():
        return HttpResponse(
            "Invalid filters: " + filterset.errors.as_text(), status=422, content_type="text/plain"
        )
    response = StreamingHttpResponse(csv_lines(filterset.qs), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
