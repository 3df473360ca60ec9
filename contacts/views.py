import uuid
from collections import defaultdict
from contextlib import suppress
from typing import NamedTuple

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from contacts.decorators import workspace_required
from contacts.filters import RECENT_FIRST, ContactFilter, search_contacts
from contacts.forms import SegmentForm
from contacts.middleware import SESSION_KEY
from contacts.models import Contact, Membership, Segment, SegmentMembership, Workspace

CONTACTS_PER_PAGE = 50
PICKER_SIZE = 10


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails
    workspace: Workspace
    membership: Membership


def _wants_fragment(request: HtmxHttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def _get_segment(request: HtmxHttpRequest, segment_id: uuid.UUID) -> Segment:
    return get_object_or_404(Segment.objects.in_workspace(request.workspace), pk=segment_id)


def _contacts(request: HtmxHttpRequest) -> QuerySet[Contact]:
    return Contact.objects.in_workspace(request.workspace)


class CappedPaginator(Paginator):
    """Counts at most `cap` contacts, so a broad search or a big workspace costs the same
    as a count of `cap`; past it the list says "10,000+" and pages up to the cap."""

    cap = 10_000

    @cached_property
    def _counted(self) -> int:
        # Unordered: the count of the first `cap` + 1 is the same in any order, and the
        # list's order would make the database sort every match before counting.
        return self.object_list.order_by()[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    @cached_property
    def is_capped(self) -> bool:
        return self._counted > self.cap


def _page(request: HtmxHttpRequest, contacts: QuerySet[Contact]) -> Page:
    """A page of contacts, each with its `segment_chips`."""
    page = CappedPaginator(contacts, CONTACTS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = _with_segment_chips(list(page.object_list))
    return page


class SegmentChip(NamedTuple):
    name: str
    color: str


def _with_segment_chips(contacts: list[Contact]) -> list[Contact]:
    """Each contact's segments by name, as `segment_chips`, from one query for the page.
    (`prefetch_related` builds a queryset for each contact: twice the time of this.)"""
    chips = defaultdict(list)
    if contacts:
        memberships = SegmentMembership.objects.filter(contact__in=contacts).order_by(
            "segment__name", "segment_id"
        )
        for contact_id, name, color in memberships.values_list(
            "contact_id", "segment__name", "segment__color"
        ):
            chips[contact_id].append(SegmentChip(name, color))
    for contact in contacts:
        contact.segment_chips = chips[contact.pk]
    return contacts


@workspace_required
@require_safe
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
def contact_list(request: HtmxHttpRequest) -> HttpResponse:
    filterset = ContactFilter(request.GET, queryset=_contacts(request), request=request)
    # An invalid filter (a segment of another workspace, an unknown sort) matches nothing
    # rather than silently showing everyone.
    contacts = filterset.qs if filterset.is_valid() else Contact.objects.none()
    page = _page(request, contacts)
    context = {
        "filter": filterset,
        "page": page,
        "has_contacts": bool(page.object_list)
        or Contact.objects.in_workspace(request.workspace).exists(),
    }
    if _wants_fragment(request):
        return render(request, "contacts/_contact_results.html", context)
    return render(request, "contacts/contact_list.html", context)


@workspace_required
@require_safe
def contact_search(request: HtmxHttpRequest) -> HttpResponse:
    """Options for the contact picker; the ones already chosen stay first and checked."""
    chosen_ids = _uuids(request.GET.getlist("contacts"))
    contacts = Contact.objects.in_workspace(request.workspace).order_by(*RECENT_FIRST)
    matches = search_contacts(contacts.exclude(pk__in=chosen_ids), request.GET.get("q", ""))
    context = {"chosen": contacts.filter(pk__in=chosen_ids), "matches": matches[:PICKER_SIZE]}
    return render(request, "contacts/_contact_options.html", context)


def _uuids(values: list[str]) -> list[uuid.UUID]:
    valid = []
    for value in values:
        with suppress(ValueError):
            valid.append(uuid.UUID(value))
    return valid


@workspace_required
@require_safe
def segment_list(request: HtmxHttpRequest) -> HttpResponse:
    segments = Segment.objects.in_workspace(request.workspace).annotate(
        contacts_count=Count("memberships")
    )
    return render(request, "contacts/segment_list.html", {"segments": segments})


@workspace_required
@require_safe
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
def segment_detail(request: HtmxHttpRequest, segment_id: uuid.UUID) -> HttpResponse:
    segment = _get_segment(request, segment_id)
    page = _page(request, _contacts(request).filter(segments=segment))
    context = {"segment": segment, "page": page}
    if _wants_fragment(request):
        return render(request, "contacts/_segment_contacts.html", context)
    return render(request, "contacts/segment_detail.html", context)


@workspace_required
@require_http_methods(["GET", "POST"])
def segment_create(request: HtmxHttpRequest) -> HttpResponse:
    return _segment_form(request, segment=None)


@workspace_required
@require_http_methods(["GET", "POST"])
def segment_edit(request: HtmxHttpRequest, segment_id: uuid.UUID) -> HttpResponse:
    return _segment_form(request, segment=_get_segment(request, segment_id))


def _segment_form(request: HtmxHttpRequest, segment: Segment | None) -> HttpResponse:
    """Create and edit share one flow: show, validate (422), save and go to the segment."""
    data = request.POST if request.method == "POST" else None
    form = SegmentForm(data, instance=segment, workspace=request.workspace)
    if form.is_bound and form.is_valid():
        saved = form.save()
        messages.success(request, f"Segment “{saved.name}” {'saved' if segment else 'created'}.")
        url = reverse("segment-detail", args=[saved.id])
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    # The form's instance holds the typed values by now, so templates get the segment only
    # for its id; its name in a title would show the rejected input.
    context = {"form": form, "segment": segment}
    if not form.is_bound:
        return render(request, "contacts/segment_form.html", context)
    template = "contacts/_segment_form.html" if request.htmx else "contacts/segment_form.html"
    return render(request, template, context, status=422)


@login_required
@require_POST
def switch_workspace(request: HttpRequest, workspace_id) -> HttpResponse:
    membership = get_object_or_404(Membership, user=request.user, workspace_id=workspace_id)
    request.session[SESSION_KEY] = str(membership.workspace_id)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = "home"
    return redirect(next_url)
