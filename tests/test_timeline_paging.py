"""Keyset paging: while new entries arrive between loads, every entry appears exactly once."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.timeline import Cursor
from tests.timeline_html import entry_ids, load_more_url


def test_paging_while_entries_arrive_shows_each_entry_once(owner_client, contact):
    start = timezone.now() - timedelta(days=10)
    existing = set()
    # Some entries share one timestamp, so the id must break ties.
    for index in range(130):
        activity, _ = services.log_activity(
            workspace=contact.workspace,
            type_key="call",
            contacts=[contact],
            title=f"Call {index}",
            occurred_at=start + timedelta(minutes=index // 3),
        )
        existing.add(activity.pk)
    seen = []
    response = owner_client.get(reverse("contact-detail", args=[contact.pk]))
    seen += entry_ids(response)
    while next_url := load_more_url(response):
        # A new entry (newest of all) and a backdated one arrive between two loads.
        services.log_activity(
            workspace=contact.workspace, type_key="email", contacts=[contact], title="new"
        )
        response = owner_client.get(next_url, headers={"HX-Request": "true"})
        seen += entry_ids(response)
    assert len(seen) == len(set(seen))
    assert set(seen) == existing


def test_feed_paging_while_entries_arrive_shows_each_entry_once(owner_client, contact):
    existing = set()
    moment = timezone.now() - timedelta(hours=1)
    for index in range(120):
        activity, _ = services.log_activity(
            workspace=contact.workspace,
            type_key="call",
            contacts=[contact],
            title=f"Call {index}",
            occurred_at=moment,
        )
        existing.add(activity.pk)
    seen = []
    response = owner_client.get(reverse("activity-feed"))
    seen += entry_ids(response)
    while next_url := load_more_url(response):
        services.log_activity(workspace=contact.workspace, type_key="email", title="new")
        response = owner_client.get(next_url, headers={"HX-Request": "true"})
        seen += entry_ids(response)
    assert len(seen) == len(set(seen)) == len(existing)
    assert set(seen) == existing


def test_cursor_round_trips_and_refuses_garbage():
    cursor = Cursor(timezone.now(), __import__("uuid").uuid4())
    assert Cursor.decode(cursor.encode()) == cursor
    for garbage in ["", "abc", "!!", Cursor.encode(cursor)[:-3] + "zzz", "MjAyNnxub3Q"]:
        try:
            Cursor.decode(garbage)
        except ValueError:
            continue
        raise AssertionError(f"{garbage!r} decoded")
