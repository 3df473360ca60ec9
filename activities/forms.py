import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from activities import types
from activities.models import Activity, ActivityType
from contacts.models import Contact, Note, Segment, Workspace


class NoteForm(forms.Form):
    content = forms.CharField(
        label="Note",
        max_length=Note._meta.get_field("content").max_length,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Write a note…"}),
    )


class SegmentChoiceForm(forms.Form):
    """The segment to add a contact to: one of the workspace's."""

    segment = forms.ModelChoiceField(
        queryset=Segment.objects.none(),
        error_messages={
            "required": "Choose a segment.",
            "invalid_choice": "That segment is not in this workspace.",
        },
    )

    def __init__(self, *args, workspace: Workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = Segment.objects.in_workspace(workspace)


MAX_CONTACTS = 100
MAX_PARTICIPANTS = 200


def _now() -> datetime:
    return timezone.localtime().replace(second=0, microsecond=0)


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


@dataclass(frozen=True)
class Participant:
    name: str
    email: str
    is_host: bool = False


# "Ada Lovelace <ada@example.com>", with the name optionally in quotes.
NAMED_ADDRESS = re.compile(r'^"?(?P<name>[^"<>]*)"?\s*<(?P<email>[^<>]+)>$')
HOST_MARKER = "(host)"


def parse_participants(text: str) -> list[Participant]:
    """One participant a line: `Name <email>` or an email, `(host)` at the end for a host."""
    people, errors = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        is_host = line.lower().endswith(HOST_MARKER)
        address = line[: -len(HOST_MARKER)].strip() if is_host else line
        match = NAMED_ADDRESS.match(address)
        name, email = (match["name"].strip(), match["email"].strip()) if match else ("", address)
        try:
            validate_email(email)
        except ValidationError:
            errors.append(f"Line {number}: “{line}” has no valid email address.")
            continue
        people.append(Participant(name, email, is_host))
    if errors:
        raise ValidationError(errors)
    if len(people) > MAX_PARTICIPANTS:
        raise ValidationError(f"A meeting can list at most {MAX_PARTICIPANTS} participants.")
    return people


class LogActivityForm(forms.Form):
    """A call, meeting, email, task or one of the workspace's own types, logged by hand."""

    # In the order the template shows them, so the first error is the first field in error.
    type = forms.ChoiceField(label="Type")
    # Required except for meetings, which have a start instead (see clean()).
    when = forms.DateTimeField(required=False, initial=_now, widget=DateTimeLocalInput())
    subject = forms.CharField(max_length=Activity._meta.get_field("title").max_length)
    description = forms.CharField(
        required=False,
        max_length=Activity._meta.get_field("body").max_length,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    start = forms.DateTimeField(required=False, widget=DateTimeLocalInput())
    end = forms.DateTimeField(required=False, widget=DateTimeLocalInput())
    location = forms.CharField(
        required=False,
        max_length=200,
        help_text="An address, or the link of a video call.",
    )
    participants = forms.CharField(
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Ada Lovelace <ada@example.com>"}),
        help_text="Besides the contacts: one a line, Name <email> or an email. "
        "End a line with (host) for a host.",
    )
    contacts = forms.ModelMultipleChoiceField(
        queryset=Contact.objects.none(),
        error_messages={
            "required": "Choose at least one contact.",
            "invalid_choice": "A contact you chose is not in this workspace.",
        },
    )

    def __init__(self, *args, workspace: Workspace, **kwargs):
        # Its own ids: in the dialog it shares the contact page with the timeline filters.
        kwargs.setdefault("auto_id", "log-%s")
        super().__init__(*args, **kwargs)
        loggable = ActivityType.objects.in_workspace(workspace).filter(loggable=True)
        self.types = {t.key: t for t in sorted(loggable, key=_builtin_first)}
        self.fields["type"].choices = [(key, t.name) for key, t in self.types.items()]
        self.fields["contacts"].queryset = Contact.objects.in_workspace(workspace)

    def clean_type(self) -> ActivityType:
        return self.types[self.cleaned_data["type"]]

    def clean_contacts(self) -> list[Contact]:
        contacts = self.cleaned_data["contacts"]
        if len(contacts) > MAX_CONTACTS:
            raise ValidationError(f"Choose at most {MAX_CONTACTS} contacts.")
        # In the order chosen: the first is the page to go back to.
        order = {value: index for index, value in enumerate(self["contacts"].data)}
        return sorted(contacts, key=lambda contact: order.get(str(contact.pk), 0))

    def clean_participants(self) -> list[Participant]:
        if not self._is_meeting():
            return []
        return parse_participants(self.cleaned_data["participants"])

    def clean(self) -> dict:
        data = super().clean()
        if not self._is_meeting():
            if data.get("when") is None and "when" not in self.errors:
                self.add_error("when", "Say when it happened.")
            return data
        start, end = data.get("start"), data.get("end")
        if start is None and "start" not in self.errors:
            self.add_error("start", "A meeting needs a start.")
        if end is None and "end" not in self.errors:
            self.add_error("end", "A meeting needs an end.")
        if start and end and end <= start:
            self.add_error("end", "The end must be after the start.")
        return data

    def _is_meeting(self) -> bool:
        activity_type = self.cleaned_data.get("type")
        return activity_type is not None and activity_type.key == types.MEETING

    def entry_fields(self, user) -> dict:
        """What services.log_activity needs besides the workspace, type, contacts and actor."""
        data = self.cleaned_data
        fields = {"title": data["subject"], "body": data["description"]}
        if not self._is_meeting():
            return fields | {"occurred_at": data["when"]}
        return fields | {
            "occurred_at": data["start"],
            "ended_at": data["end"],
            "metadata": meeting_metadata(
                title=data["subject"],
                location=data["location"],
                start=data["start"],
                end=data["end"],
                contacts=data["contacts"],
                others=data["participants"],
                host=user,
            ),
        }


def _builtin_first(activity_type: ActivityType) -> tuple:
    order = list(types.BUILTIN_TYPES)
    if activity_type.key in types.BUILTIN_TYPES:
        return (0, order.index(activity_type.key), "")
    return (1, 0, activity_type.name.lower())


def meeting_metadata(
    *,
    title: str,
    location: str,
    start: datetime,
    end: datetime,
    contacts: list[Contact],
    others: list[Participant],
    host,
) -> dict:
    """A meeting's details in the shape of Reevo's meeting metadata."""
    people = [
        _participant(host.get_full_name() or host.get_username(), host.email, True, user=host)
    ]
    people += [_participant(c.name, c.email, False, contact=c) for c in contacts]
    # Someone listed as a contact or as the host is not listed twice.
    known = {person["email"].lower() for person in people if person["email"]}
    for other in others:
        if other.email.lower() not in known:
            known.add(other.email.lower())
            people.append(_participant(other.name, other.email, other.is_host))
    return {
        "kind": "meeting",
        "title": title,
        "location": location,
        "start_date": start.astimezone(UTC).isoformat(),
        "end_date": end.astimezone(UTC).isoformat(),
        "status": "completed" if end <= timezone.now() else "scheduled",
        "meeting_type": "video" if location.startswith(("http://", "https://")) else "in_person",
        "participants": people,
    }


def _participant(name: str, email: str, is_host: bool, *, user=None, contact=None) -> dict:
    return {
        "name": name,
        "email": email,
        "is_host": is_host,
        "rsvp_status": "accepted" if user else "",
        "user_id": user.pk if user else None,
        "contact_id": str(contact.pk) if contact else None,
    }
