"""The Jinja2 environment of the templates in `templates/jinja2/`.

The timeline's entries are rendered fifty to a page on the busiest pages, so they are
Jinja2 templates, compiled to Python, rather than Django templates, whose per-node
overhead made up most of a page's time. Everything else uses Django's templates; the
two engines share the helpers below, so an entry looks the same from either.
"""

from functools import lru_cache

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template.defaultfilters import capfirst, pluralize
from django.urls import reverse
from django.utils import dateformat, timezone
from jinja2 import Environment, StrictUndefined

from contacts.templatetags.ui import icon


def url(name: str, *args) -> str:
    return reverse(name, args=args)


def local_date(value, format_string: str) -> str:
    """Django's `date` filter: the time in the current zone, in Django's format syntax."""
    return dateformat.format(timezone.localtime(value), format_string) if value else ""


def iso_time(value) -> str:
    """The time in the current zone in ISO 8601, for `<time datetime>`."""
    return timezone.localtime(value).isoformat()


def exact_time(value) -> str:
    """ "Tuesday 1 December 2026, 06:35" in the current zone (strftime: several times
    faster than Django's format engine, which a page of entries calls a hundred times)."""
    return timezone.localtime(value).strftime("%A %-d %B %Y, %H:%M")


def entries(count: int) -> str:
    return f"{count} entr{pluralize(count, 'y,ies')}"


def environment(**options) -> Environment:
    # A name the view did not provide is an error, in development and in production alike.
    env = Environment(**options | {"undefined": StrictUndefined})
    env.globals.update(url=url, icon=lru_cache(maxsize=1024)(icon), entries=entries)
    env.filters.update(
        date=local_date,
        iso_time=iso_time,
        exact_time=exact_time,
        naturaltime=naturaltime,
        capfirst=capfirst,
    )
    return env
