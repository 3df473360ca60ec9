"""Timelines as CSV: the rows of the pages' export and of `manage.py export_timeline`.

One function builds the rows, so the page and the command give the same file for the same
filters. Entries are read in keyset chunks (`timeline.iter_all`), so memory stays flat
however long the timeline is.
"""

import csv
from collections.abc import Iterator

from django.db.models import QuerySet

from activities import timeline

CSV_HEADER = [
    "id",
    "occurred_at",
    "type",
    "title",
    "body",
    "actor",
    "source",
    "contacts",
    "external_id",
]


def csv_rows(entries: QuerySet) -> Iterator[list[str]]:
    """The header, then one row per entry (a contact's links or the feed's activities)."""
    yield CSV_HEADER
    for chunk in timeline.iter_all(entries):
        contacts = timeline.contact_names(chunk)
        for entry in chunk:
            yield safe_cells(
                [
                    entry.pk,
                    entry.occurred_at.isoformat(),
                    entry.type.key,
                    entry.title,
                    entry.body,
                    entry.actor_display,
                    entry.source,
                    "; ".join(contacts[entry.pk]),
                    entry.external_id or "",
                ]
            )


def csv_lines(entries: QuerySet) -> Iterator[str]:
    """The CSV text, one line (record) at a time, for a streaming response or a file."""
    writer = csv.writer(_Echo())
    for row in csv_rows(entries):
        yield writer.writerow(row)


class _Echo:
    def write(self, value: str) -> str:
        return value


def safe_cells(cells: list) -> list[str]:
    """Text that a spreadsheet would run as a formula starts with a quote instead."""
    return [f"'{cell}" if str(cell)[:1] in ("=", "+", "-", "@") else str(cell) for cell in cells]
