"""A contact's activity per week over the last year, drawn on the server as SVG bars.

The counts come from `TimelineWeek` (kept by database triggers): 52 rows, however many
entries the contact has. Weeks start on Monday 00:00 UTC.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.utils import timezone

from activities.models import TimelineWeek
from contacts.models import Contact

WEEKS = 52
BAR_WIDTH = 6
BAR_GAP = 2
HEIGHT = 48


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    height: int
    week: date
    count: int


@dataclass(frozen=True)
class WeeklyChart:
    bars: list[Bar]
    total: int
    width: int = WEEKS * (BAR_WIDTH + BAR_GAP)
    height: int = HEIGHT
    bar_width: int = BAR_WIDTH


def weekly_activity(contact: Contact, now: datetime | None = None) -> WeeklyChart:
    today = (now or timezone.now()).astimezone(UTC).date()
    this_week = today - timedelta(days=today.weekday())
    weeks = [this_week - timedelta(weeks=WEEKS - 1 - i) for i in range(WEEKS)]
    counts: dict[date, int] = dict(
        TimelineWeek.objects.filter(
            contact=contact, week__gte=weeks[0], week__lte=this_week, count__gt=0
        ).values_list("week", "count")
    )
    tallest = max(counts.values(), default=0) or 1
    bars = []
    for index, week in enumerate(weeks):
        count = counts.get(week, 0)
        height = max(round(count / tallest * HEIGHT), 2 if count else 1)
        bars.append(Bar(index * (BAR_WIDTH + BAR_GAP), HEIGHT - height, height, week, count))
    return WeeklyChart(bars=bars, total=sum(counts.values()))
