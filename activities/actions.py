"""Writing from the pages: the contact page's actions and the Log activity form.

Each view changes state through activities.services. A normal request is redirected with
a message; an htmx request gets the changed part of the page at once, the message coming
along as a client event (see static/js/app.js). Input that cannot be used answers 422
and says why.
"""

import re
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.messages.utils import get_level_tags
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, retarget, trigger_client_event

from activities import services, timeline, types
from activities.forms import LogActivityForm, NoteForm, SegmentChoiceForm
from activities.models import Activity
from activities.services import Actor
from activities.views import (
    HtmxHttpRequest,
    _prepared,
    entry_context,
    get_contact,
    render_contact_page,
    render_entries,
    wants_fragment,
)
from contacts.decorators import workspace_required
from contacts.filters import RECENT_FIRST, search_contacts
from contacts.models import Contact, Note, Segment
from contacts.views import PICKER_SIZE

# Access


def _get_note(request: HtmxHttpRequest, note_id) -> Note:
    """The workspace's note (else 404), if the user may change it (else 403)."""
    notes = Note.objects.in_workspace(request.workspace).select_related("contact")
    note = get_object_or_404(notes, pk=note_id)
    if not note.can_be_changed_by(request.user, request.membership):
        raise PermissionDenied
    return note


def _get_entry(request: HtmxHttpRequest, contact: Contact, activity_id) -> Activity:
    """An entry of the contact's timeline that the member may see, or 404."""
    rows = timeline.contact_entries(contact, request.membership).select_related("activity")
    return get_object_or_404(rows, activity_id=activity_id).activity


def _posted_contact(request: HtmxHttpRequest) -> Contact | None:
    """The contact whose page sent the form (an optional `contact` field)."""
    value = request.POST.get("contact", "")
    if not value:
        return None
    try:
        return get_contact(request, uuid.UUID(value))
    except ValueError:
        raise Http404 from None


def _actor(request: HtmxHttpRequest) -> Actor:
    return Actor.of(request.user)


# Answers


def _show_contact(
    request: HtmxHttpRequest,
    contact: Contact,
    text: str,
    *,
    level: int = messages.SUCCESS,
    status: int = 200,
) -> HttpResponse:
    """The contact's page with its new state and a message.

    A normal request that succeeded is redirected; one refused gets the page at once with
    its status. htmx gets the #contact-page region.
    """
    if not wants_fragment(request):
        messages.add_message(request, level, text)
        if status == 200:
            return redirect("contact-detail", contact.pk)
    response = render_contact_page(request, get_contact(request, contact.pk))
    response.status_code = status
    return _with_message(response, level, text) if wants_fragment(request) else response


def _refuse(request: HtmxHttpRequest, contact: Contact, text: str) -> HttpResponse:
    return _show_contact(request, contact, text, level=messages.ERROR, status=422)


def _with_message(response: HttpResponse, level: int, text: str) -> HttpResponse:
    return trigger_client_event(
        response, "showMessage", {"level": get_level_tags()[level], "text": text}
    )


def _act(
    request: HtmxHttpRequest,
    contact: Contact,
    change: Callable[[], object],
    *,
    done: str,
    unchanged: str,
) -> HttpResponse:
    """Make a change and show the contact's page: what changed, or that nothing did."""
    try:
        changed = change()
    except ValidationError as error:
        return _refuse(request, contact, " ".join(error.messages))
    if not changed:
        return _show_contact(request, contact, unchanged, level=messages.INFO)
    return _show_contact(request, contact, done)


def _add_errors(form: Form, error: ValidationError) -> None:
    """A service's refusal shown on the form, next to the field when the form has it."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


# Notes


@require_POST
@workspace_required
def note_create(request: HtmxHttpRequest, contact_id) -> HttpResponse:
    contact = get_contact(request, contact_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.add_note(
                contact=contact, content=form.cleaned_data["content"], actor=_actor(request)
            )
        except ValidationError as error:
            form.add_error("content", error.messages)
        else:
            return _show_contact(request, contact, "Note added.")
    return render_contact_page(request, contact, note_form=form)


@require_http_methods(["GET", "POST"])
@workspace_required
@vary_on_headers("HX-Request", "HX-Target", "HX-Current-URL")
def note_edit(request: HtmxHttpRequest, note_id) -> HttpResponse:
    note = _get_note(request, note_id)
    data = request.POST if request.method == "POST" else None
    form = NoteForm(data, initial={"content": note.content}, auto_id="note-edit-%s")
    form.fields["content"].widget.attrs["autofocus"] = True
    if form.is_bound and form.is_valid():
        try:
            edited = services.edit_note(
                note=note, content=form.cleaned_data["content"], actor=_actor(request)
            )
        except ValidationError as error:
            form.add_error("content", error.messages)
        else:
            text = "Note saved." if edited else "The note was not changed."
            response = _show_contact(
                request, note.contact, text, level=messages.SUCCESS if edited else messages.INFO
            )
            # The form stood in for its entry; the answer is the whole contact page.
            return retarget(response, "#contact-page") if wants_fragment(request) else response
    return _note_edit_form(request, note, form)


ENTRY_DOM_ID = re.compile(r"entry-[0-9a-f-]{36}")


def _note_edit_form(request: HtmxHttpRequest, note: Note, form: NoteForm) -> HttpResponse:
    """The edit form: a page, or in place of the entry whose Edit link asked for it.

    In place on the note's contact page, it is sent with htmx; elsewhere (the feed) it is a
    plain form that goes back to the contact page.
    """
    contact_url = reverse("contact-detail", args=[note.contact_id])
    page = _current_page(request)
    context = {
        "form": form,
        "note": note,
        "contact": note.contact,
        "entry_dom_id": _entry_dom_id(request, note),
        "in_place": urlsplit(page).path == contact_url,
        "cancel_url": page or contact_url,
    }
    status = 422 if form.is_bound else 200
    template = (
        "activities/_note_edit_form.html"
        if wants_fragment(request)
        else "activities/note_edit.html"
    )
    return render(request, template, context, status=status)


def _current_page(request: HtmxHttpRequest) -> str:
    """The path and query of the page an htmx request came from, or ""."""
    if not request.htmx or not request.htmx.current_url:
        return ""
    url = urlsplit(request.htmx.current_url)
    return url.path + (f"?{url.query}" if url.query else "")


def _entry_dom_id(request: HtmxHttpRequest, note: Note) -> str:
    """The id of the entry the form stands in for: the one whose Edit link was used."""
    target = request.htmx.target if request.htmx else None
    if target and ENTRY_DOM_ID.fullmatch(target):
        return target
    entry = note.activities.filter(type__key=types.NOTE_CREATED).values_list("pk", flat=True)
    return f"entry-{entry.first()}"


@require_POST
@workspace_required
def note_delete(request: HtmxHttpRequest, note_id) -> HttpResponse:
    note = _get_note(request, note_id)
    services.delete_note(note=note, actor=_actor(request))
    return _show_contact(request, note.contact, "Note deleted.")


# Segments and status


@require_POST
@workspace_required
def contact_segment_add(request: HtmxHttpRequest, contact_id) -> HttpResponse:
    contact = get_contact(request, contact_id)
    form = SegmentChoiceForm(request.POST, workspace=request.workspace)
    if not form.is_valid():
        return _refuse(request, contact, " ".join(form.errors["segment"]))
    segment = form.cleaned_data["segment"]
    return _act(
        request,
        contact,
        lambda: services.add_to_segment(contact=contact, segment=segment, actor=_actor(request)),
        done=f"Added to {segment.name}.",
        unchanged=f"{contact.name} was already in {segment.name}.",
    )


@require_POST
@workspace_required
def contact_segment_remove(request: HtmxHttpRequest, contact_id, segment_id) -> HttpResponse:
    contact = get_contact(request, contact_id)
    segment = get_object_or_404(Segment.objects.in_workspace(request.workspace), pk=segment_id)
    return _act(
        request,
        contact,
        lambda: services.remove_from_segment(
            contact=contact, segment=segment, actor=_actor(request)
        ),
        done=f"Removed from {segment.name}.",
        unchanged=f"{contact.name} was not in {segment.name}.",
    )


def _change_status(
    request: HtmxHttpRequest, contact_id, change: Callable, *, done: str, unchanged: str
) -> HttpResponse:
    contact = get_contact(request, contact_id)
    return _act(
        request,
        contact,
        lambda: change(contact=contact, actor=_actor(request)),
        done=done.format(name=contact.name),
        unchanged=unchanged.format(name=contact.name),
    )


@require_POST
@workspace_required
def contact_block(request: HtmxHttpRequest, contact_id) -> HttpResponse:
    return _change_status(
        request,
        contact_id,
        services.block_contact,
        done="{name} is blocked.",
        unchanged="{name} was already blocked.",
    )


@require_POST
@workspace_required
def contact_unblock(request: HtmxHttpRequest, contact_id) -> HttpResponse:
    return _change_status(
        request,
        contact_id,
        services.unblock_contact,
        done="{name} is unblocked.",
        unchanged="{name} was not blocked.",
    )


@require_POST
@workspace_required
def contact_unsubscribe(request: HtmxHttpRequest, contact_id) -> HttpResponse:
    return _change_status(
        request,
        contact_id,
        services.unsubscribe_contact,
        done="{name} is unsubscribed.",
        unchanged="{name} was already unsubscribed.",
    )


@require_POST
@workspace_required
def contact_resubscribe(request: HtmxHttpRequest, contact_id) -> HttpResponse:
    return _change_status(
        request,
        contact_id,
        services.resubscribe_contact,
        done="{name} is subscribed again.",
        unchanged="{name} was already subscribed.",
    )


# Pins and tasks


@require_POST
@workspace_required
def entry_pin(request: HtmxHttpRequest, contact_id, activity_id) -> HttpResponse:
    contact = get_contact(request, contact_id)
    entry = _get_entry(request, contact, activity_id)
    return _act(
        request,
        contact,
        lambda: services.pin_entry(contact=contact, activity=entry),
        done="Pinned to the top of the timeline.",
        unchanged="That entry was already pinned.",
    )


@require_POST
@workspace_required
def entry_unpin(request: HtmxHttpRequest, contact_id, activity_id) -> HttpResponse:
    contact = get_contact(request, contact_id)
    entry = _get_entry(request, contact, activity_id)
    return _act(
        request,
        contact,
        lambda: services.unpin_entry(contact=contact, activity=entry),
        done="Unpinned.",
        unchanged="That entry was not pinned.",
    )


@require_POST
@workspace_required
def task_done(request: HtmxHttpRequest, activity_id) -> HttpResponse:
    tasks = Activity.objects.visible_to(request.membership).filter(type__key=types.TASK)
    task = get_object_or_404(tasks, pk=activity_id)
    contact = _posted_contact(request)
    if contact is not None:
        return _act(
            request,
            contact,
            lambda: services.complete_task(activity=task),
            done="Task done.",
            unchanged="That task was already done.",
        )
    done = services.complete_task(activity=task)
    text = "Task done." if done else "That task was already done."
    level = messages.SUCCESS if done else messages.INFO
    if wants_fragment(request):
        [entry] = timeline.read_entries(timeline.for_page(tasks.filter(pk=task.pk)))
        _prepared(request, [entry])
        render_entries([entry], entry_context(request) | {"contact": None})
        response = HttpResponse(entry.html)
        return _with_message(response, level, text)
    messages.add_message(request, level, text)
    return redirect("activity-feed")


# Log activity


@require_http_methods(["GET", "POST"])
@workspace_required
@vary_on_headers("HX-Request", "HX-Target")
def activity_log(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "GET":
        initial = {"contacts": request.GET.getlist("contact")}
        return _log_form(request, LogActivityForm(workspace=request.workspace, initial=initial))
    form = LogActivityForm(request.POST, workspace=request.workspace)
    if form.is_valid():
        contacts = form.cleaned_data["contacts"]
        try:
            activity, _ = services.log_activity(
                workspace=request.workspace,
                type_key=form.cleaned_data["type"].key,
                contacts=contacts,
                actor=_actor(request),
                source=Activity.Source.UI,
                **form.entry_fields(request.user),
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"{activity.type.name} logged.")
            url = _next_url(request) or reverse("contact-detail", args=[contacts[0].pk])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return _log_form(request, form)


def _log_form(request: HtmxHttpRequest, form: LogActivityForm) -> HttpResponse:
    """The form as a page, in a dialog (asked for by the contact page), or alone (422)."""
    in_dialog = wants_fragment(request) and (
        request.htmx.target == "dialog-slot" or request.POST.get("dialog") == "1"
    )
    chosen = _chosen_contacts(request, form)
    q = request.GET.get("q", "")[:200]
    others = Contact.objects.in_workspace(request.workspace).exclude(pk__in=[c.pk for c in chosen])
    next_url = _next_url(request)
    back = reverse("contact-detail", args=[chosen[0].pk]) if chosen else reverse("activity-feed")
    context = {
        "form": form,
        "chosen": chosen,
        "matches": search_contacts(others.order_by(*RECENT_FIRST), q)[:PICKER_SIZE],
        "q": q,
        "next": next_url,
        "in_dialog": in_dialog,
        "cancel_url": next_url or back,
    }
    if not form.is_bound:
        template = "_log_activity_dialog.html" if in_dialog else "log_activity.html"
        return render(request, f"activities/{template}", context)
    _focus_first_error(form)
    template = "_log_activity_form.html" if wants_fragment(request) else "log_activity.html"
    return render(request, f"activities/{template}", context, status=422)


def _focus_first_error(form: LogActivityForm) -> None:
    """Bring the first field in error into view, also in the dialog (htmx honours autofocus)."""
    field = next((name for name in form.fields if name in form.errors), None)
    if field and field != "contacts":
        form.fields[field].widget.attrs["autofocus"] = True


def _chosen_contacts(request: HtmxHttpRequest, form: LogActivityForm) -> list[Contact]:
    """The workspace's contacts among those chosen (or preselected), in that order."""
    ids = []
    for value in form["contacts"].value() or []:
        try:
            ids.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    found = Contact.objects.in_workspace(request.workspace).in_bulk(ids)
    return [found[pk] for pk in dict.fromkeys(ids) if pk in found]


def _next_url(request: HtmxHttpRequest) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if safe else ""
