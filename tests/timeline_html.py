"""Reading a rendered timeline (a page or an htmx fragment) as a person or htmx sees it."""

import re
import uuid
from html import unescape

ENTRY_ID = re.compile(r'<article class="entry[^"]*" id="entry-([0-9a-f-]{36})"')
TITLE = re.compile(r'<h4 class="entry__title">(.*?)</h4>', re.S)
LOAD_MORE = re.compile(r'<div class="load-more" hx-get="([^"]+)"')
OLDER_LINK = re.compile(r'<a class="button" href="([^"]+)">Older entries</a>')


def entry_ids(response) -> list[uuid.UUID]:
    return [uuid.UUID(found) for found in ENTRY_ID.findall(response.content.decode())]


def entry_titles(response) -> list[str]:
    return [unescape(found) for found in TITLE.findall(response.content.decode())]


def load_more_url(response) -> str | None:
    """The URL infinite scroll loads next (the load-more block's hx-get), if any."""
    found = LOAD_MORE.search(response.content.decode())
    return unescape(found.group(1)) if found else None


def older_entries_url(response) -> str | None:
    """The plain link to older entries, for browsers without JavaScript."""
    found = OLDER_LINK.search(response.content.decode())
    return unescape(found.group(1)) if found else None


CHART_BAR = re.compile(r"<title>Week of (\d+ \w+ \d{4}): (\d+) entr(?:y|ies)</title>")


def chart_bars(response) -> list[tuple[str, int]]:
    """The weekly chart's bars, oldest first: ("2 Nov 2026", count)."""
    return [(week, int(count)) for week, count in CHART_BAR.findall(response.content.decode())]
