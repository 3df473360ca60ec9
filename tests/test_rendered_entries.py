"""Timeline entries are rendered once and reused (activities.views.render_entries): a
page shown again must show every change, each request's own CSRF field, and the same
HTML as a fresh rendering."""

import re
from datetime import datetime, timedelta

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from activities import services
from config import templating

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
MASKED_TOKEN = re.compile(r"\b[A-Za-z0-9]{64}\b")  # each one differs, form after form


@pytest.fixture(autouse=True)
def empty_cache():
    caches["rendered-entries"].clear()


def page(client, contact) -> str:
    response = client.get(reverse("contact-detail", args=[contact.pk]))
    assert response.status_code == 200
    return response.content.decode()


def log(contact, **fields):
    activity, _ = services.log_activity(
        workspace=contact.workspace, type_key="call", contacts=[contact], **fields
    )
    return activity


def test_a_page_shown_again_shows_what_changed_in_its_entries(owner_client, contact, actor):
    call = log(contact, title="Discovery call")
    note = services.add_note(contact=contact, content="First words", actor=actor)
    before = page(owner_client, contact)
    assert "First words" in before and "Thanks for the call" not in before
    log(contact, title="Thanks for the call", reply_to=call)
    log(contact, title="👍", react_to=call)
    services.edit_note(note=note, content="Second thoughts", actor=actor)
    after = page(owner_client, contact)
    assert "Thanks for the call" in after
    assert '<span class="reaction">👍 <b>1</b></span>' in after
    assert "Second thoughts" in after and "First words" not in after


def test_a_cached_entry_shows_the_time_as_it_is_now(owner_client, contact, monkeypatch):
    log(contact, title="Call", occurred_at=timezone.now() - timedelta(minutes=5))
    assert "5\xa0minutes ago" in page(owner_client, contact)

    class TwoHoursLater(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(hours=2)

    monkeypatch.setattr(templating, "datetime", TwoHoursLater)
    assert "2\xa0hours ago" in page(owner_client, contact)


def test_a_cached_entry_renders_as_a_fresh_one(owner_client, contact, actor):
    log(contact, title="Call", body="Notes: https://example.com/x")
    services.add_note(contact=contact, content="A note", actor=actor)
    fresh = page(owner_client, contact)
    cached = page(owner_client, contact)
    assert "<!-- csrf" not in cached
    assert MASKED_TOKEN.sub("", cached) == MASKED_TOKEN.sub("", fresh)


def test_each_viewer_gets_their_own_rights_and_csrf_field(contact, owner, teammate, actor):
    services.add_note(contact=contact, content="Alice's note", actor=actor)
    pages = {}
    for user in (owner, teammate):
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        pages[user.username] = (client, page(client, contact))
    # The owner (an admin) may edit the note; the teammate may not.
    assert "Edit</a>" in pages["alice"][1] and "Edit</a>" not in pages["bob"][1]
    client, html = pages["bob"]
    entry = html[html.index('<article class="entry') :]
    token = TOKEN.search(entry).group(1)
    activity_id = re.search(r'id="entry-([0-9a-f-]+)"', entry).group(1)
    pin = reverse("entry-pin", args=[contact.pk, activity_id])
    response = client.post(pin, {"csrfmiddlewaretoken": token})
    assert response.status_code in (200, 302)
