"""The workspace feed: every contact's entries, the timeline's filters plus contact."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.services import TargetSpec
from contacts.models import Contact
from tests.timeline_html import entry_titles, load_more_url, older_entries_url


def log(workspace, contacts, title, type_key="call", **fields):
    activity, _ = services.log_activity(
        workspace=workspace, type_key=type_key, contacts=contacts, title=title, **fields
    )
    return activity


def test_feed_lists_every_contacts_entries_newest_first(owner_client, workspace, contact):
    other = Contact.objects.create(workspace=workspace, name="Walter Skinner")
    log(workspace, [contact], "First", occurred_at=timezone.now() - timedelta(hours=2))
    log(workspace, [other], "Second", occurred_at=timezone.now() - timedelta(hours=1))
    log(workspace, [], "About an account", object_type="account", object_id="A-1")
    response = owner_client.get(reverse("activity-feed"))
    assert response.status_code == 200
    assert entry_titles(response) == ["About an account", "Second", "First"]
    html = response.content.decode()
    assert f'href="/contacts/{other.pk}/">Walter Skinner</a>' in html
    assert "Account</span> A-1" in html


def test_feed_never_shows_another_workspace(owner_client, workspace, other_workspace, contact):
    log(other_workspace, [], "Their secret")
    log(workspace, [contact], "Ours")
    assert entry_titles(owner_client.get(reverse("activity-feed"))) == ["Ours"]


def test_feed_filters_by_contact(owner_client, workspace, contact):
    other = Contact.objects.create(workspace=workspace, name="Walter Skinner")
    log(workspace, [contact], "Dana's")
    log(workspace, [other], "Walter's")
    response = owner_client.get(reverse("activity-feed"), {"contact": other.pk})
    assert entry_titles(response) == ["Walter's"]
    assert response.context["feed_contact"] == other
    assert b"Everything that happened with" in response.content


def test_feed_refuses_another_workspaces_contact_as_filter(owner_client, outsider_contact):
    response = owner_client.get(reverse("activity-feed"), {"contact": outsider_contact.pk})
    assert response.status_code == 422


def test_feed_filters_by_type_and_text(owner_client, workspace, contact):
    log(workspace, [contact], "Pricing call")
    log(workspace, [contact], "Pricing email", type_key="email")
    log(workspace, [contact], "Other call")
    response = owner_client.get(reverse("activity-feed"), {"type": "call", "q": "pricing"})
    assert entry_titles(response) == ["Pricing call"]


def test_feed_hides_entries_targeted_at_others(teammate_client, workspace, contact, owner):
    log(workspace, [contact], "For Alice", targets=[TargetSpec(target_id=str(owner.pk))])
    log(workspace, [contact], "For all")
    assert entry_titles(teammate_client.get(reverse("activity-feed"))) == ["For all"]


def test_feed_htmx_answers(owner_client, workspace, contact):
    for index in range(60):
        log(workspace, [contact], f"Call {index}")
    fragment = owner_client.get(
        reverse("activity-feed"), headers={"HX-Request": "true", "HX-Target": "timeline"}
    )
    assert b"<html" not in fragment.content
    more = owner_client.get(load_more_url(fragment), headers={"HX-Request": "true"})
    assert b"<html" not in more.content
    assert len(entry_titles(fragment)) + len(entry_titles(more)) == 60
    no_js = owner_client.get(older_entries_url(fragment))
    assert b"<html" in no_js.content


def test_feed_query_count_is_fixed(owner_client, workspace, contact, django_assert_max_num_queries):
    others = [Contact.objects.create(workspace=workspace, name=f"C{i}") for i in range(5)]
    for index in range(60):
        log(workspace, [contact, others[index % 5]], f"Call {index}", type_key=f"kind:{index % 7}")
    owner_client.get(reverse("activity-feed"))  # a first request also saves the session
    # Session, user, memberships (with the header's workspaces); the page, its replies
    # and reactions; the filter's choices (types and actors, in one); the header's unread
    # count.
    with django_assert_max_num_queries(8):
        response = owner_client.get(reverse("activity-feed"))
    assert len(entry_titles(response)) == 50
    with django_assert_max_num_queries(6):
        more = owner_client.get(load_more_url(response), headers={"HX-Request": "true"})
    assert len(entry_titles(more)) == 10


def test_feed_export(owner_client, workspace, contact):
    log(workspace, [contact], "Exported")
    response = owner_client.get(reverse("activity-feed-csv"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row[3] for row in rows[1:]] == ["Exported"]
    assert response["Content-Disposition"] == 'attachment; filename="activities.csv"'


@pytest.mark.parametrize("name", ["activity-feed", "activity-feed-csv"])
def test_feed_needs_a_login(client, db, name):
    assert client.get(reverse(name)).status_code == 302


def test_feed_takes_only_safe_methods(owner_client):
    assert owner_client.post(reverse("activity-feed")).status_code == 405


@pytest.mark.parametrize(
    "query", [{"until": "9999-12-31"}, {"since": "0001-01-01"}, {"since": "9999-12-31"}]
)
def test_dates_at_the_ends_of_the_calendar_are_fine(owner_client, workspace, contact, query):
    log(workspace, [contact], "Any day")
    owner_client.cookies["tz"] = "Pacific/Kiritimati"
    response = owner_client.get(reverse("activity-feed"), query)
    assert response.status_code == 200
