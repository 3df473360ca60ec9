"""A contact's activity per week over the last year, drawn on the server as SVG bars."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.utils import timezone

from activities.models import ActivityContact
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
    week: datetime
    count: int


@dataclass(frozen=True)
class WeeklyChart:
    bars: list[Bar]
    total: int
    width: int = WEEKS * (BAR_WIDTH + BAR_GAP)
    height: int = HEIGHT
    bar_width: int = BAR_WIDTH


def weekly_activity(contact: Contact, now: datetime | None = None) -> WeeklyChart:
    now = timezone.localtime(now or timezone.now())
    this_week = (now - timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    first_week = this_week - timedelta(weeks=WEEKS - 1)
    counts = {
        timezone.localtime(row["week"]).date(): row["count"]
        for row in ActivityContact.objects.filter(
            contact=contact, occurred_at__gte=first_week, occurred_at__lte=now
        )
        .annotate(week=TruncWeek("occurred_at"))
        .values("week")
        .annotate(count=Count("id"))
        .order_by()
    }
    weeks = [first_week + timedelta(weeks=i) for i in range(WEEKS)]
    tallest = max(counts.values(), default=0) or 1
    bars = []
    for index, week in enumerate(weeks):
        count = counts.get(week.date(), 0)
        height = max(round(count / tallest * HEIGHT), 2 if count else 1)
        bars.append(Bar(index * (BAR_WIDTH + BAR_GAP), HEIGHT - height, height, week, count))
    return WeeklyChart(bars=bars, total=sum(counts.values()))
