import contextlib
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.http import QueryDict

from activities import timeline
from activities.exporting import csv_lines
from activities.filters import FeedFilter, TimelineFilter
from activities.models import Activity
from contacts.management.workspaces import workspace_named
from contacts.models import Contact, Workspace


class Command(BaseCommand):
    help = (
        "Export a contact's timeline, or the workspace's whole feed, as CSV: the columns of "
        "the pages' export, newest first, with the same filters. Writes to stdout unless "
        "--output is given. Dates are days in TIME_ZONE (UTC unless set)."
    )

    def add_arguments(self, parser):
        parser.add_argument("workspace", help="The workspace's id or slug.")
        parser.add_argument(
            "--contact", help="The contact's id or external id (default: the whole feed)."
        )
        parser.add_argument("--output", "-o", help="The file to write (default: stdout).")
        parser.add_argument(
            "--type",
            action="append",
            default=[],
            dest="types",
            metavar="KEY",
            help="Only entries of this type; repeat for several.",
        )
        parser.add_argument(
            "--source",
            action="append",
            default=[],
            dest="sources",
            choices=Activity.Source.values,
            help="Only entries from this source; repeat for several.",
        )
        parser.add_argument("--since", metavar="YYYY-MM-DD", help="From this day on.")
        parser.add_argument("--until", metavar="YYYY-MM-DD", help="Up to this day, included.")
        parser.add_argument("--text", help="Only entries whose title or body holds this.")

    def handle(self, *args, workspace: str, contact: str | None, output: str | None, **options):
        found = workspace_named(workspace)
        query = QueryDict(mutable=True)
        query.setlist("type", options["types"])
        query.setlist("source", options["sources"])
        for name, key in (("since", "since"), ("until", "until"), ("text", "q")):
            if options[name]:
                query[key] = options[name]
        # No member: the command exports every entry, as an API token reads them.
        if contact is None:
            rows = timeline.feed_entries(found, None)
            filterset = FeedFilter(query, rows, workspace=found)
        else:
            rows = timeline.contact_entries(_contact(found, contact), None)
            filterset = TimelineFilter(query, rows, workspace=found)
        if not filterset.is_valid():
            raise CommandError("Invalid filters: " + filterset.errors.as_text())
        _small_page_cache()
        if output is None:
            for line in csv_lines(filterset.qs):
                self.stdout.write(line, ending="")
            return
        try:
            with open(output, "w", newline="", encoding="utf-8") as file:
                count = -1  # the header is no entry
                for count, line in enumerate(csv_lines(filterset.qs)):  # noqa: B007
                    file.write(line)
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror or error}") from None
        self.stdout.write(f"Wrote {count} entries to {output}.")


def _contact(workspace: Workspace, id_or_external_id: str) -> Contact:
    """The workspace's contact with this external id, or else with this id."""
    contacts = Contact.objects.in_workspace(workspace)
    found = contacts.filter(external_id=id_or_external_id).first()
    if found is None:
        with contextlib.suppress(ValueError):
            found = contacts.filter(pk=uuid.UUID(id_or_external_id)).first()
    if found is None:
        raise CommandError(f"No contact of {workspace.slug} has the id {id_or_external_id!r}.")
    return found


# SQLite's own default (2 MB), in place of the settings' 62.5 MiB.
EXPORT_PAGE_CACHE_KB = 2000


def _small_page_cache() -> None:
    """On SQLite, a small page cache for this connection: an export reads its entries'
    pages once each, and a large cache only keeps the ones read so far, so the process
    would grow by the whole cache however well the export streams."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = -{EXPORT_PAGE_CACHE_KB}")
