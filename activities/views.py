"""Reading pages: the home page, a contact's page and timeline, the workspace feed."""

import hashlib
import secrets
import uuid
from collections.abc import Callable, Sequence

from django.core.cache import caches
from django.db.models import Exists, OuterRef, QuerySet, Subquery, UUIDField
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.backends.utils import csrf_input
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.middleware import HtmxDetails
from markupsafe import Markup

from activities import timeline, types
from activities.charts import weekly_activity
from activities.exporting import csv_lines
from activities.filters import FeedFilter, TimelineFilter
from activities.forms import NoteForm
from activities.models import Activity, ActivityContact
from config import compiled
from config.templating import relative_time
from contacts.decorators import workspace_required
from contacts.models import Contact, Segment, SegmentMembership, may_change_note


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def get_contact(request: HtmxHttpRequest, contact_id: uuid.UUID) -> Contact:
    """The current workspace's contact, or 404, with the id of its pinned entry.

    Every contact page and action reads it: from SQL the ORM compiled once (`compiled`).
    """
    values = {"workspace_id": request.workspace.pk, "contact_id": contact_id}
    found = compiled.instances(
        "contact", Contact, _contact, values, annotations=["pinned_activity_id"]
    )
    if not found:
        raise Http404("No contact matches the given query.")
    return found[0]


def _contact(workspace_id, contact_id) -> QuerySet[Contact]:
    pinned = ActivityContact.objects.filter(contact=OuterRef("pk"), pinned=True)
    return Contact.objects.filter(workspace_id=workspace_id, pk=contact_id).annotate(
        pinned_activity_id=Subquery(pinned.values("activity_id")[:1], output_field=UUIDField())
    )


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
        return render(request, TIMELINE, context, status=context["status"])
    return render_contact_page(request, contact)


def render_contact_page(
    request: HtmxHttpRequest, contact: Contact, *, note_form: NoteForm | None = None
) -> HttpResponse:
    """The contact page: whole for a normal request, its #contact-page region for htmx.

    The actions answer with this too, so a change shows at once with its new entry on top.
    """
    context = timeline_context(request, contact)
    status = 422 if note_form is not None and note_form.errors else context["status"]
    values = {"workspace_id": request.workspace.pk, "contact_id": contact.pk}
    segments = compiled.instances(
        "contact-segments", Segment, _segments, values, annotations=["is_member"]
    )
    context |= {
        "note_form": note_form or NoteForm(),
        "segments": [segment for segment in segments if segment.is_member],
        "available_segments": [segment for segment in segments if not segment.is_member],
        "chart_html": jinja_html(CHART, {"chart": weekly_activity(contact)}, request),
        "filters_html": filters_html(
            request, context["filter"], reverse("contact-detail", args=[contact.pk])
        ),
        "timeline_html": jinja_html(TIMELINE, context, request),
    }
    page_html = jinja_html(CONTACT_PAGE, context, request)
    if wants_fragment(request) and request.method == "POST":
        return HttpResponse(page_html, status=status)
    return render(
        request,
        "activities/contact_detail.html",
        context | {"contact_page_html": page_html},
        status=status,
    )


def _segments(workspace_id, contact_id) -> QuerySet[Segment]:
    """The workspace's segments by name, marked `is_member` where the contact is in them."""
    memberships = SegmentMembership.objects.filter(segment=OuterRef("pk"), contact_id=contact_id)
    segments = Segment.objects.filter(workspace_id=workspace_id).order_by("name")
    return segments.annotate(is_member=Exists(memberships))


@require_safe
@workspace_required
def contact_timeline(request: HtmxHttpRequest, contact_id) -> HttpResponse:
    """The next page of a timeline, for infinite scroll."""
    contact = get_contact(request, contact_id)
    if not request.htmx:
        url = reverse("contact-detail", args=[contact.pk])
        return redirect(f"{url}?{request.GET.urlencode()}")
    context = timeline_context(request, contact)
    return render(request, TIMELINE_PAGE, context, status=context["status"])


# Jinja2 templates (templates/jinja2/): the contact page's region, the timeline, its
# entries, the chart and the filters.
CONTACT_PAGE = "activities/_contact_page.html"
TIMELINE = "activities/_timeline.html"
TIMELINE_PAGE = "activities/_timeline_page.html"
ENTRY = "activities/_entry.html"
CHART = "activities/_chart.html"
FILTERS = "activities/_filters.html"


def entry_context(request: HtmxHttpRequest) -> dict:
    """What the entry template needs besides the entries, looked up once a page: the CSRF
    field of its forms (each `csrf_input` would mask the token again, form after form),
    the time zone and the sources' labels."""
    return {
        "csrf_field": csrf_input(request),
        "time_zone": timezone.get_current_timezone(),
        "source_labels": {value: str(label) for value, label in Activity.Source.choices},
    }


# The pages' entries, rendered (by `render_entries`), in each process; a page lists the
# same entries to everyone who opens it, and again after every change on it.
RENDERED_ENTRIES = caches["rendered-entries"]
# An entry's forms hold the request's CSRF field: it is rendered with this in its place
# (a comment that escaped user text cannot hold), and the request's field put in after.
CSRF_SLOT = Markup(f"<!-- csrf {secrets.token_hex(8)} -->")


def render_entries(entries: Sequence[timeline.Entry], context: dict) -> None:
    """Set each entry's `html`, from an earlier rendering of it where everything it shows
    is the same: its columns, replies, reactions and the viewer's rights on it (all in
    the entry's repr), the relative times now, the zone and the contact page it is on."""
    zone = context["time_zone"]
    contact_id = context["contact"].pk if context["contact"] else None
    keys = [_entry_key(entry, zone, contact_id) for entry in entries]
    found = RENDERED_ENTRIES.get_many(keys)
    rendered = {}
    template = None
    # All that the entry template reads (a name it is not given is an error).
    shared = {
        "contact": context["contact"],
        "time_zone": zone,
        "source_labels": context["source_labels"],
        "csrf_field": CSRF_SLOT,
    }
    for entry, key in zip(entries, keys, strict=True):
        html = found.get(key)
        if html is None:
            template = template or get_template(ENTRY, using="jinja2")
            html = template.render(shared | {"entry": entry})
            rendered[key] = html
        entry.html = Markup(html.replace(CSRF_SLOT, context["csrf_field"]))
    RENDERED_ENTRIES.set_many(rendered)


def _entry_key(entry: timeline.Entry, zone, contact_id) -> str:
    times = [relative_time(entry.occurred_at)]
    times += [relative_time(reply.occurred_at) for reply in entry.reply_list]
    raw = repr((entry, times, entry.is_overdue, str(zone), contact_id))
    return hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


def jinja_html(template: str, context: dict, request: HtmxHttpRequest) -> SafeString:
    """A Jinja2 template's HTML (autoescaped), for a Django template to place."""
    # A copy: Django's Jinja2 backend writes the request and lazy CSRF values into the
    # dict it renders, and in the page's Django template that lazy token would be masked
    # again at each use rather than once a response.
    return mark_safe(render_to_string(template, {**context}, request))


def filters_html(
    request: HtmxHttpRequest, filterset, action: str, feed_contact: Contact | None = None
) -> SafeString:
    context = {"filter": filterset, "action": action, "feed_contact": feed_contact}
    return jinja_html(FILTERS, context, request)


def timeline_context(request: HtmxHttpRequest, contact: Contact) -> dict:
    """The filtered page of the contact's timeline that the request asks for."""
    rows = timeline.contact_entries(contact, request.membership)
    # After an action (a POST) the timeline shows unfiltered, newest first.
    query = request.GET if request.method == "GET" else QueryDict()
    filterset = TimelineFilter(query, rows, workspace=request.workspace)
    # The pinned entry stands above the first page of the unfiltered timeline (whose
    # pages leave it out), and in its place when filters are applied.
    show_pinned = not filterset.is_filtered and "cursor" not in request.GET
    context = page_context(
        request,
        filterset,
        fragment_url=reverse("contact-timeline", args=[contact.pk]),
        page_url=reverse("contact-detail", args=[contact.pk]),
        contact=contact,
        pinned_id=contact.pinned_activity_id if show_pinned else None,
        unfiltered_page=lambda cursor: timeline.contact_page(
            contact, request.membership, cursor, pinned_id=contact.pinned_activity_id
        ),
    )
    return context | {
        "export_url": _with_query(
            reverse("contact-timeline-csv", args=[contact.pk]), filterset.data, drop=["cursor"]
        ),
    }


def page_context(
    request: HtmxHttpRequest,
    filterset,
    *,
    fragment_url: str,
    page_url: str,
    contact: Contact | None = None,
    pinned_id=None,
    unfiltered_page: Callable[[timeline.Cursor | None], timeline.Page] | None = None,
) -> dict:
    """A page of entries after the request's cursor, grouped by day, and the next page's
    URLs: the fragment that infinite scroll loads, and the whole page for a plain link.
    With `pinned_id`, the pinned entry too. Without filters, `unfiltered_page` reads the
    page if given (the same page, faster).

    Invalid filters or cursor answer 422 with the filter form showing the errors.
    """
    context = {
        **entry_context(request),
        "filter": filterset,
        "contact": contact,
        "pinned": None,
        "groups": [],
        "cursor_error": "",
        "repeated_day": request.GET.get("after_day", ""),
        "next_url": None,
        "next_page_url": None,
        "status": 200,
    }
    cursor = None
    if token := request.GET.get("cursor"):
        try:
            cursor = timeline.Cursor.decode(token)
        except ValueError:
            context["cursor_error"] = (
                "That link to older entries is broken. Start again from the top."
            )
    if not filterset.is_valid() or context["cursor_error"]:
        return context | {"status": 422}
    if unfiltered_page and not filterset.is_filtered:
        page = unfiltered_page(cursor)
    else:
        page = timeline.page_entries(timeline.for_page(filterset.qs, contact), cursor)
    pinned = _prepared(request, page.entries, contact=contact, pinned_id=pinned_id)
    render_entries([*([pinned] if pinned else []), *page.entries], context)
    context |= {"pinned": pinned, "groups": timeline.group_by_day(page.entries)}
    if page.next_cursor:
        last_day = timeline.group_by_day(page.entries[-1:])[0].key
        drop = ["cursor", "after_day"]
        add = {"cursor": page.next_cursor.encode(), "after_day": last_day}
        context["next_url"] = _with_query(fragment_url, filterset.data, drop=drop, add=add)
        context["next_page_url"] = _with_query(page_url, filterset.data, drop=drop, add=add)
    return context


def _prepared(
    request: HtmxHttpRequest,
    entries: Sequence[timeline.Entry],
    *,
    contact: Contact | None = None,
    pinned_id=None,
) -> timeline.Entry | None:
    """Everything the entry template reads, set on each entry; the pinned entry if asked."""
    pinned = timeline.prepare(entries, request.membership, contact=contact, pinned_id=pinned_id)
    now = timezone.now()
    for entry in (*entries, *([pinned] if pinned else [])):
        entry.is_pinned = entry is pinned
        entry.is_upcoming = entry.occurred_at > now
        entry.can_change_note = (
            entry.type.key == types.NOTE_CREATED
            and entry.note_id is not None
            and may_change_note(entry.note_author_id, request.user, request.membership)
        )
    return pinned


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
    rows = timeline.feed_entries(request.workspace, request.membership)
    filterset = FeedFilter(request.GET, rows, workspace=request.workspace)
    feed_url = reverse("activity-feed")
    context = page_context(
        request,
        filterset,
        fragment_url=feed_url,
        page_url=feed_url,
        unfiltered_page=lambda cursor: timeline.feed_page(
            request.workspace, request.membership, cursor
        ),
    )
    context["export_url"] = _with_query(
        reverse("activity-feed-csv"), filterset.data, drop=["cursor", "after_day"]
    )
    if context["status"] == 200:
        context["feed_contact"] = filterset.form.cleaned_data.get("contact")
    if wants_fragment(request) and request.htmx.target == "timeline":
        template = TIMELINE
    elif wants_fragment(request) and "cursor" in request.GET:
        template = TIMELINE_PAGE
    else:
        context["filters_html"] = filters_html(
            request, filterset, feed_url, context.get("feed_contact")
        )
        context["timeline_html"] = jinja_html(TIMELINE, context, request)
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
