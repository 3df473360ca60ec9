"""The Jinja2 environment of the templates in `templates/jinja2/`.

The timeline's entries are rendered fifty to a page on the busiest pages, so they are
Jinja2 templates, compiled to Python, rather than Django templates, whose per-node
overhead made up most of a page's time. Everything else uses Django's templates; the
two engines share the helpers below, so an entry looks the same from either.
"""

import uuid
from datetime import datetime
from functools import lru_cache

from django.template.defaultfilters import capfirst, pluralize
from django.urls import get_script_prefix, reverse
from django.utils import dateformat, timezone
from django.utils.timesince import timesince
from jinja2 import Environment, StrictUndefined
from markupsafe import Markup

from contacts.templatetags.ui import icon


def url(name: str, *args) -> str:
    """`reverse(name, args=args)`. A page links each of its entries to the same few
    routes, whose arguments are ids: such a URL is its route's pattern with the ids filled
    in, the pattern reversed once per route."""
    if args and all(isinstance(arg, uuid.UUID) for arg in args):
        pattern = _id_pattern(get_script_prefix(), name, len(args))
        return pattern.format(*args)
    return reverse(name, args=args)


@lru_cache(maxsize=256)
def _id_pattern(script_prefix: str, name: str, count: int) -> str:
    stand_ins = [uuid.UUID(int=index + 1) for index in range(count)]
    pattern = reverse(name, args=stand_ins).replace("{", "{{").replace("}", "}}")
    for index, stand_in in enumerate(stand_ins):
        pattern = pattern.replace(str(stand_in), f"{{{index}}}")
    return pattern


def local_date(value, format_string: str) -> str:
    """Django's `date` filter: the time in the current zone, in Django's format syntax."""
    return dateformat.format(timezone.localtime(value), format_string) if value else ""


# "Tuesday 1 December 2026, 06:35", by strftime: Django's format engine costs several times more.
EXACT_TIME = "%A %-d %B %Y, %H:%M"


class _Unit:
    """A unit of `timesince` in English, singular or plural by its count."""

    def __init__(self, name: str):
        self.name = name

    def __mod__(self, values: dict) -> str:
        count = values["num"]
        return f"{count} {self.name}" if count == 1 else f"{count} {self.name}s"


ENGLISH_UNITS = {name: _Unit(name) for name in ("year", "month", "week", "day", "hour", "minute")}
UNDER_A_DAY = (
    (3600, "an hour", "hours"),
    (60, "a minute", "minutes"),
    (1, "a second", "seconds"),
)


def relative_time(value: datetime) -> str:
    """Django's `naturaltime` ("3 hours ago", "2 days, 4 hours from now"), in English,
    the site's one language, without its translation lookups: a page shows a hundred."""
    now = datetime.now(value.tzinfo)
    past = value < now
    delta = now - value if past else value - now
    suffix = "ago" if past else "from now"
    if delta.days:
        since = timesince(value, now, reversed=not past, time_strings=ENGLISH_UNITS)
        return f"{since} {suffix}"
    if not delta.seconds:
        return "now"
    for seconds, one, many in UNDER_A_DAY:
        if delta.seconds >= seconds:
            count = delta.seconds // seconds
            return f"{one} {suffix}" if count == 1 else f"{count}\xa0{many} {suffix}"
    raise AssertionError("unreachable")


def time_tag(value: datetime, zone) -> Markup:
    """`<time>` of a moment: relative, with the exact time in `zone` on hover (the page's
    zone, looked up once per page rather than once per entry)."""
    local = value.astimezone(zone)
    # Markup.format would escape each part through string.Formatter; these are digits,
    # English words and punctuation of our own making, with nothing to escape.
    return Markup(
        f'<time datetime="{local.isoformat()}" title="{local.strftime(EXACT_TIME)}">'
        f"{relative_time(value)}</time>"
    )


def entries(count: int) -> str:
    return f"{count} entr{pluralize(count, 'y,ies')}"


def environment(**options) -> Environment:
    # A name the view did not provide is an error, in development and in production alike.
    env = Environment(**options | {"undefined": StrictUndefined})
    env.globals.update(
        url=url, icon=lru_cache(maxsize=1024)(icon), entries=entries, time_tag=time_tag
    )
    env.filters.update(
        date=local_date,
        capfirst=capfirst,
    )
    return env
