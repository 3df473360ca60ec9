import uuid

from django.core.management.base import CommandError
from django.db.models import Q

from contacts.models import Workspace


def workspace_named(id_or_slug: str) -> Workspace:
    """The workspace a command names by its id or its slug, or a CommandError."""
    try:
        wanted = Q(pk=uuid.UUID(id_or_slug)) | Q(slug=id_or_slug)
    except ValueError:
        wanted = Q(slug=id_or_slug)
    found = Workspace.objects.filter(wanted).first()
    if found is None:
        raise CommandError(f"No workspace has the id or slug {id_or_slug!r}.")
    return found
