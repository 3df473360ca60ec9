"""Creating and editing contacts: writes that make no timeline entry.

Blocking, unsubscribing and segment membership write entries, so they live in
`activities.services`. An edit saves only the fields it changes, so it never overwrites
the flags and times those services write at the same moment.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from contacts.models import Contact, Workspace

EDITABLE_FIELDS = frozenset(
    {"name", "email", "phone", "company", "avatar_url", "external_id", "custom_fields"}
)
# Blank when absent: None clears them.
TEXT_FIELDS = ("email", "phone", "company", "avatar_url")


def create_contact(
    *,
    workspace: Workspace,
    name: str,
    email: str = "",
    phone: str = "",
    company: str = "",
    avatar_url: str = "",
    external_id: str | None = None,
    custom_fields: dict[str, Any] | None = None,
) -> Contact:
    contact = Contact(workspace=workspace)
    values = {
        "name": name,
        "email": email,
        "phone": phone,
        "company": company,
        "avatar_url": avatar_url,
        "external_id": external_id,
        "custom_fields": custom_fields,
    }
    _assign(contact, values)
    with transaction.atomic():
        _validate(contact, exclude=["workspace", "owner"])
        _save(contact, force_insert=True)
    return contact


def update_contact(*, contact: Contact, **changes: Any) -> list[str]:
    """Change the named fields; returns those that changed (none: nothing is written)."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"Not editable here: {', '.join(sorted(unknown))}")
    before = {name: getattr(contact, name) for name in changes}
    _assign(contact, changes)
    changed = [name for name in changes if getattr(contact, name) != before[name]]
    if not changed:
        return []
    contact.updated_at = timezone.now()
    with transaction.atomic():
        _validate(contact, exclude=[f.name for f in Contact._meta.fields if f.name not in changed])
        _save(contact, update_fields=[*changed, "updated_at"])
    return changed


def _assign(contact: Contact, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if isinstance(value, str):
            value = value.strip()
        if name in TEXT_FIELDS:
            value = value or ""
        elif name == "external_id":
            # NULL rather than "", so the per-workspace unique constraint skips it.
            value = value or None
        elif name == "custom_fields":
            value = value or {}
        setattr(contact, name, value)


def _validate(contact: Contact, *, exclude: list[str]) -> None:
    """Field checks (lengths, email and URL formats), then the external id's uniqueness."""
    contact.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    if "external_id" not in exclude and _external_id_taken(contact):
        raise _external_id_error()


def _save(contact: Contact, **save_options) -> None:
    try:
        with transaction.atomic():
            contact.save(**save_options)
    except IntegrityError:
        # Another request took the external id since it was checked.
        if contact.external_id and _external_id_taken(contact):
            raise _external_id_error() from None
        raise


def _external_id_taken(contact: Contact) -> bool:
    return bool(contact.external_id) and (
        Contact.objects.filter(workspace_id=contact.workspace_id, external_id=contact.external_id)
        .exclude(pk=contact.pk)
        .exists()
    )


def _external_id_error() -> ValidationError:
    return ValidationError({"external_id": "Another contact already has this external id."})
