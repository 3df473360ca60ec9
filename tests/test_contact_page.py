"""The contact page: header, timeline, filters, infinite scroll, chart and export."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import Activity, ActivityContact, ActivityType, Attachment
from activities.services import AttachmentSpec, TargetSpec
from activities.timeline import PAGE_SIZE
from tests.timeline_html import chart_bars, entry_titles, load_more_url


def log(contact, type_key="call", *, title="Call", when=None, **fields):
    activity, _ = services.log_activity(
        workspace=contact.workspace,
        type_key=type_key,
        contacts=[contact],
        title=title,
        occurred_at=when,
        **fields,
    )
    return activity


def start_of_today():
    return timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)


def url(contact, **query):
    base = reverse("contact-detail", args=[contact.pk])
    return base, query


def test_contact_page_shows_header_and_newest_entries_first(owner_client, contact, segment, actor):
    services.add_to_segment(contact=contact, segment=segment, actor=actor)
    services.block_contact(contact=contact, actor=actor)
    log(contact, title="Older call", when=timezone.now() - timedelta(days=3))
    response = owner_client.get(reverse("contact-detail", args=[contact.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<h1 id="contact-name">Dana Scully</h1>' in html
    assert "dana@fbi.example" in html
    assert "Blocked</span>" in html
    assert 'class="chip color-purple"' in html
    titles = [e.title for g in response.context["groups"] for e in g.entries]
    assert titles == ["Blocked", "Added to VIP", "Older call"]


def test_day_headings_group_entries(owner_client, contact):
    now = timezone.now()
    # Never before midnight, whatever time the suite runs.
    log(contact, title="Today call", when=max(now - timedelta(minutes=5), start_of_today()))
    log(contact, title="Yesterday call", when=now - timedelta(days=1))
    log(contact, title="Old call", when=now - timedelta(days=40))
    log(contact, "meeting", title="Next week meeting", when=now + timedelta(days=7))
    response = owner_client.get(reverse("contact-detail", args=[contact.pk]))
    labels = [group.label for group in response.context["groups"]]
    assert labels[:3] == ["Upcoming", "Today", "Yesterday"]
    assert len(labels) == 4
    html = response.content.decode()
    assert html.index("Next week meeting") < html.index("Today call") < html.index("Old call")


def test_overdue_task_is_marked_and_done_task_is_not(owner_client, contact):
    log(contact, "task", title="Send the quote", when=timezone.now() - timedelta(days=2))
    log(
        contact,
        "task",
        title="Book the venue",
        when=timezone.now() - timedelta(days=2),
        done_at=timezone.now(),
    )
    html = owner_client.get(reverse("contact-detail", args=[contact.pk])).content.decode()
    overdue = html[html.index("Send the quote") :]
    assert "Overdue" in overdue[: overdue.index("</article>")]
    done = html[html.index("Book the venue") :]
    assert "Overdue" not in done[: done.index("</article>")]


def test_pinned_entry_stands_above_the_rest(owner_client, contact):
    key_note = log(contact, "other", title="Key fact", when=timezone.now() - timedelta(days=30))
    log(contact, title="Recent call")
    ActivityContact.objects.filter(activity=key_note).update(pinned=True)
    response = owner_client.get(reverse("contact-detail", args=[contact.pk]))
    assert response.context["pinned"].id == key_note.pk
    html = response.content.decode()
    assert html.index("Key fact") < html.index("Recent call")
    assert html.count(f'id="entry-{key_note.pk}"') == 1


def test_entry_shows_body_escaped_with_links_and_line_breaks(owner_client, contact):
    log(contact, title="<b>bold</b>", body="<script>alert(1)</script>\nsee https://example.com")
    html = owner_client.get(reverse("contact-detail", args=[contact.pk])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>" in html
    assert '<a href="https://example.com" rel="nofollow">https://example.com</a>' in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "<script>alert(1)" not in html


def test_entry_shows_meeting_attachments_references_replies_and_reactions(
    owner_client, contact, workspace
):
    meeting = log(
        contact,
        "meeting",
        title="Quarterly review",
        metadata={
            "kind": "meeting",
            "location": "Room 4",
            "start_date": "2026-01-05T10:00:00Z",
            "end_date": "2026-01-05T11:00:00Z",
            "participants": [{"name": "Fox Mulder", "is_host": True, "rsvp_status": "yes"}],
        },
        campaign_id="37",
        asset_type="Tradeshow",
        asset_name="Expo 2026",
        attachments=[AttachmentSpec(kind="link", url="https://example.com/deck", name="Deck")],
    )
    log(contact, "api:message", title="Thanks for the meeting", reply_to=meeting)
    log(contact, "api:reaction", title="👍", react_to=meeting)
    log(contact, "api:reaction", title="👍", react_to=meeting)
    response = owner_client.get(reverse("contact-detail", args=[contact.pk]))
    html = response.content.decode()
    assert "Room 4" in html and "Fox Mulder" in html and "(host)" in html
    assert '<a href="https://example.com/deck"' in html
    assert "Campaign</span> 37" in html and "Tradeshow</span> Expo 2026" in html
    assert '<ol class="replies"' in html and "Thanks for the meeting" in html
    assert '<span class="reaction">👍 <b>2</b></span>' in html
    top_level = [e.id for g in response.context["groups"] for e in g.entries]
    assert top_level == [meeting.pk]
    assert Attachment.objects.count() == 1


def test_entries_targeted_at_someone_else_are_hidden(teammate_client, contact, owner):
    log(contact, title="Visible to all")
    log(contact, title="Admins only", targets=[TargetSpec(target_id="administrators")])
    log(contact, title="For Alice", targets=[TargetSpec(target_id=owner.username)])
    html = teammate_client.get(reverse("contact-detail", args=[contact.pk])).content.decode()
    assert "Visible to all" in html
    assert "Admins only" not in html
    assert "For Alice" not in html


def test_admin_sees_entries_for_administrators(owner_client, contact):
    log(contact, title="Admins only", targets=[TargetSpec(target_id="administrators")])
    html = owner_client.get(reverse("contact-detail", args=[contact.pk])).content.decode()
    assert "Admins only" in html


def test_filter_by_several_types(owner_client, contact, actor):
    log(contact, "call", title="A call")
    log(contact, "email", title="An email")
    services.add_note(contact=contact, content="A note", actor=actor)
    response = owner_client.get(
        reverse("contact-detail", args=[contact.pk]), {"type": ["call", "note_created"]}
    )
    keys = {e.type.key for g in response.context["groups"] for e in g.entries}
    assert keys == {"call", "note_created"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"source": "api"}, {"From the API"}),
        ({"q": "renewal"}, {"Talked renewal"}),
        ({"q": "PRICING"}, {"Pricing call"}),
    ],
)
def test_filter_by_source_and_text(owner_client, contact, query, expected):
    log(contact, title="From the API", source="api")
    log(contact, title="Talked renewal")
    log(contact, title="Pricing call", body="We discussed pricing")
    response = owner_client.get(reverse("contact-detail", args=[contact.pk]), query)
    assert {e.title for g in response.context["groups"] for e in g.entries} == expected


def test_entry_names_its_actor(owner_client, contact, owner, teammate):
    """The name the entry was written with, else its user's full name or username, else
    "System" for the system's own entries."""
    named = log(contact, title="Named", actor=services.Actor.of(owner))
    by_user = log(contact, title="By user", actor=services.Actor.of(owner))
    by_login = log(contact, title="By login", actor=services.Actor.of(teammate))
    Activity.objects.filter(pk__in=[by_user.pk, by_login.pk]).update(actor_name="")
    teammate.first_name = ""
    teammate.save()
    log(contact, title="By the system")
    html = owner_client.get(reverse("contact-detail", args=[contact.pk])).content.decode()
    metas = {
        title: html.split(f">{title}</h4>")[1].split('<div class="entry__meta">')[1][:200]
        for title in ("Named", "By user", "By login", "By the system")
    }
    assert f"<span>{named.actor_name}</span>" in metas["Named"]
    assert f"<span>{owner.get_full_name()}</span>" in metas["By user"]
    assert f"<span>{teammate.username}</span>" in metas["By login"]
    assert "<span>System</span>" in metas["By the system"]


def test_filter_by_actor(owner_client, contact, owner, teammate):
    log(contact, title="By Alice", actor=services.Actor.of(owner))
    log(contact, title="By Bob", actor=services.Actor.of(teammate))
    response = owner_client.get(
        reverse("contact-detail", args=[contact.pk]), {"actor": teammate.pk}
    )
    assert [e.title for g in response.context["groups"] for e in g.entries] == ["By Bob"]


def test_filter_by_date_range_is_inclusive_of_both_days(owner_client, contact):
    now = timezone.localtime()
    for days in (1, 5, 10):
        log(contact, title=f"{days} days ago", when=now - timedelta(days=days))
    since = (now - timedelta(days=6)).date().isoformat()
    until = (now - timedelta(days=5)).date().isoformat()
    response = owner_client.get(
        reverse("contact-detail", args=[contact.pk]), {"since": since, "until": until}
    )
    assert [e.title for g in response.context["groups"] for e in g.entries] == ["5 days ago"]


def test_invalid_filter_answers_422_with_the_error(owner_client, contact):
    response = owner_client.get(
        reverse("contact-detail", args=[contact.pk]), {"type": "no-such-type", "since": "soon"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Select a valid choice" in html
    assert "Enter a valid date" in html


def test_filter_form_shows_the_filters_applied(owner_client, contact, owner):
    log(contact, title="A call")
    query = {
        "type": ["email", "call"],
        "source": "api",
        "actor": str(owner.pk),
        "since": "2026-01-02",
        "until": "2026-02-03",
        "q": 'renewal "Q3"',
    }
    html = owner_client.get(reverse("contact-detail", args=[contact.pk]), query).content.decode()
    checked = [tag for tag in html.split("<input ") if tag.startswith('type="checkbox"')]
    assert len(checked) > 10  # every type and source
    assert [tag.split('value="')[1].split('"')[0] for tag in checked if " checked>" in tag] == [
        "call",
        "email",
        "api",
    ]
    assert f'<option value="{owner.pk}" selected>{owner.username}</option>' in html
    assert '<option value="">Anyone</option>' in html
    assert 'name="since" id="id_since" value="2026-01-02"' in html
    assert 'name="until" id="id_until" value="2026-02-03"' in html
    assert 'id="id_q" value="renewal &#34;Q3&#34;"' in html
    assert '<details class="filters__more" open>' in html


def test_filter_form_offers_the_workspace_s_types_by_name_and_its_members_only(
    owner_client, contact, owner, teammate, outsider, other_workspace
):
    ActivityType.objects.create(workspace=other_workspace, key="theirs", name="A theirs")
    html = owner_client.get(reverse("contact-detail", args=[contact.pk])).content.decode()
    checkboxes = [
        tag for tag in html.split("<input ") if tag.startswith('type="checkbox" name="type"')
    ]
    labels = [tag.split("> ", 1)[1].split("</label>")[0] for tag in checkboxes]
    names = list(
        ActivityType.objects.in_workspace(contact.workspace)
        .order_by("name")
        .values_list("name", flat=True)
    )
    assert len(names) > 5 and labels == names
    assert 'value="theirs"' not in html
    actor_select = html.split('<select name="actor"')[1].split("</select>")[0]
    options = [option.split(">")[1].split("<")[0] for option in actor_select.split("<option")[1:]]
    assert options == ["Anyone", *sorted([owner.username, teammate.username])]


def test_unfiltered_form_has_nothing_chosen(owner_client, contact):
    html = owner_client.get(reverse("contact-detail", args=[contact.pk])).content.decode()
    assert " checked>" not in html
    assert '<option value="" selected>Anyone</option>' in html
    assert 'id="id_q">' in html and 'id="id_since">' in html
    assert '<details class="filters__more">' in html


def test_invalid_filters_are_marked_on_their_fields(owner_client, contact):
    query = {"actor": "nobody", "since": "soon"}
    html = owner_client.get(reverse("contact-detail", args=[contact.pk]), query).content.decode()
    assert 'id="id_actor" aria-invalid="true">' in html
    assert 'id="id_since" aria-invalid="true" value="soon"' in html
    assert 'id="id_until">' in html


def test_broken_cursor_answers_422_not_500(owner_client, contact):
    response = owner_client.get(reverse("contact-detail", args=[contact.pk]), {"cursor": "!!"})
    assert response.status_code == 422
    assert b"link to older entries is broken" in response.content


def test_htmx_filter_request_gets_the_timeline_fragment(owner_client, contact):
    log(contact, title="A call")
    response = owner_client.get(
        reverse("contact-detail", args=[contact.pk]),
        {"type": "call"},
        headers={"HX-Request": "true", "HX-Target": "timeline"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "A call" in html
    assert "HX-Request" in response["Vary"]


def test_history_restore_gets_the_whole_page(owner_client, contact):
    response = owner_client.get(
        reverse("contact-detail", args=[contact.pk]),
        headers={
            "HX-Request": "true",
            "HX-Target": "timeline",
            "HX-History-Restore-Request": "true",
        },
    )
    assert b"<html" in response.content


def test_timeline_pages_with_a_cursor_and_never_repeats_a_day_heading(owner_client, contact):
    # All on one day (the hour after noon four days ago), so that the second page continues
    # the first one's day whatever time the suite runs.
    start = start_of_today() - timedelta(days=4) + timedelta(hours=12)
    for index in range(PAGE_SIZE + 10):
        log(contact, title=f"Call {index}", when=start + timedelta(minutes=index))
    first = owner_client.get(reverse("contact-detail", args=[contact.pk]))
    next_url = load_more_url(first)
    assert next_url.startswith(reverse("contact-timeline", args=[contact.pk]))
    second = owner_client.get(next_url, headers={"HX-Request": "true"})
    assert second.status_code == 200
    html = second.content.decode()
    assert "<html" not in html
    assert 'class="day-heading' not in html
    assert load_more_url(second) is None
    first_titles, second_titles = entry_titles(first), entry_titles(second)
    assert len(first_titles) == PAGE_SIZE
    assert sorted(first_titles + second_titles) == sorted(
        f"Call {i}" for i in range(PAGE_SIZE + 10)
    )


def test_load_more_without_htmx_redirects_to_the_page(owner_client, contact):
    response = owner_client.get(reverse("contact-timeline", args=[contact.pk]), {"cursor": "x"})
    assert response.status_code == 302
    assert response["Location"] == reverse("contact-detail", args=[contact.pk]) + "?cursor=x"


@pytest.fixture
def busy_timeline(contact, workspace, actor, segment):
    """More than a page of entries with everything an entry can show: attachments, a
    second contact, replies, reactions, a note, a segment change, a pinned entry."""
    other = contact.__class__.objects.create(workspace=workspace, name="Walter Skinner")
    parents = []
    for index in range(PAGE_SIZE + 5):
        parent = log(
            contact,
            ["call", "email", "meeting", "api:message"][index % 4],
            title=f"Entry {index}",
            attachments=[AttachmentSpec(kind="link", url="https://example.com")],
        )
        ActivityContact.objects.create(
            activity=parent, contact=other, occurred_at=parent.occurred_at, type=parent.type
        )
        log(contact, "api:message", title="reply", reply_to=parent)
        log(contact, "api:reaction", title="+1", react_to=parent)
        parents.append(parent)
    services.add_note(contact=contact, content="note", actor=actor)
    services.add_to_segment(contact=contact, segment=segment, actor=actor)
    services.pin_entry(contact=contact, activity=parents[0])  # not on the first page
    return contact


# The contact page adds its header, segments, chart and filter choices to the timeline.
CONTACT_PAGE_QUERIES = 11
# Session, user, memberships; the contact; the page; its replies; its reactions.
TIMELINE_QUERIES = 7


@pytest.fixture
def member_client(owner_client, busy_timeline):
    """A member who has been on the page before: a first request also saves the session,
    and the first use of a connection checks the database's JSON support."""
    owner_client.get(reverse("contact-detail", args=[busy_timeline.pk]))
    return owner_client


def test_contact_page_query_count_is_fixed(
    member_client, busy_timeline, django_assert_max_num_queries
):
    with django_assert_max_num_queries(CONTACT_PAGE_QUERIES):
        response = member_client.get(reverse("contact-detail", args=[busy_timeline.pk]))
    titles = entry_titles(response)
    assert titles[:3] == ["Entry 0", "Added to VIP", "Note"]  # the pinned one first
    assert len(titles) == PAGE_SIZE + 1
    # Each call has a reply, a reaction, an attachment and a second contact.
    calls = PAGE_SIZE - 2 + 1
    assert response.content.count(b'class="reply"') == calls
    assert response.content.count(b'<span class="reaction">+1 <b>1</b></span>') == calls
    assert response.content.count(b'href="https://example.com"') == calls
    assert response.content.count(b">Walter Skinner</a>") == calls
    assert b'class="timeline-pinned"' in response.content


def test_contact_page_reads_without_server_side_cursors(member_client, busy_timeline):
    """A server-side cursor (PostgreSQL) costs three round trips: declare, fetch, close."""
    with CaptureQueriesContext(connection) as captured:
        member_client.get(reverse("contact-detail", args=[busy_timeline.pk]))
    assert not [query for query in captured if query["sql"].startswith("DECLARE")]


@pytest.mark.parametrize(
    "query, headers",
    [
        ({}, {"HX-Request": "true", "HX-Target": "timeline"}),  # the filter form, cleared
        ({"type": "call"}, {"HX-Request": "true", "HX-Target": "timeline"}),
        ({"q": "Entry"}, {"HX-Request": "true", "HX-Target": "timeline"}),
    ],
)
def test_filtered_timeline_query_count_is_fixed(
    member_client, busy_timeline, django_assert_max_num_queries, query, headers
):
    # Validating a type filter reads the workspace's types: one query more.
    expected = TIMELINE_QUERIES + ("type" in query)
    url = reverse("contact-detail", args=[busy_timeline.pk])
    with django_assert_max_num_queries(expected):
        response = member_client.get(url, query, headers=headers)
    assert entry_titles(response)
    assert b"<html" not in response.content


def test_load_more_query_count_is_fixed(owner_client, busy_timeline, django_assert_max_num_queries):
    page = owner_client.get(reverse("contact-detail", args=[busy_timeline.pk]))
    with django_assert_max_num_queries(TIMELINE_QUERIES):
        more = owner_client.get(load_more_url(page), headers={"HX-Request": "true"})
    # Entry 0, the pinned one, stands above the first page and not again in its place.
    assert entry_titles(more) == [f"Entry {index}" for index in range(6, 0, -1)]


def test_a_page_without_replies_or_reactions_reads_neither(
    owner_client, contact, django_assert_num_queries
):
    for index in range(PAGE_SIZE + 5):
        log(contact, title=f"Entry {index}")
    page = owner_client.get(reverse("contact-detail", args=[contact.pk]))
    with django_assert_num_queries(TIMELINE_QUERIES - 2):
        more = owner_client.get(load_more_url(page), headers={"HX-Request": "true"})
    assert entry_titles(more) == [f"Entry {index}" for index in range(4, -1, -1)]


def test_a_page_reads_the_replies_and_reactions_of_the_entries_that_have_them(
    owner_client, contact, django_assert_num_queries
):
    entries = [log(contact, title=f"Entry {index}") for index in range(PAGE_SIZE + 5)]
    log(contact, "api:message", title="First reply", reply_to=entries[1])
    page = owner_client.get(reverse("contact-detail", args=[contact.pk]))
    with django_assert_num_queries(TIMELINE_QUERIES - 1):  # the replies, not the reactions
        more = owner_client.get(load_more_url(page), headers={"HX-Request": "true"})
    assert more.content.count(b'class="reply"') == 1
    assert b"First reply" in more.content
    assert b'class="reactions"' not in more.content

    log(contact, "api:reaction", title="heart", react_to=entries[2])
    with django_assert_num_queries(TIMELINE_QUERIES):
        more = owner_client.get(load_more_url(page), headers={"HX-Request": "true"})
    assert b'<span class="reaction">heart <b>1</b></span>' in more.content
    assert b"First reply" in more.content


def test_a_reply_the_member_may_not_see_stays_hidden(teammate_client, contact, owner):
    call = log(contact, title="Call")
    only_owner = [TargetSpec(target_id=owner.username)]
    log(contact, "api:message", title="Private reply", reply_to=call, targets=only_owner)
    log(contact, "api:reaction", title="heart", react_to=call, targets=only_owner)
    response = teammate_client.get(reverse("contact-detail", args=[contact.pk]))
    assert entry_titles(response) == ["Call"]
    assert b"Private reply" not in response.content
    assert b'class="reactions"' not in response.content


def test_chart_counts_entries_per_week(owner_client, contact):
    now = timezone.now()
    this_week = start_of_today() - timedelta(days=now.weekday())
    log(contact, when=this_week)
    log(contact, when=now)
    log(contact, when=now - timedelta(days=400))
    response = owner_client.get(reverse("contact-detail", args=[contact.pk]))
    bars = chart_bars(response)
    assert len(bars) == 52
    assert bars[-1] == (f"{this_week.day} {this_week:%b %Y}", 2)
    assert sum(count for _, count in bars) == 2
    assert b"<svg viewBox" in response.content
    assert b"2 entries in the last 52 weeks" in response.content


def test_csv_export_streams_the_filtered_timeline(owner_client, contact):
    log(contact, "call", title="=HYPERLINK(evil)")
    log(contact, "email", title="An email")
    response = owner_client.get(
        reverse("contact-timeline-csv", args=[contact.pk]), {"type": "call"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["id", "occurred_at", "type"]
    assert len(rows) == 2
    assert rows[1][2] == "call"
    assert rows[1][3] == "'=HYPERLINK(evil)"
    assert rows[1][7] == "Dana Scully"


def test_csv_export_with_invalid_filters_is_422(owner_client, contact):
    response = owner_client.get(
        reverse("contact-timeline-csv", args=[contact.pk]), {"since": "never"}
    )
    assert response.status_code == 422


@pytest.mark.parametrize("name", ["contact-detail", "contact-timeline", "contact-timeline-csv"])
def test_another_workspaces_contact_is_404(owner_client, outsider_contact, name):
    response = owner_client.get(
        reverse(name, args=[outsider_contact.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 404


def test_contact_page_needs_a_login(client, contact):
    response = client.get(reverse("contact-detail", args=[contact.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_contact_page_takes_only_safe_methods(owner_client, contact):
    assert owner_client.post(reverse("contact-detail", args=[contact.pk])).status_code == 405


def test_empty_timeline_says_what_to_do(owner_client, contact):
    html = owner_client.get(reverse("contact-detail", args=[contact.pk])).content.decode()
    assert "Nothing on Dana Scully's timeline yet" in html


def test_no_match_says_so(owner_client, contact):
    log(contact, title="A call")
    html = owner_client.get(
        reverse("contact-detail", args=[contact.pk]), {"q": "zzz"}
    ).content.decode()
    assert "No entries match these filters" in html


def test_shared_entry_names_the_other_contacts(owner_client, contact, workspace):
    other = contact.__class__.objects.create(workspace=workspace, name="Walter Skinner")
    services.log_activity(
        workspace=workspace, type_key="meeting", contacts=[contact, other], title="Joint meeting"
    )
    html = owner_client.get(reverse("contact-detail", args=[contact.pk])).content.decode()
    assert f'href="/contacts/{other.pk}/">Walter Skinner</a>' in html
    assert Activity.objects.count() == 1
