from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_slug
from django.db import IntegrityError
from django.utils.text import slugify

from activities import services
from contacts.models import Workspace


class Command(BaseCommand):
    help = "Create a workspace with the built-in activity types. Prints its id on the last line."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The workspace's display name.")
        parser.add_argument("--slug", help="Its short name in URLs (default: from the name).")

    def handle(self, *args, name: str, slug: str | None, **options):
        name = name.strip()
        if not name or len(name) > Workspace._meta.get_field("name").max_length:
            raise CommandError("The name must have between 1 and 100 characters.")
        slug = _valid_slug(slug if slug is not None else slugify(name)[:50].strip("-"))
        if Workspace.objects.filter(slug=slug).exists():
            raise CommandError(f"A workspace with the slug {slug!r} exists already.")
        try:
            workspace = services.create_workspace(name=name, slug=slug)
        except IntegrityError:  # created by someone else since the check above
            raise CommandError(f"A workspace with the slug {slug!r} exists already.") from None
        self.stdout.write(f"Created workspace {workspace.name} ({workspace.slug}). Its id:")
        self.stdout.write(str(workspace.pk))


def _valid_slug(slug: str) -> str:
    try:
        validate_slug(slug)
    except ValidationError:
        raise CommandError(
            f"{slug!r} is not a valid slug: use letters, numbers, hyphens or underscores."
        ) from None
    if len(slug) > Workspace._meta.get_field("slug").max_length:
        raise CommandError("The slug can have at most 50 characters.")
    return slug
