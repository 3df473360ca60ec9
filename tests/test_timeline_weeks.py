"""The weekly counts behind the contact page's chart, kept by database triggers.

Each test changes timeline links through a different writer and checks the stored counts
against a count of the links themselves.
"""

import io
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse

from activities import services
from activities.models import Activity, ActivityContact, TimelineWeek
from contacts.models import Contact
from tests.timeline_html import chart_bars

MONDAY = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def monday_of(moment: datetime) -> date:
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def counted_links() -> Counter:
    return Counter(
        (contact_id, monday_of(occurred_at))
        for contact_id, occurred_at in ActivityContact.objects.values_list(
            "contact_id", "occurred_at"
        )
    )


def stored_counts() -> Counter:
    return Counter(
        {(row.contact_id, row.week): row.count for row in TimelineWeek.objects.filter(count__gt=0)}
    )


def log(contacts, when, **fields) -> Activity:
    activity, _ = services.log_activity(
        workspace=contacts[0].workspace,
        type_key="call",
        contacts=contacts,
        occurred_at=when,
        **fields,
    )
    return activity


@pytest.fixture
def fox(workspace) -> Contact:
    return Contact.objects.create(workspace=workspace, name="Fox Mulder")


def test_entries_count_in_the_week_of_each_of_their_contacts(contact, fox):
    log([contact, fox], MONDAY)
    log([contact], MONDAY + timedelta(days=6, hours=14))  # Sunday 23:30 UTC, same week
    log([contact], MONDAY - timedelta(hours=9, minutes=31))  # Sunday 23:59: the week before
    assert stored_counts() == counted_links()
    assert stored_counts()[(contact.pk, date(2026, 11, 2))] == 2
    assert stored_counts()[(contact.pk, date(2026, 10, 26))] == 1
    assert stored_counts()[(fox.pk, date(2026, 11, 2))] == 1


def test_moving_an_entry_to_another_week_moves_its_count(contact, fox):
    activity = log([contact, fox], MONDAY)
    activity.occurred_at = MONDAY + timedelta(weeks=3)
    services.save_activity_changes(activity)
    assert stored_counts() == counted_links()
    assert stored_counts()[(contact.pk, date(2026, 11, 23))] == 1
    assert stored_counts()[(contact.pk, date(2026, 11, 2))] == 0


def test_editing_an_entry_within_its_week_keeps_its_count(contact):
    activity = log([contact], MONDAY)
    activity.occurred_at = MONDAY + timedelta(days=2)
    activity.title = "Renamed"
    services.save_activity_changes(activity)
    services.pin_entry(contact=contact, activity=activity)
    assert stored_counts() == Counter({(contact.pk, date(2026, 11, 2)): 1})


def test_deleting_entries_and_contacts_takes_their_counts_away(contact, fox):
    shared = log([contact, fox], MONDAY)
    log([fox], MONDAY + timedelta(days=1))
    shared.delete()
    assert stored_counts() == counted_links() == Counter({(fox.pk, date(2026, 11, 2)): 1})
    fox.delete()
    assert not TimelineWeek.objects.filter(contact_id=fox.pk).exists()
    assert stored_counts() == counted_links() == Counter()


def test_imported_entries_are_counted(tmp_path, workspace, contact, fox):
    lines = ["external_id,type,occurred_at,contacts"] + [
        f"w{n},call,{(MONDAY + timedelta(days=n)).isoformat()},{(contact, fox)[n % 2].pk}"
        for n in range(20)
    ]
    path = tmp_path / "activities.csv"
    path.write_text("\n".join(lines) + "\n")
    call_command("import_activities", "acme", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert ActivityContact.objects.count() == 20
    assert stored_counts() == counted_links()


def test_the_chart_draws_the_stored_weeks(owner_client, contact):
    this_week = datetime.combine(monday_of(datetime.now(UTC)), time(0, 1), tzinfo=UTC)
    log([contact], this_week + timedelta(hours=2))
    log([contact], this_week - timedelta(days=3))
    log([contact], this_week - timedelta(days=4))
    log([contact], this_week - timedelta(weeks=60))  # older than the chart
    response = owner_client.get(reverse("contact-detail", args=[contact.pk]))
    last_week = this_week - timedelta(weeks=1)
    assert chart_bars(response)[-2:] == [
        (f"{last_week.day} {last_week:%b %Y}", 2),
        (f"{this_week.day} {this_week:%b %Y}", 1),
    ]
    assert b"3 entries in the last 52 weeks" in response.content


@pytest.mark.django_db
def test_demo_data_is_counted():
    call_command("seed_demo", contacts=30, activities=400, seed=3, stdout=io.StringIO())
    assert sum(stored_counts().values()) == ActivityContact.objects.count() > 400
    assert stored_counts() == counted_links()
