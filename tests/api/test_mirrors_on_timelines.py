"""What any API endpoint writes shows where people and integrations read: the contact's
timeline page and Invent's list of its activities (or, for other objects, the feed)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from activities import services
from activities.models import Activity
from contacts.models import Contact

ARTICLE = re.compile(r'<article[^>]* id="entry-(?P<id>[0-9a-f-]+)">.*?</article>', re.DOTALL)
LINK = re.compile(r'<([^>]+)>; rel="next"')


@pytest.fixture
def contact(contact):
    """Dana, whom Eloqua knows by her id in the CRM."""
    contact.external_id = "crm-1"
    contact.save(update_fields=["external_id"])
    return contact


@pytest.fixture
def fox(workspace) -> Contact:
    return Contact.objects.create(workspace=workspace, name="Fox Mulder")


def timeline_entries(client, contact) -> dict[str, str]:
    """The contact page's entries: id → the entry's HTML."""
    page = client.get(f"/contacts/{contact.pk}/")
    assert page.status_code == 200
    return {match["id"]: match[0] for match in ARTICLE.finditer(page.content.decode())}


def invent_types(api, workspace, contact) -> dict[str, str]:
    """Invent's list of the contact's activities: id → type key."""
    response = api.get(f"/orgs/{workspace.pk}/contacts/{contact.pk}/activities", {"take": 100})
    assert response.status_code == 200
    return {item["id"]: item["type"] for item in response.json()}


# Each poster writes through one endpoint and answers (entry id, type key, visible text).


def conquest(api, workspace, contact):
    response = api.post(
        "/v1/activities",
        {"activityTypeKey": "api:message", "memberId": str(contact.pk), "title": "Joined Slack"},
    )
    assert response.status_code == 200
    return response.json()["activity"]["id"], "api:message", "Joined Slack"


def activity_stream(api, workspace, contact):
    response = api.post(
        "/api/activity-entries",
        {
            "@type": "share",
            "actor": "Zendesk",
            "objectType": "contact",
            "objectId": str(contact.pk),
        },
    )
    assert response.status_code == 201
    return response.json()["id"], "stream:share", "Zendesk shared contact Dana Scully"


def reevo(api, workspace, contact):
    metadata = {"activity_time": "2024-05-02T09:30:00Z", "subject": "Pricing call"}
    response = api.post(
        "/api/v2/activity",
        {
            "attributes": {
                "metadata": metadata | {"category": "CALL"},
                "contact_ids": [str(contact.pk)],
            }
        },
    )
    assert response.status_code == 200
    return response.json()["data"]["id"], "call", "Pricing call"


def eloqua(api, workspace, contact):
    response = api.post(
        "/api/rest/2.0/data/activity",
        {
            "name": "Tradeshow 2021",
            "activityType": "Viewed a Demo",
            "activityDate": "1612460136",
            "contactId": contact.external_id,
        },
    )
    assert response.status_code == 201
    return response.json()["id"], "external:viewed-a-demo", "Tradeshow 2021"


def note(api, workspace, contact):
    response = api.post(
        f"/orgs/{workspace.pk}/contacts/{contact.pk}/notes", {"content": "Prefers email"}
    )
    assert response.status_code == 201
    entry = Activity.objects.get(note_id=response.json()["id"])
    return str(entry.pk), "note_created", "Prefers email"


def block(api, workspace, contact):
    response = api.post(f"/orgs/{workspace.pk}/contacts/{contact.pk}/block")
    assert response.status_code == 200
    entry = Activity.objects.get(links__contact=contact, type__key="contact_blocked")
    return str(entry.pk), "contact_blocked", "Blocked"


def add_to_segment(api, workspace, contact):
    segment = workspace.segments.create(name="Conference leads", color="green")
    path = f"/orgs/{workspace.pk}/segments/{segment.pk}/contacts/{contact.pk}"
    assert api.send("PUT", path).status_code == 200
    entry = Activity.objects.get(links__contact=contact, segment=segment)
    return str(entry.pk), "segment_added", "Added to Conference leads"


POSTERS = [conquest, activity_stream, reevo, eloqua, note, block, add_to_segment]


@pytest.mark.parametrize("post", POSTERS)
def test_what_is_posted_is_on_the_contacts_timeline_and_invent_list(
    post, api, owner_client, workspace, contact, fox
):
    entry_id, type_key, text = post(api, workspace, contact)

    entries = timeline_entries(owner_client, contact)
    assert text in entries[entry_id]
    assert invent_types(api, workspace, contact)[entry_id] == type_key
    assert entry_id not in timeline_entries(owner_client, fox)
    assert entry_id not in invent_types(api, workspace, fox)


def test_a_reevo_activity_of_two_contacts_is_on_both_timelines(
    api, owner_client, workspace, contact, fox
):
    metadata = {"activity_time": "2024-05-02T09:30:00Z", "subject": "Joint demo"}
    response = api.post(
        "/api/v2/activity",
        {"attributes": {"metadata": metadata, "contact_ids": [str(contact.pk), str(fox.pk)]}},
    )
    entry_id = response.json()["data"]["id"]

    for person in (contact, fox):
        assert "Joint demo" in timeline_entries(owner_client, person)[entry_id], person
        assert invent_types(api, workspace, person)[entry_id] == "other", person


def test_an_entry_about_another_object_is_in_the_feed_only(api, owner_client, workspace, contact):
    response = api.post(
        "/api/activity-entries",
        {"@type": "update", "actor": "Zendesk", "objectType": "case", "objectId": "1234"},
    )
    entry_id = response.json()["id"]

    assert "Zendesk updated case 1234" in owner_client.get("/activities/").content.decode()
    feed = api.get(f"/orgs/{workspace.pk}/activities", {"type": "stream:update"}).json()
    assert [(item["id"], item["title"], item["contact_ids"]) for item in feed] == [
        (entry_id, "Zendesk updated case 1234", [])
    ]
    assert entry_id not in timeline_entries(owner_client, contact)
    assert entry_id not in invent_types(api, workspace, contact)


def test_paging_sees_each_entry_once_while_the_mirrors_post(api, workspace, contact):
    """Entries posted meanwhile are seen once if older than the page reached, else never."""
    start = timezone.now() - timedelta(days=10)
    existing = set()
    for index in range(30):
        moment = start + timedelta(hours=index // 2)  # two to a time: the id breaks ties
        activity, _ = services.log_activity(
            workspace=workspace, type_key="call", contacts=[contact], occurred_at=moment
        )
        existing.add(str(activity.pk))
    path = f"/orgs/{workspace.pk}/contacts/{contact.pk}/activities"
    seen, backdated, posters = [], set(), iter([conquest, reevo, eloqua, activity_stream] * 3)

    response = api.get(path, {"take": 7})
    while True:
        assert response.status_code == 200
        seen += [item["id"] for item in response.json()]
        if not (link := LINK.match(response.get("Link", ""))):
            break
        entry_id, _, _ = next(posters)(api, workspace, contact)
        if Activity.objects.get(pk=entry_id).occurred_at < start:
            backdated.add(entry_id)
        response = api.get(link[1])

    assert len(seen) == len(set(seen))
    assert set(seen) == existing | backdated
    assert backdated  # Eloqua's activityDate is in 2021, before every existing entry
